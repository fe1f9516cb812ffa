package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// reference is the implementation this package replaced: the same metrics
// on a Prometheus client registry with the default Go and process
// collectors, served by promhttp. The server does not link the client
// library (its package initialisers cost start-up); this test does, and
// holds the two to the same output.
type reference struct {
	registry    *prometheus.Registry
	toolCalls   *prometheus.CounterVec
	toolSeconds *prometheus.HistogramVec
	apiRequests *prometheus.CounterVec
	apiSeconds  *prometheus.HistogramVec
	placed      prometheus.Counter
	refusals    *prometheus.CounterVec
	followers   prometheus.Gauge
	webhooks    *prometheus.CounterVec
	doNotCall   *prometheus.CounterVec
}

func newReference() *reference {
	m := &reference{
		registry: prometheus.NewRegistry(),
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bys_mcp_tool_calls_total", Help: "MCP tool calls by tool and outcome (ok, error, input_required, internal_error).",
		}, []string{"tool", "outcome"}),
		toolSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bys_mcp_tool_call_duration_seconds", Help: "Duration of MCP tool calls.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"tool"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bys_mcp_api_requests_total", Help: "By Your Side API requests by route and HTTP status (0: no answer).",
		}, []string{"route", "status"}),
		apiSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bys_mcp_api_request_duration_seconds", Help: "Latency of By Your Side API requests.", Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10),
		}, []string{"route"}),
		placed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bys_mcp_calls_placed_total", Help: "Calls placed through the API (not counting deduplicated requests).",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bys_mcp_refusals_total", Help: "place_call requests refused by a safety check, by token.",
		}, []string{"token"}),
		followers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bys_followers_active", Help: "Calls followed right now: one follower per (key, call), shared by every wait, task and subscription on it.",
		}),
	}
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bys_webhook_events_total", Help: "Webhook events received on /webhooks/bys/ by outcome (accepted, duplicate, unknown_token, unknown_call, invalid, too_large).",
	}, []string{"outcome"})
	m.doNotCall = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bys_do_not_call_total", Help: "Numbers added to the do-not-call list, by source (call: the person asked on a call placed by this server).",
	}, []string{"source"})
	m.registry.MustRegister(m.toolCalls, m.toolSeconds, m.apiRequests, m.apiSeconds, m.placed, m.refusals, m.followers, m.webhooks, m.doNotCall,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *reference) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
func (m *reference) ToolCall(tool, outcome string, d time.Duration) {
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
	m.toolSeconds.WithLabelValues(tool).Observe(d.Seconds())
}
func (m *reference) APIRequest(method, route string, status int, d time.Duration) {
	m.apiRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.apiSeconds.WithLabelValues(route).Observe(d.Seconds())
}
func (m *reference) CallPlaced()                   { m.placed.Inc() }
func (m *reference) Refusal(token string)          { m.refusals.WithLabelValues(token).Inc() }
func (m *reference) FollowersActive(n int)         { m.followers.Set(float64(n)) }
func (m *reference) WebhookEvent(outcome string)   { m.webhooks.WithLabelValues(outcome).Inc() }
func (m *reference) DoNotCallListed(source string) { m.doNotCall.WithLabelValues(source).Inc() }

// recorder is what both implementations offer.
type recorder interface {
	Handler() http.Handler
	ToolCall(tool, outcome string, d time.Duration)
	APIRequest(method, route string, status int, d time.Duration)
	CallPlaced()
	Refusal(token string)
	FollowersActive(n int)
	WebhookEvent(outcome string)
	DoNotCallListed(source string)
}

// exercise records the same things in r: several series per vector, label
// values in no sorted order, values on bucket bounds, below the first and
// above the last, and label values to escape.
func exercise(r recorder) {
	for i, d := range []time.Duration{3 * time.Millisecond, time.Millisecond, 0, 250 * time.Millisecond, 20 * time.Minute, 4 * time.Millisecond} {
		r.ToolCall([]string{"wait_for_call", "get_call", "place_call"}[i%3], []string{"ok", "error", "input_required", "internal_error"}[i%4], d)
	}
	for i := range 1000 {
		r.APIRequest("GET", "GET /v1/agent/calls/{id}", 200, time.Duration(i)*time.Millisecond)
	}
	r.APIRequest("POST", "POST /v1/agent/calls", 0, 31*time.Second)
	r.APIRequest("POST", "POST /v1/agent/calls", 429, 12500*time.Microsecond)
	r.CallPlaced()
	r.CallPlaced()
	r.Refusal("destination_not_allowed")
	r.Refusal("odd \"token\" with \\ and\nnewline")
	r.FollowersActive(3)
	for range 1234567 % 7 {
		r.WebhookEvent("duplicate")
	}
	r.WebhookEvent("accepted")
	r.DoNotCallListed("call")
	r.DoNotCallListed("call")
}

func scrape(t *testing.T, h http.Handler, target string, header http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = gz
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// stable are the runtime's and the process's samples whose values do not
// change between two scrapes.
var stable = []string{"go_gc_gogc_percent", "go_gc_gomemlimit_bytes", "go_sched_gomaxprocs_threads", "go_info",
	"process_max_fds", "process_virtual_memory_max_bytes", "process_start_time_seconds"}

// shape is the body without the values of the runtime's and the process's
// samples that change between two scrapes: every HELP and TYPE line, every
// bys_ line and stable sample whole, every other sample's name and labels.
func shape(body string) []string {
	var out []string
	for line := range strings.Lines(body) {
		line = strings.TrimSuffix(line, "\n")
		name, _, _ := strings.Cut(line, " ")
		name, _, _ = strings.Cut(name, "{")
		if !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "bys_") && !slices.Contains(stable, name) {
			line = line[:strings.LastIndexByte(line, ' ')]
		}
		out = append(out, line)
	}
	return out
}

func TestOutputIsTheClientLibrarys(t *testing.T) {
	ours, ref := New(), newReference()
	exercise(ours)
	exercise(ref)
	for _, h := range []http.Header{
		{},
		{"Accept-Encoding": {"gzip"}},
		{"Accept-Encoding": {"gzip, deflate, br"}},
		{"Accept-Encoding": {"identity;q=1, gzip;q=0.5"}},
		{"Accept-Encoding": {"*"}},
		{"Accept-Encoding": {"gzip;q=0"}},
		{"Accept-Encoding": {"br"}},
		{"Accept": {"text/plain"}},
		{"Accept": {"*/*"}},
		{"Accept": {"text/plain;version=0.0.4;q=0.3,*/*;q=0.2"}},
		{"Accept": {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"}},
		{"Accept": {"text/plain;version=0.0.4;escaping=dots"}},
	} {
		for _, target := range []string{"/metrics", "/metrics?name[]=bys_mcp_tool_calls_total&name[]=go_info&name[]=process_open_fds"} {
			gotResp, got := scrape(t, ours.Handler(), target, h)
			wantResp, want := scrape(t, ref.Handler(), target, h)
			for _, k := range []string{"Content-Type", "Content-Encoding", "Vary"} {
				if g, w := gotResp.Header.Values(k), wantResp.Header.Values(k); !slices.Equal(g, w) {
					t.Errorf("%s %v: %s %q, the client library's %q", target, h, k, g, w)
				}
			}
			if g, w := shape(got), shape(want); !slices.Equal(g, w) {
				t.Errorf("%s %v: output differs from the client library's:\n%s", target, h, diff(g, w))
			}
			parser := expfmt.NewTextParser(model.UTF8Validation)
			if _, err := parser.TextToMetricFamilies(strings.NewReader(got)); err != nil {
				t.Errorf("the text format does not parse: %v", err)
			}
		}
	}
}

// A scraper that asks for the client library's protobuf format first gets
// the text format with the same families (documented in serve).
func TestProtobufAskersGetText(t *testing.T) {
	m := New()
	exercise(m)
	resp, body := scrape(t, m.Handler(), "/metrics", http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3"}})
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8; escaping=underscores" {
		t.Errorf("Content-Type %q", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil || fams["bys_mcp_api_requests_total"] == nil {
		t.Errorf("families %d, err %v", len(fams), err)
	}
}

func diff(got, want []string) string {
	var b bytes.Buffer
	g, w := map[string]bool{}, map[string]bool{}
	for _, l := range got {
		g[l] = true
	}
	for _, l := range want {
		w[l] = true
	}
	for _, l := range got {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range want {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	if b.Len() == 0 {
		b.WriteString("(the same lines in another order)\n")
	}
	return b.String()
}
