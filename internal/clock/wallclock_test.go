package clock_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// exempt are the folders (from the module root) whose code may read the
// wall clock: this package (it is the seam), the suites that drive the
// binary from outside, test helpers, and generators that run at build time.
var exempt = []string{"internal/clock", "test", "internal/testkit", "internal/state/redistest"}

// wallClockReads are the functions of package time that read the wall
// clock. Timers and sleeps are durations, not dates, and stay allowed.
var wallClockReads = map[string]bool{"Now": true, "Since": true, "Until": true}

// TestProductCodeReadsTheClockSeamOnly fails when a product package reads
// the wall clock directly instead of the Clock it was given: such code
// cannot be moved by a test's fake time, and a test of it then passes or
// fails by the hour it runs at.
func TestProductCodeReadsTheClockSeamOnly(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "gen" && strings.HasSuffix(filepath.Dir(rel), "internal")) {
				return filepath.SkipDir
			}
			for _, e := range exempt {
				if rel == e {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		found = append(found, wallClockReadsIn(t, path, rel)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("read only %d product files under %s: the walk is wrong", files, root)
	}
	for _, f := range found {
		t.Errorf("%s reads the wall clock: take the time from the clock.Clock the package was given (internal/clock), so tests can move it", f)
	}
}

// wallClockReadsIn lists the places in one file that use time.Now,
// time.Since or time.Until, called or passed as a value, whatever name the
// time package is imported under.
func wallClockReadsIn(t *testing.T, path, rel string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	name := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "time" {
			name = "time"
			if imp.Name != nil {
				name = imp.Name.Name
			}
		}
	}
	if name == "" || name == "_" {
		return nil
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if id, ok := sel.X.(*ast.Ident); ok && id.Name == name && wallClockReads[sel.Sel.Name] {
			out = append(out, rel+":"+strconv.Itoa(fset.Position(sel.Pos()).Line)+" (time."+sel.Sel.Name+")")
		}
		return true
	})
	return out
}
