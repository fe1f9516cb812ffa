package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

var getenv = os.Getenv

// runDemo narrates a whole session against the sandbox.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "demo: not built yet")
	return 1
}
