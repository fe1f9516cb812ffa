package views_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/internal/views"
)

// httpClient speaks raw JSON-RPC to the Streamable HTTP endpoint: a
// 2025-11-25 session after initialize, or 2026-07-28 stateless requests.
type httpClient struct {
	t       *testing.T
	url     string
	modern  bool
	caps    map[string]any
	session string
}

func (c *httpClient) call(method string, params map[string]any) json.RawMessage {
	c.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	req := map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}}
	if c.modern {
		params["_meta"] = map[string]any{
			"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
			"io.modelcontextprotocol/clientCapabilities": c.caps,
			"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "views-http", "version": "1"},
		}
		h.Set("Mcp-Protocol-Version", "2026-07-28")
		h.Set("Mcp-Method", method)
		if uri, ok := params["uri"].(string); ok {
			h.Set("Mcp-Name", uri)
		}
	} else if c.session != "" {
		h.Set("Mcp-Session-Id", c.session)
		h.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	body, _ := json.Marshal(req)
	r, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	r.Header = h
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if sid := resp.Header.Get("Mcp-Session-Id"); sid != "" {
		c.session = sid
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for _, line := range strings.Split(string(raw), "\n") {
			if data, ok := strings.CutPrefix(line, "data:"); ok && strings.Contains(data, `"id":1`) {
				raw = []byte(data)
			}
		}
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &msg); err != nil || msg.Error != nil {
		c.t.Fatalf("%s: HTTP %d %s", method, resp.StatusCode, raw)
	}
	return msg.Result
}

func TestOverStreamableHTTP(t *testing.T) {
	a := testkit.SandboxApp(t, nil, testkit.QuietLogger(), appOptions())
	url := testkit.ServeHTTPTest(t, a) + "/mcp"
	ext := map[string]any{"extensions": map[string]any{views.Extension: map[string]any{"mimeTypes": []string{views.MIMEType}}}}
	for _, modern := range []bool{false, true} {
		for _, withUI := range []bool{false, true} {
			era := map[bool]string{false: "2025-11-25", true: "2026-07-28"}[modern]
			t.Run(era+map[bool]string{false: "/plain", true: "/ui"}[withUI], func(t *testing.T) {
				caps := map[string]any{}
				if withUI {
					caps = ext
				}
				c := &httpClient{t: t, url: url, modern: modern, caps: caps}
				if !modern {
					c.call("initialize", map[string]any{"protocolVersion": "2025-11-25", "capabilities": caps, "clientInfo": map[string]any{"name": "views-http", "version": "1"}})
				}
				tools := string(c.call("tools/list", nil))
				if got, want := strings.Count(tools, `"resourceUri":"ui://bys/`), map[bool]int{false: 0, true: 9}[withUI]; got != want {
					t.Errorf("tools/list names a view %d times, want %d", got, want)
				}
				res := string(c.call("resources/list", nil))
				if got := strings.Contains(res, `"uri":"ui://`); got != withUI {
					t.Errorf("resources/list lists ui:// resources: %v, want %v", got, withUI)
				}
				read := c.call("resources/read", map[string]any{"uri": views.CallURI})
				var out struct {
					Contents []struct {
						MIMEType string `json:"mimeType"`
						Text     string `json:"text"`
					} `json:"contents"`
				}
				_ = json.Unmarshal(read, &out)
				if doc, _ := views.Document(views.CallURI); len(out.Contents) != 1 || out.Contents[0].MIMEType != views.MIMEType || out.Contents[0].Text != doc {
					t.Errorf("resources/read of the call view over HTTP did not return the document")
				}
			})
		}
	}
}
