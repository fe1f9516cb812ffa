package testkit

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// Era is one MCP protocol era and the mcp-go client options that ask for
// it.
type Era struct {
	Name string
	Opts []mcpclient.ClientOption
}

// Eras are both protocol eras: 2026-07-28 (stateless) and 2025-11-25 (with
// initialize), in that order.
var Eras = []Era{
	{"2026-07-28", nil},
	{"2025-11-25", []mcpclient.ClientOption{mcpclient.WithLegacyProtocolOnly()}},
}

// TextOf joins the text contents of an mcp-go tool result with newlines
// ("" for a nil result).
func TextOf(res *mcp.CallToolResult) string {
	if res == nil {
		return ""
	}
	var parts []string
	for _, c := range res.Content {
		if tc, ok := mcp.AsTextContent(c); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// Object is v (such as a result's structured content, whatever a client
// decoded it into) encoded as JSON and decoded again as a plain map (nil
// for nil); the test fails when v is not a JSON object.
func Object(tb testing.TB, v any) map[string]any {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("not a JSON object: %s", raw)
	}
	return m
}

// Notifications collects the notifications an mcp-go client receives: Add
// fits Client.OnNotification and a transport's SetNotificationHandler. The
// zero value is ready.
type Notifications struct {
	mu   sync.Mutex
	list []mcp.JSONRPCNotification
}

// Add records n.
func (ns *Notifications) Add(n mcp.JSONRPCNotification) {
	ns.mu.Lock()
	ns.list = append(ns.list, n)
	ns.mu.Unlock()
}

// Of returns the notifications of method received so far, oldest first.
func (ns *Notifications) Of(method string) []mcp.JSONRPCNotification {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var out []mcp.JSONRPCNotification
	for _, n := range ns.list {
		if n.Method == method {
			out = append(out, n)
		}
	}
	return out
}

// Updates is the number of notifications/resources/updated received for
// uri.
func (ns *Notifications) Updates(uri string) int {
	n := 0
	for _, note := range ns.Of(string(mcp.MethodNotificationResourceUpdated)) {
		if note.Params.AdditionalFields["uri"] == uri {
			n++
		}
	}
	return n
}
