// Command gen writes schema/defaults.json from the Go types (run through
// `go generate ./schema`).
package main

import (
	"fmt"
	"os"

	"github.com/byourside/bys-mcp/schema"
)

func main() {
	out, err := schema.MarshalDefaults()
	if err == nil {
		err = os.WriteFile("defaults.json", out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema gen:", err)
		os.Exit(1)
	}
}
