package recordings_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/recordings"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// appWith builds an app on the embedded sandbox and a manual clock, in
// http mode with adjust applied, and an in-process MCP client of it.
func appWith(t *testing.T, adjust func(*config.Config)) (*app.App, *mcpclient.Client, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 6, 17, 14, 0, 0, 0, time.UTC))
	a := testkit.SandboxApp(t, func(c *config.Config) {
		c.Transport = "http"
		if adjust != nil {
			adjust(c)
		}
	}, testkit.QuietLogger(), app.Options{Clock: clk, Poll: testkit.FastPoll()})
	return a, testkit.InProcessClient(t, a, "recordings-test", ""), clk
}

func callTool(t *testing.T, c *mcpclient.Client, name string, args map[string]any) map[string]any {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	res, err := c.CallTool(context.Background(), req)
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %+v", name, err, res)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	text := ""
	if tc, ok := res.Content[0].(mcp.TextContent); ok {
		text = tc.Text
	}
	m["_text"] = text
	return m
}

// Through the app: get_call and wait_for_call of an ended call carry
// recordingLink, which the HTTP handler streams to anyone who has it, with
// the public URL's Host, without Authorization (even with --auth-token) and
// whatever the Origin, until it expires.
func TestRecordingLinkThroughTheApp(t *testing.T) {
	a, c, clk := appWith(t, func(c *config.Config) {
		c.PublicURL = "https://calls.example.com"
		c.AuthToken = "shared-secret-of-this-deployment"
	})
	placed := callTool(t, c, "place_call", map[string]any{"to": "+14155550123", "objective": "Ask about the opening hours."})
	id, _ := placed["callId"].(string)
	running := callTool(t, c, "get_call", map[string]any{"callId": id})
	if _, has := running["recordingLink"]; has {
		t.Errorf("a running call has a recordingLink: %v", running)
	}
	clk.Advance(time.Minute)
	rec := callTool(t, c, "get_call", map[string]any{"callId": id})
	link, _ := rec["recordingLink"].(string)
	if !strings.HasPrefix(link, "https://calls.example.com/recordings/") {
		t.Fatalf("get_call of an ended call: recordingLink %q", link)
	}
	if text, _ := rec["_text"].(string); !strings.Contains(text, link) || !strings.Contains(text, "bys://calls/"+id+"/recording") {
		t.Errorf("the text does not give the link and the resource: %s", text)
	}
	waited := callTool(t, c, "wait_for_call", map[string]any{"callId": id, "timeoutSec": 5})
	if l, _ := waited["recordingLink"].(string); !strings.HasPrefix(l, "https://calls.example.com/recordings/") || l == link {
		t.Errorf("wait_for_call: recordingLink %q, want a fresh link", l)
	}

	base := testkit.ServeHTTPTest(t, a)
	get := func(host, origin string, auth bool) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", base+strings.TrimPrefix(link, "https://calls.example.com"), nil)
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if auth {
			req.Header.Set("Authorization", "Bearer shared-secret-of-this-deployment")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	want := sandbox.Recording(id, false)
	for _, tc := range []struct{ name, host, origin string }{
		{"the public host", "calls.example.com", ""},
		{"the public host from a page elsewhere", "calls.example.com", "https://elsewhere.example"},
		{"the listener's own name", strings.TrimPrefix(base, "http://"), ""},
	} {
		res, body := get(tc.host, tc.origin, false)
		if res.StatusCode != 200 || !bytes.Equal(body, want) || res.Header.Get("Content-Type") != sandbox.RecordingContentType {
			t.Errorf("%s: %d %q, %d bytes", tc.name, res.StatusCode, res.Header.Get("Content-Type"), len(body))
		}
	}
	if res, _ := get("evil.example", "", false); res.StatusCode != http.StatusForbidden {
		t.Errorf("another Host: %d, want 403", res.StatusCode)
	}
	if res, err := http.Get(base + "/mcp"); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/mcp without the token: %v %v, want 401 (the deployment does need it there)", res, err)
	}
	clk.Advance(recordings.DefaultTTL)
	if res, body := get("calls.example.com", "", false); res.StatusCode != http.StatusGone || !strings.Contains(string(body), "expired") {
		t.Errorf("after an hour: %d %s", res.StatusCode, body)
	}
}

func TestNoRecordingLinkWithoutAPublicURL(t *testing.T) {
	_, c, clk := appWith(t, nil)
	placed := callTool(t, c, "place_call", map[string]any{"to": "+14155550123", "objective": "Ask about the opening hours."})
	clk.Advance(time.Minute)
	rec := callTool(t, c, "get_call", map[string]any{"callId": placed["callId"]})
	if rec["status"] != "completed" || rec["recordingUrl"] == nil {
		t.Fatalf("record %v", rec)
	}
	if _, has := rec["recordingLink"]; has {
		t.Errorf("recordingLink without --public-url: %v", rec["recordingLink"])
	}
}
