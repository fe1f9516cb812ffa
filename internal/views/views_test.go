package views_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/internal/views"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// external matches what would make a document load anything from outside:
// a src or href to a URL with a scheme or a protocol-relative one, a CSS
// import, a url() that is not a data: URL, and script-made requests. (A
// script-set .src is checked apart: only data: URLs, see srcSet.)
var external = []*regexp.Regexp{
	regexp.MustCompile(`(?i)\b(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:|//|ftp:|ws)`),
	regexp.MustCompile(`(?i)@import`),
	regexp.MustCompile(`(?i)url\(\s*["']?\s*(https?:|//)`),
	regexp.MustCompile(`(?i)<link\b`),
	regexp.MustCompile(`\bfetch\s*\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|importScripts`),
	regexp.MustCompile(`(?i)<script[^>]+src\s*=`),
	regexp.MustCompile(`(?i)<(img|iframe|object|embed|audio|video|source|base|form)\b|http-equiv`),
	regexp.MustCompile(`(?i)\bwindow\.open\s*\(|location\s*=`),
}

// srcSet finds every .src a script sets, with what follows it.
var srcSet = regexp.MustCompile(`\.src\s*=\s*(.{0,8})`)

func TestDocumentsAreSelfContained(t *testing.T) {
	for _, uri := range []string{views.CallURI, views.CampaignURI} {
		t.Run(uri, func(t *testing.T) {
			doc, ok := views.Document(uri)
			if !ok {
				t.Fatalf("no document for %s", uri)
			}
			if !strings.HasPrefix(doc, "<!DOCTYPE html>") || strings.Count(doc, "<html") != 1 || !strings.Contains(doc, "</html>") {
				t.Errorf("%s is not one HTML document", uri)
			}
			if strings.Contains(doc, "/*COMMON_CSS*/") || strings.Contains(doc, "/*BRIDGE_JS*/") {
				t.Errorf("%s still has a placeholder: the shared style sheet or bridge was not inlined", uri)
			}
			for _, re := range external {
				if m := re.FindString(doc); m != "" {
					t.Errorf("%s refers to something outside the document: %q (%s)", uri, m, re)
				}
			}
			for _, m := range srcSet.FindAllStringSubmatch(doc, -1) {
				if !strings.HasPrefix(m[1], `"data:"`) {
					t.Errorf("%s sets a src to something other than a data: URL: %q", uri, m[0])
				}
			}
			if n := len(doc); n > 60*1024 {
				t.Errorf("%s is %d bytes; keep each view under 60 KB", uri, n)
			}
			for _, want := range []string{`<html lang="en">`, "<h1", "<table", "<thead", "scope", "ui/initialize", "ui/notifications/initialized", "tools/call", "ui/notifications/size-changed"} {
				if !strings.Contains(doc, want) {
					t.Errorf("%s has no %s", uri, want)
				}
			}
		})
	}
	if _, ok := views.Document("ui://bys/nothing.html"); ok {
		t.Error("an unknown view has a document")
	}
}

func TestResourceURIs(t *testing.T) {
	for tool, want := range map[string]string{
		"place_call": views.CallURI, "get_call": views.CallURI, "wait_for_call": views.CallURI,
		"place_calls": views.CampaignURI, "wait_for_campaign": views.CampaignURI, "cancel_campaign": views.CampaignURI,
		"pause_campaign": views.CampaignURI, "resume_campaign": views.CampaignURI, "retry_campaign": views.CampaignURI,
		"list_calls": "", "list_campaigns": "",
	} {
		if got := views.ResourceURI(tool); got != want {
			t.Errorf("ResourceURI(%s) = %q, want %q", tool, got, want)
		}
	}
}

// uiCaps is the capability a host that renders MCP Apps declares.
func uiCaps(mimeTypes ...string) mcp.ClientCapabilities {
	settings := map[string]any{}
	if mimeTypes != nil {
		list := make([]any, len(mimeTypes))
		for i, m := range mimeTypes {
			list[i] = m
		}
		settings["mimeTypes"] = list
	}
	return mcp.ClientCapabilities{Extensions: map[string]any{views.Extension: settings}}
}

type session struct {
	t *testing.T
	c *mcpclient.Client
}

// raw sends one request as the client would (with the per-request _meta of
// 2026-07-28) and returns its result.
func (s session) raw(method string, params map[string]any) json.RawMessage {
	s.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	if mcp.IsModernProtocol(s.c.ProtocolVersion()) {
		params["_meta"] = map[string]any{
			mcp.MetaKeyProtocolVersion:    s.c.ProtocolVersion(),
			mcp.MetaKeyClientCapabilities: s.c.GetClientCapabilities(),
			mcp.MetaKeyClientInfo:         mcp.Implementation{Name: "views-test", Version: "1"},
		}
	}
	resp, err := s.c.GetTransport().SendRequest(context.Background(), transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1 << 40)), Method: method, Params: params,
	})
	if err != nil {
		s.t.Fatalf("%s: %v", method, err)
	}
	if resp.Error != nil {
		s.t.Fatalf("%s: %v", method, resp.Error.AsError())
	}
	return resp.Result
}

// toolMeta returns each tool's _meta as tools/list sent it ("" for none).
func (s session) toolMeta() map[string]string {
	var res struct {
		Tools []struct {
			Name string          `json:"name"`
			Meta json.RawMessage `json:"_meta"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(s.raw("tools/list", nil), &res); err != nil {
		s.t.Fatal(err)
	}
	out := map[string]string{}
	for _, tool := range res.Tools {
		out[tool.Name] = string(tool.Meta)
	}
	return out
}

func (s session) resourceURIs() []string {
	var res struct {
		Resources []struct {
			URI string `json:"uri"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(s.raw("resources/list", nil), &res); err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, r := range res.Resources {
		out = append(out, r.URI)
	}
	return out
}

func connect(t *testing.T, legacy bool, caps *mcp.ClientCapabilities) session {
	t.Helper()
	a := testkit.SandboxApp(t, nil, testkit.QuietLogger(), appOptions())
	var opts []mcpclient.ClientOption
	if legacy {
		opts = append(opts, mcpclient.WithLegacyProtocolOnly())
	}
	if caps != nil {
		opts = append(opts, mcpclient.WithClientCapabilities(*caps))
	}
	c := testkit.InProcessClient(t, a, "views-test", "", opts...)
	if got := mcp.IsModernProtocol(c.ProtocolVersion()); got == legacy {
		t.Fatalf("negotiated %s, want the other era", c.ProtocolVersion())
	}
	return session{t: t, c: c}
}

func TestMetadataOnlyForExtensionClients(t *testing.T) {
	ext, wrongMime, noList := uiCaps(views.MIMEType), uiCaps("text/html+skybridge"), uiCaps()
	other := mcp.ClientCapabilities{Extensions: map[string]any{"io.example/other": map[string]any{}}}
	cases := []struct {
		name  string
		caps  *mcp.ClientCapabilities
		views bool
	}{
		{"no extensions", nil, false},
		{"another extension only", &other, false},
		{"the ui extension without our mime type", &wrongMime, false},
		{"the ui extension with our mime type", &ext, true},
		{"the ui extension listing no mime types", &noList, true},
	}
	for _, era := range []struct {
		name   string
		legacy bool
	}{{"2025-11-25", true}, {"2026-07-28", false}} {
		for _, tc := range cases {
			t.Run(era.name+"/"+tc.name, func(t *testing.T) {
				s := connect(t, era.legacy, tc.caps)
				if got := s.c.GetServerCapabilities().Extensions[views.Extension]; got == nil {
					t.Errorf("the server does not declare %s: capabilities.extensions = %v", views.Extension, s.c.GetServerCapabilities().Extensions)
				}
				meta := s.toolMeta()
				if len(meta) != 11 {
					t.Errorf("tools/list returned %d tools, want 11", len(meta))
				}
				for tool, m := range meta {
					want := views.ResourceURI(tool)
					switch {
					case tc.views && want != "":
						if wantMeta := fmt.Sprintf(`{"ui":{"resourceUri":%q}}`, want); m != wantMeta {
							t.Errorf("%s: _meta = %s, want %s", tool, m, wantMeta)
						}
					case m != "":
						t.Errorf("%s: _meta = %s, want none", tool, m)
					}
				}
				var listed int
				for _, uri := range s.resourceURIs() {
					if strings.HasPrefix(uri, "ui://") {
						listed++
					}
				}
				if want := map[bool]int{true: 2, false: 0}[tc.views]; listed != want {
					t.Errorf("resources/list has %d ui:// resources, want %d", listed, want)
				}
			})
		}
	}
}

func TestResourcesRead(t *testing.T) {
	for _, era := range []struct {
		name   string
		legacy bool
	}{{"2025-11-25", true}, {"2026-07-28", false}} {
		for _, uri := range []string{views.CallURI, views.CampaignURI} {
			t.Run(era.name+"/"+uri, func(t *testing.T) {
				caps := uiCaps(views.MIMEType)
				s := connect(t, era.legacy, &caps)
				var res struct {
					Contents []struct {
						URI      string         `json:"uri"`
						MIMEType string         `json:"mimeType"`
						Text     string         `json:"text"`
						Blob     string         `json:"blob"`
						Meta     map[string]any `json:"_meta"`
					} `json:"contents"`
				}
				if err := json.Unmarshal(s.raw("resources/read", map[string]any{"uri": uri}), &res); err != nil {
					t.Fatal(err)
				}
				if len(res.Contents) != 1 {
					t.Fatalf("resources/read returned %d contents, want 1", len(res.Contents))
				}
				got := res.Contents[0]
				want, _ := views.Document(uri)
				if got.URI != uri || got.MIMEType != views.MIMEType || got.Text != want || got.Blob != "" {
					t.Errorf("resources/read %s = uri %q, mime %q, %d bytes of text; want %s, %s, the %d-byte document", uri, got.URI, got.MIMEType, len(got.Text), uri, views.MIMEType, len(want))
				}
				if ui, _ := got.Meta["ui"].(map[string]any); ui == nil || ui["csp"] != nil {
					t.Errorf("_meta = %v, want ui settings with no csp (no external origins)", got.Meta)
				}
			})
		}
	}
}
