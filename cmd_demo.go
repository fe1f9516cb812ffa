package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/byourside/bys-mcp/internal/demo"
)

var getenv = os.Getenv

// runDemo narrates a whole session against the sandbox and exits 0 when the
// flow worked.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: bys-mcp demo   (runs a narrated session against the built-in sandbox; no flags)")
		return 2
	}
	if err := demo.Run(ctx, stdout, demo.Options{}); err != nil {
		fmt.Fprintln(stderr, "demo failed:", err)
		return 1
	}
	return 0
}
