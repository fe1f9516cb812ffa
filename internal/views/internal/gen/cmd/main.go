// Command cmd writes the views' documents (internal/views/assets/*.html)
// from their sources (internal/views/assets/src); views.go runs it with
// go generate ./internal/views, from the folder internal/views.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/byourside/bys-mcp/internal/views/internal/gen"
)

func main() {
	src := flag.String("src", "assets/src", "the folder of the page templates and shared pieces")
	out := flag.String("out", "assets", "the folder the documents are written to")
	flag.Parse()
	docs, err := gen.Build(os.DirFS(*src))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		file := filepath.Join(*out, name)
		if old, err := os.ReadFile(file); err == nil && bytes.Equal(old, docs[name]) {
			continue
		}
		if err := os.WriteFile(file, docs[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("wrote %s (%d bytes)\n", file, len(docs[name]))
	}
}
