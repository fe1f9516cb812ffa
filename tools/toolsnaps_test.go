package tools_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// toolNames are the eleven tools, in the order the snapshots are checked.
var toolNames = []string{"place_call", "get_call", "list_calls", "wait_for_call", "place_calls", "wait_for_campaign", "cancel_campaign",
	"list_campaigns", "pause_campaign", "resume_campaign", "retry_campaign"}

// TestToolSnapshots compares each tool's definition, as tools/list returns
// it, with testdata/toolsnaps/<tool>.json. UPDATE_TOOLSNAPS=1 rewrites them.
func TestToolSnapshots(t *testing.T) {
	c := connect(t, newApp(t, nil))
	if len(c.tools) != len(toolNames) {
		t.Errorf("tools/list returned %d tools, want %d", len(c.tools), len(toolNames))
	}
	for _, name := range toolNames {
		t.Run(name, func(t *testing.T) {
			tool, ok := c.tools[name]
			if !ok {
				t.Fatalf("tools/list has no %s", name)
			}
			got := toolJSON(t, tool)
			path := filepath.Join("testdata", "toolsnaps", name+".json")
			if os.Getenv("UPDATE_TOOLSNAPS") != "" {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("no snapshot for %s (%v): run UPDATE_TOOLSNAPS=1 go test ./tools/ and review the new file", name, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the definition of %s differs from %s; if the change is intended, run UPDATE_TOOLSNAPS=1 go test ./tools/ and review the diff\n%s",
					name, path, lineDiff(string(want), string(got)))
			}
		})
	}
}

// toolJSON renders a tool definition as indented JSON, one trailing newline.
func toolJSON(t *testing.T, raw json.RawMessage) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// lineDiff is a small line diff: the first differing lines with context,
// "-" for the snapshot and "+" for what tools/list returned.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	// Longest common subsequence over lines: the snapshots are small.
	n, m := len(w), len(g)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if w[i] == g[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	shown := 0
	i, j := 0, 0
	for (i < n || j < m) && shown < 60 {
		switch {
		case i < n && j < m && w[i] == g[j]:
			i++
			j++
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			fmt.Fprintf(&b, "%4d + %s\n", j+1, g[j])
			j++
			shown++
		default:
			fmt.Fprintf(&b, "%4d - %s\n", i+1, w[i])
			i++
			shown++
		}
	}
	if shown == 60 {
		b.WriteString("     ... (more differences)\n")
	}
	return b.String()
}

// schemaOf decodes one of a tool's schemas ("inputSchema" or
// "outputSchema") as tools/list returns it.
func schemaOf(t *testing.T, raw json.RawMessage, which string) map[string]any {
	t.Helper()
	var def map[string]any
	if err := json.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	s, ok := def[which].(map[string]any)
	if !ok {
		t.Fatalf("%s has no %s", def["name"], which)
	}
	return s
}

// toolDef decodes a tool definition as tools/list sent it.
func toolDef(t *testing.T, raw json.RawMessage) mcp.Tool {
	t.Helper()
	var tool mcp.Tool
	if err := json.Unmarshal(raw, &tool); err != nil {
		t.Fatal(err)
	}
	return tool
}

// walkSchema calls visit on every schema object under s, with its path.
func walkSchema(path string, s any, visit func(path string, node map[string]any)) {
	switch n := s.(type) {
	case map[string]any:
		visit(path, n)
		keys := make([]string, 0, len(n))
		for k := range n {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkSchema(path+"/"+k, n[k], visit)
		}
	case []any:
		for i, v := range n {
			walkSchema(fmt.Sprintf("%s/%d", path, i), v, visit)
		}
	}
}

func TestToolSchemasAreInlineWithoutRefsDefsOrDialect(t *testing.T) {
	c := connect(t, newApp(t, nil))
	for _, name := range toolNames {
		for _, which := range []string{"inputSchema", "outputSchema"} {
			walkSchema(name+"."+which, schemaOf(t, c.tools[name], which), func(path string, node map[string]any) {
				for _, k := range []string{"$ref", "$defs", "definitions", "$schema", "$id"} {
					if _, ok := node[k]; ok {
						t.Errorf("%s has %s", path, k)
					}
				}
			})
		}
	}
}

func TestInputSchemasAreClosedObjectsWithRequiredListsAndDescribedProperties(t *testing.T) {
	c := connect(t, newApp(t, nil))
	wantRequired := map[string][]string{
		"place_call":        {"objective", "to"},
		"get_call":          {"callId"},
		"list_calls":        nil,
		"wait_for_call":     {"callId"},
		"place_calls":       {"calls"},
		"wait_for_campaign": {"campaignId"},
		"cancel_campaign":   {"campaignId"},
		"list_campaigns":    nil,
		"pause_campaign":    {"campaignId"},
		"resume_campaign":   {"campaignId"},
		"retry_campaign":    {"campaignId"},
	}
	for _, name := range toolNames {
		t.Run(name, func(t *testing.T) {
			in := schemaOf(t, c.tools[name], "inputSchema")
			if in["type"] != "object" {
				t.Errorf("type = %v, want object", in["type"])
			}
			var req []string
			if list, ok := in["required"].([]any); ok {
				for _, r := range list {
					req = append(req, r.(string))
				}
			}
			sort.Strings(req)
			if fmt.Sprint(req) != fmt.Sprint(wantRequired[name]) {
				t.Errorf("required = %v, want %v", req, wantRequired[name])
			}
			walkSchema(name, in, func(path string, node map[string]any) {
				if node["type"] == "object" {
					if node["additionalProperties"] != false {
						t.Errorf("%s: additionalProperties = %v, want false", path, node["additionalProperties"])
					}
				}
				if props, ok := node["properties"].(map[string]any); ok {
					for pname, p := range props {
						d, _ := p.(map[string]any)["description"].(string)
						if strings.TrimSpace(d) == "" {
							t.Errorf("%s: property %s has no description", path, pname)
						}
					}
				}
			})
		})
	}
}

func TestOutputSchemasDescribeEveryPropertyAndAdmitUnknownFields(t *testing.T) {
	c := connect(t, newApp(t, nil))
	for _, name := range toolNames {
		out := schemaOf(t, c.tools[name], "outputSchema")
		if out["type"] != "object" {
			t.Errorf("%s outputSchema type = %v, want object", name, out["type"])
		}
		if out["additionalProperties"] == false {
			t.Errorf("%s outputSchema refuses unknown fields; the API adds fields over time", name)
		}
		walkSchema(name+".outputSchema", out, func(path string, node map[string]any) {
			if props, ok := node["properties"].(map[string]any); ok {
				for pname, p := range props {
					d, _ := p.(map[string]any)["description"].(string)
					if strings.TrimSpace(d) == "" {
						t.Errorf("%s: property %s has no description", path, pname)
					}
				}
			}
		})
	}
}

func TestToolAnnotationsMatchWhatEachToolDoes(t *testing.T) {
	c := connect(t, newApp(t, nil))
	place := toolDef(t, c.tools["place_call"]).Annotations
	if place.ReadOnlyHint == nil || *place.ReadOnlyHint {
		t.Errorf("place_call readOnlyHint = %v, want false", place.ReadOnlyHint)
	}
	if place.IdempotentHint == nil || *place.IdempotentHint {
		t.Errorf("place_call idempotentHint = %v, want false", place.IdempotentHint)
	}
	if place.OpenWorldHint == nil || !*place.OpenWorldHint {
		t.Errorf("place_call openWorldHint = %v, want true", place.OpenWorldHint)
	}
	for _, name := range []string{"get_call", "list_calls", "wait_for_call"} {
		a := toolDef(t, c.tools[name]).Annotations
		if a.ReadOnlyHint == nil || !*a.ReadOnlyHint {
			t.Errorf("%s readOnlyHint = %v, want true", name, a.ReadOnlyHint)
		}
	}
}

func TestPlaceCallDescriptionSaysItCannotBeCancelledAndPointsToWaitForCall(t *testing.T) {
	c := connect(t, newApp(t, nil))
	desc := toolDef(t, c.tools["place_call"]).Description
	for _, want := range []string{"cannot be cancelled", "wait_for_call"} {
		if !strings.Contains(desc, want) {
			t.Errorf("place_call description does not say %q: %s", want, desc)
		}
	}
}

// TestLegacyClientsSeeTheSameToolsPlusTaskSupport checks that 2025-11-25
// clients get the snapshotted definitions, with execution.taskSupport on
// the two waits alone.
func TestLegacyClientsSeeTheSameToolsPlusTaskSupport(t *testing.T) {
	a := newApp(t, nil)
	modern, legacy := connect(t, a), connect(t, a, mcpclient.WithLegacyProtocolOnly())
	for _, name := range toolNames {
		var m, l map[string]any
		if err := json.Unmarshal(modern.tools[name], &m); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(legacy.tools[name], &l); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["execution"]; ok {
			t.Errorf("%s shows execution to a 2026-07-28 client: %v", name, m["execution"])
		}
		exec, hasExec := l["execution"].(map[string]any)
		if name == "wait_for_call" || name == "wait_for_campaign" {
			if !hasExec || exec["taskSupport"] != "optional" {
				t.Errorf("%s execution for a 2025-11-25 client = %v, want taskSupport optional", name, l["execution"])
			}
		} else if hasExec && exec["taskSupport"] != nil && exec["taskSupport"] != "forbidden" {
			t.Errorf("%s offers tasks: %v", name, exec)
		}
		delete(l, "execution")
		mj, _ := json.MarshalIndent(m, "", "  ")
		lj, _ := json.MarshalIndent(l, "", "  ")
		if !bytes.Equal(mj, lj) {
			t.Errorf("%s differs between eras beyond execution:\n%s", name, lineDiff(string(mj), string(lj)))
		}
	}
}
