package testkit_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/mark3labs/mcp-go/mcp"
)

func TestTextOfJoinsTheTextContents(t *testing.T) {
	res := &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent("one"), mcp.NewImageContent("AA==", "image/png"), mcp.NewTextContent("two")}}
	if got := testkit.TextOf(res); got != "one\ntwo" {
		t.Errorf("TextOf = %q, want %q", got, "one\ntwo")
	}
	if got := testkit.TextOf(nil); got != "" {
		t.Errorf("TextOf(nil) = %q", got)
	}
}

func TestObjectDecodesAsAPlainMap(t *testing.T) {
	type rec struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	}
	m := testkit.Object(t, rec{"c1", 3})
	if len(m) != 2 || m["id"] != "c1" || m["count"] != 3.0 {
		t.Errorf("Object = %v", m)
	}
}

func TestNotificationsByMethodAndUpdatesByURI(t *testing.T) {
	var ns testkit.Notifications
	note := func(method string, fields map[string]any) mcp.JSONRPCNotification {
		n := mcp.JSONRPCNotification{}
		n.Method = method
		n.Params.AdditionalFields = fields
		return n
	}
	updated := string(mcp.MethodNotificationResourceUpdated)
	ns.Add(note(updated, map[string]any{"uri": "bys://calls/a"}))
	ns.Add(note("notifications/progress", map[string]any{"progress": 1}))
	ns.Add(note(updated, map[string]any{"uri": "bys://calls/b"}))
	ns.Add(note(updated, map[string]any{"uri": "bys://calls/a"}))
	if got := ns.Of(updated); len(got) != 3 || got[1].Params.AdditionalFields["uri"] != "bys://calls/b" {
		t.Errorf("Of(updated) = %v, want the three in order", got)
	}
	if n := len(ns.Of("notifications/progress")); n != 1 {
		t.Errorf("%d progress notifications, want 1", n)
	}
	if a, b, c := ns.Updates("bys://calls/a"), ns.Updates("bys://calls/b"), ns.Updates("bys://calls/c"); a != 2 || b != 1 || c != 0 {
		t.Errorf("Updates = %d, %d, %d; want 2, 1, 0", a, b, c)
	}
}

func TestRawPostSendsWhatAStreamableClientSends(t *testing.T) {
	srv := testkit.HandlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Host+" "+r.Header.Get("Content-Type")+" "+r.Header.Get("Accept")+" "+r.Header.Get("Origin"))
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(body)
	}))
	status, h, body := testkit.RawPost(t, srv.URL, http.Header{"Host": {"example.test"}, "Content-Type": {"text/plain"}, "Origin": {"http://o.test"}}, []byte(`{"a":1}`), 5*time.Second)
	if status != http.StatusAccepted || body != `{"a":1}` {
		t.Errorf("got %d %q", status, body)
	}
	if got, want := h.Get("X-Seen"), "example.test text/plain application/json, text/event-stream http://o.test"; got != want {
		t.Errorf("the server saw %q, want %q", got, want)
	}
}

func TestAllAtOnceRunsEveryIndexTogether(t *testing.T) {
	const n = 8
	var arrived sync.WaitGroup
	arrived.Add(n)
	seen := make([]int, n)
	testkit.AllAtOnce(n, func(i int) {
		seen[i]++
		arrived.Done()
		arrived.Wait() // returns only if all n run at the same time
	})
	for i, c := range seen {
		if c != 1 {
			t.Errorf("fn(%d) ran %d times, want 1", i, c)
		}
	}
}

func TestMetricsReadAndSum(t *testing.T) {
	const page = "# HELP bys_x_total X.\n# TYPE bys_x_total counter\nbys_x_total{route=\"a\"} 2\nbys_x_total{route=\"b\"} 3.5\nbys_y_total 7\n"
	srv := testkit.HandlerServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, page)
	}))
	text := testkit.Metrics(t, srv.URL)
	if text != page {
		t.Fatalf("Metrics = %q", text)
	}
	if got := testkit.MetricLines(text, "bys_x_total"); got != "bys_x_total{route=\"a\"} 2\nbys_x_total{route=\"b\"} 3.5" {
		t.Errorf("MetricLines = %q", got)
	}
	if got := testkit.MetricSum(t, text, "bys_x_total"); got != 5.5 {
		t.Errorf("MetricSum(bys_x_total) = %v, want 5.5", got)
	}
	if got := testkit.MetricSum(t, text, "bys_y_total "); got != 7 {
		t.Errorf("MetricSum(bys_y_total) = %v, want 7", got)
	}
	if got := testkit.MetricSum(t, text, "bys_z_total"); got != 0 {
		t.Errorf("MetricSum of no sample = %v, want 0", got)
	}
}
