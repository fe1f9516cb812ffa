// Package metrics owns the Prometheus metrics served on /metrics: tool calls
// by tool and outcome, API requests by route and status with latency, calls
// placed, safety refusals by token, followers, webhook events and
// do-not-call listings, next to
// the Go runtime's and the process's standard metrics (go_*, process_*).
//
// It writes the Prometheus text format (0.0.4) itself instead of linking
// the Prometheus client library: every process links what it imports, and
// the client's package initialisers (its default registry's collectors,
// procfs, protobuf, expvar) cost about 1 ms of every start-up, stdio
// included, although only the HTTP transports serve /metrics. The output
// is the client's, family for family (parity_test.go compares the two).
package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// Metrics is the set of collectors of one process.
type Metrics struct {
	toolCalls   *counterVec
	toolSeconds *histogramVec
	apiRequests *counterVec
	apiSeconds  *histogramVec
	placed      *counterVec
	refusals    *counterVec
	followers   *gauge
	webhooks    *counterVec
	doNotCall   *counterVec
	families    []collector
}

// New builds every collector.
func New() *Metrics {
	m := &Metrics{
		toolCalls: newCounterVec("bys_mcp_tool_calls_total",
			"MCP tool calls by tool and outcome (ok, error, input_required, internal_error).", "tool", "outcome"),
		toolSeconds: newHistogramVec("bys_mcp_tool_call_duration_seconds",
			"Duration of MCP tool calls.", exponentialBuckets(0.001, 4, 10), "tool"),
		apiRequests: newCounterVec("bys_mcp_api_requests_total",
			"By Your Side API requests by route and HTTP status (0: no answer).", "route", "status"),
		apiSeconds: newHistogramVec("bys_mcp_api_request_duration_seconds",
			"Latency of By Your Side API requests.", exponentialBuckets(0.005, 2.5, 10), "route"),
		placed: newCounterVec("bys_mcp_calls_placed_total",
			"Calls placed through the API (not counting deduplicated requests)."),
		refusals: newCounterVec("bys_mcp_refusals_total",
			"place_call requests refused by a safety check, by token.", "token"),
		followers: newGauge("bys_followers_active",
			"Calls followed right now: one follower per (key, call), shared by every wait, task and subscription on it."),
		webhooks: newCounterVec("bys_webhook_events_total",
			"Webhook events received on /webhooks/bys/ by outcome (accepted, duplicate, unknown_token, unknown_call, invalid, too_large).", "outcome"),
		doNotCall: newCounterVec("bys_do_not_call_total",
			"Numbers added to the do-not-call list, by source (call: the person asked on a call placed by this server).", "source"),
	}
	// A counter without labels has its one series from the start, as the
	// client library's plain Counter has.
	m.placed.with()
	m.families = []collector{m.toolCalls, m.toolSeconds, m.apiRequests, m.apiSeconds, m.placed, m.refusals, m.followers, m.webhooks, m.doNotCall,
		goCollector{}, processCollector{}}
	return m
}

// Handler serves every family in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serve(w, r, m.families) })
}

// ToolCall counts one tool call.
func (m *Metrics) ToolCall(tool, outcome string, d time.Duration) {
	m.toolCalls.with(tool, outcome).inc()
	m.toolSeconds.with(tool).observe(d.Seconds())
}

// APIRequest counts one API request attempt.
func (m *Metrics) APIRequest(method, route string, status int, d time.Duration) {
	m.apiRequests.with(route, strconv.Itoa(status)).inc()
	m.apiSeconds.with(route).observe(d.Seconds())
}

// CallPlaced counts one placed call.
func (m *Metrics) CallPlaced() { m.placed.with().inc() }

// Refusal counts one safety refusal.
func (m *Metrics) Refusal(token string) { m.refusals.with(token).inc() }

// FollowersActive sets the number of running call followers.
func (m *Metrics) FollowersActive(n int) { m.followers.set(float64(n)) }

// WebhookEvent counts one webhook event by outcome.
func (m *Metrics) WebhookEvent(outcome string) { m.webhooks.with(outcome).inc() }

// DoNotCallListed counts one number added to the do-not-call list.
func (m *Metrics) DoNotCallListed(source string) { m.doNotCall.with(source).inc() }
