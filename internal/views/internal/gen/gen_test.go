package gen_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/byourside/bys-mcp/internal/views/internal/gen"
)

const layout = "<!DOCTYPE html>\n<title><!-- slot title --></title>\n<style>\n<!-- include a.css -->\n<!-- slot style -->\n</style>\n"

func TestBuild(t *testing.T) {
	src := fstest.MapFS{
		"shared/page.html": {Data: []byte(layout)},
		"shared/a.css":     {Data: []byte("a {}")},
		"p.html":           {Data: []byte("<!-- layout page.html -->\n<!-- define title -->\nP\n<!-- define style -->\np {}\nq {}\n")},
		"whole.html":       {Data: []byte("<!DOCTYPE html>\r\n<style>\r\n<!-- include a.css -->\r\n</style>\r\n")},
	}
	docs, err := gen.Build(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"p.html":     "<!DOCTYPE html>\n" + gen.Header + "<title>P</title>\n<style>\na {}\np {}\nq {}\n</style>\n",
		"whole.html": "<!DOCTYPE html>\n" + gen.Header + "<style>\na {}\n</style>\n",
	}
	if len(docs) != len(want) {
		t.Errorf("%d documents, want %d", len(docs), len(want))
	}
	for name, w := range want {
		if got := string(docs[name]); got != w {
			t.Errorf("%s =\n%s\nwant\n%s", name, got, w)
		}
	}
}

func TestBuildRefuses(t *testing.T) {
	page := "<!-- layout page.html -->\n<!-- define title -->\nP\n<!-- define style -->\n"
	for _, tc := range []struct {
		name, page, layout, want string
	}{
		{"no such piece", page, strings.Replace(layout, "a.css", "b.css", 1), "no shared piece b.css"},
		{"no such layout", strings.Replace(page, "page.html", "other.html", 1), layout, "no shared piece other.html"},
		{"a slot not defined", strings.Replace(page, "<!-- define style -->\n", "", 1), layout, "defines no style"},
		{"a define with no slot", page + "<!-- define extra -->\nx\n", layout, "defines extra, which page.html has no slot for"},
		{"a define twice", page + "<!-- define style -->\n", layout, "defines style twice"},
		{"lines before the first define", "<!-- layout page.html -->\nstray\n<!-- define title -->\nP\n<!-- define style -->\n", layout, "comes before the first define"},
		{"an inline slot of two lines", strings.Replace(page, "P\n", "P\nQ\n", 1), layout, "takes one line; it has 2"},
		{"an include not alone on its line", page, strings.Replace(layout, "<!-- include a.css -->", "x <!-- include a.css -->", 1), `"<!-- include" is left`},
		{"no doctype", page, strings.TrimPrefix(layout, "<!DOCTYPE html>\n"), "does not start with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fstest.MapFS{
				"shared/page.html": {Data: []byte(tc.layout)},
				"shared/a.css":     {Data: []byte("a {}\n")},
				"p.html":           {Data: []byte(tc.page)},
			}
			_, err := gen.Build(src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one with %q", err, tc.want)
			}
		})
	}
	t.Run("an unused piece", func(t *testing.T) {
		src := fstest.MapFS{"shared/a.css": {Data: []byte("a {}\n")}, "p.html": {Data: []byte("<!DOCTYPE html>\n")}}
		if _, err := gen.Build(src); err == nil || !strings.Contains(err.Error(), "a.css is used by no page") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a piece that includes", func(t *testing.T) {
		src := fstest.MapFS{"shared/a.css": {Data: []byte("<!-- include b.css -->\n")}, "shared/b.css": {Data: []byte("b {}\n")}, "p.html": {Data: []byte("<!DOCTYPE html>\n<!-- include a.css -->\n")}}
		if _, err := gen.Build(src); err == nil || !strings.Contains(err.Error(), "is left in the document") {
			t.Errorf("err = %v", err)
		}
	})
}
