// Command docgen regenerates the README sections that come from code: the
// tool reference (from the registered tools) and the sandbox number table.
// `go run ./internal/docgen` rewrites README.md in place; the test in this
// package fails when README.md is out of date.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sirupsen/logrus"
)

func main() {
	path := "README.md"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	old, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	updated, err := render(string(old))
	if err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(path, []byte(updated), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

// render returns readme with its generated sections replaced.
func render(readme string) (string, error) {
	toolsMD, err := toolsSection()
	if err != nil {
		return "", err
	}
	out, err := replaceSection(readme, "TOOLS", toolsMD)
	if err != nil {
		return "", err
	}
	return replaceSection(out, "SANDBOX NUMBERS", numbersSection())
}

func replaceSection(doc, name, body string) (string, error) {
	begin := "<!-- BEGIN " + name
	end := "<!-- END " + name + " -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("README has no %q ... %q markers", begin, end)
	}
	lineEnd := strings.Index(doc[i:], "\n") + i + 1
	return doc[:lineEnd] + body + doc[j:], nil
}

// toolsSection documents every tool the server registers.
func toolsSection() (string, error) {
	cfg := config.Defaults()
	cfg.Sandbox = true
	log := logrus.New()
	log.SetOutput(io.Discard)
	a, err := app.New(cfg, log, app.Options{})
	if err != nil {
		return "", err
	}
	defer a.Close()
	tools := a.Server.MCP().ListTools()
	names := make([]string, 0, len(tools))
	for name := range tools {
		names = append(names, name)
	}
	order := map[string]int{"place_call": 0, "wait_for_call": 1, "get_call": 2, "list_calls": 3, "place_calls": 4, "wait_for_campaign": 5, "cancel_campaign": 6,
		"list_campaigns": 7, "pause_campaign": 8, "resume_campaign": 9, "retry_campaign": 10}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	var b strings.Builder
	for _, name := range names {
		t := tools[name].Tool
		writeTool(&b, t)
	}
	return b.String(), nil
}

func writeTool(b *strings.Builder, t mcp.Tool) {
	hint := "read-only"
	if t.Annotations.ReadOnlyHint != nil && !*t.Annotations.ReadOnlyHint {
		hint = "places calls (not read-only, not idempotent, open-world)"
		if t.Annotations.IdempotentHint != nil && *t.Annotations.IdempotentHint {
			hint = "changes what will be dialled (not read-only, idempotent)"
		}
	}
	fmt.Fprintf(b, "### `%s` — %s\n\n%s\n\n*%s*\n\n", t.Name, t.Title, t.Description, hint)
	var schema struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	_ = json.Unmarshal(t.RawInputSchema, &schema)
	required := map[string]bool{}
	for _, r := range schema.Required {
		required[r] = true
	}
	props := make([]string, 0, len(schema.Properties))
	for p := range schema.Properties {
		props = append(props, p)
	}
	sort.Slice(props, func(i, j int) bool {
		if required[props[i]] != required[props[j]] {
			return required[props[i]]
		}
		return props[i] < props[j]
	})
	b.WriteString("| parameter | type | required | description |\n|---|---|---|---|\n")
	for _, p := range props {
		s := schema.Properties[p]
		typ, _ := s["type"].(string)
		if enum, ok := s["enum"].([]any); ok {
			parts := make([]string, len(enum))
			for i, e := range enum {
				parts[i] = fmt.Sprint(e)
			}
			typ += " (" + strings.Join(parts, ", ") + ")"
		}
		if typ == "array" {
			typ = "array of objects"
			if items, _ := s["items"].(map[string]any); items["type"] == "string" {
				typ = "array of strings"
				if enum, ok := items["enum"].([]any); ok {
					parts := make([]string, len(enum))
					for i, e := range enum {
						parts[i] = fmt.Sprint(e)
					}
					typ += " (" + strings.Join(parts, ", ") + ")"
				}
			}
		}
		req := ""
		if required[p] {
			req = "yes"
		}
		desc, _ := s["description"].(string)
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", p, typ, req, strings.ReplaceAll(desc, "|", "\\|"))
	}
	b.WriteString("\n")
}

// numbersSection is the sandbox's documented number table.
func numbersSection() string {
	var b strings.Builder
	b.WriteString("| destination | outcome | what happens |\n|---|---|---|\n")
	for _, n := range sandbox.Numbers() {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", n.Number, n.Outcome, strings.ReplaceAll(n.Description, "|", "\\|"))
	}
	return b.String()
}
