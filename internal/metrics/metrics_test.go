package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsAreServedInPrometheusText(t *testing.T) {
	m := New()
	m.ToolCall("get_call", "ok", 3*time.Millisecond)
	m.APIRequest("GET", "GET /v1/agent/calls/{id}", 200, 2*time.Millisecond)
	m.CallPlaced()
	m.Refusal("destination_not_allowed")
	m.FollowersActive(3)
	m.WebhookEvent("duplicate")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`bys_mcp_tool_calls_total{outcome="ok",tool="get_call"} 1`,
		`bys_mcp_api_requests_total{route="GET /v1/agent/calls/{id}",status="200"} 1`,
		`bys_mcp_calls_placed_total 1`,
		`bys_mcp_refusals_total{token="destination_not_allowed"} 1`,
		`bys_mcp_tool_call_duration_seconds_bucket`,
		`bys_followers_active 3`,
		`bys_webhook_events_total{outcome="duplicate"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
