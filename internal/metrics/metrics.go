// Package metrics owns the Prometheus metrics served on /metrics: tool calls
// by tool and outcome, API requests by route and status with latency, calls
// placed, safety refusals by token, and do-not-call listings by source. It uses its own registry, built only
// for the HTTP transports, so stdio start-up pays nothing for it.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of collectors of one process.
type Metrics struct {
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

// New registers every collector on a fresh registry.
func New() *Metrics {
	m := &Metrics{
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
		Name: "bys_do_not_call_total", Help: "Numbers added to the do-not-call list, by source (call: the person asked on a call; operator: bys-mcp dnc add).",
	}, []string{"source"})
	m.registry.MustRegister(m.toolCalls, m.toolSeconds, m.apiRequests, m.apiSeconds, m.placed, m.refusals, m.followers, m.webhooks, m.doNotCall,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// ToolCall counts one tool call.
func (m *Metrics) ToolCall(tool, outcome string, d time.Duration) {
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
	m.toolSeconds.WithLabelValues(tool).Observe(d.Seconds())
}

// APIRequest counts one API request attempt.
func (m *Metrics) APIRequest(method, route string, status int, d time.Duration) {
	m.apiRequests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.apiSeconds.WithLabelValues(route).Observe(d.Seconds())
}

// CallPlaced counts one placed call.
func (m *Metrics) CallPlaced() { m.placed.Inc() }

// Refusal counts one safety refusal.
func (m *Metrics) Refusal(token string) { m.refusals.WithLabelValues(token).Inc() }

// DoNotCallListed counts one number added to the do-not-call list.
func (m *Metrics) DoNotCallListed(source string) { m.doNotCall.WithLabelValues(source).Inc() }

// FollowersActive sets the number of running call followers.
func (m *Metrics) FollowersActive(n int) { m.followers.Set(float64(n)) }

// WebhookEvent counts one webhook event by outcome.
func (m *Metrics) WebhookEvent(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }
