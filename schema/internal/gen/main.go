// Command gen writes schema/defaults_gen.go from the Go types (run through
// `go generate ./schema`).
package main

import (
	"fmt"
	"os"

	"github.com/byourside/bys-mcp/schema/schemagen"
)

func main() {
	out, err := schemagen.GoSource()
	if err == nil {
		err = os.WriteFile("defaults_gen.go", out, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schema gen:", err)
		os.Exit(1)
	}
}
