// Command baremcp is the cold-start floor of scripts/bench: a bare mcp-go
// server with no tools, built from the module versions bys-mcp uses, serving
// stdio. It links the same mcp-go packages (and so runs the same package
// initialisation) and nothing of bys-mcp.
package main

import (
	"fmt"
	"os"

	"github.com/mark3labs/mcp-go/server"
)

func main() {
	s := server.NewMCPServer("baremcp", "0.0.0")
	if err := server.ServeStdio(s); err != nil {
		fmt.Fprintln(os.Stderr, "baremcp:", err)
		os.Exit(1)
	}
}
