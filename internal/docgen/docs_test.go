package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEIsUpToDate fails when the generated README sections differ from
// what the code registers; run `go run ./internal/docgen` to refresh them.
func TestREADMEIsUpToDate(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := render(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	if want != string(readme) {
		t.Fatal("README.md is out of date with the registered tools or the sandbox numbers: run `go run ./internal/docgen` and commit the result")
	}
	for _, name := range []string{"place_call", "get_call", "list_calls", "wait_for_call", "+14155550007"} {
		if !strings.Contains(want, name) {
			t.Errorf("generated README lacks %s", name)
		}
	}
}

func TestReplaceSectionNeedsMarkers(t *testing.T) {
	if _, err := replaceSection("no markers here", "TOOLS", "x"); err == nil {
		t.Fatal("replaceSection accepted a document without markers")
	}
}
