package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

// FuzzPlaceCallValidation sends arbitrary bodies to POST /v1/agent/calls: the
// handler never panics and always answers a JSON object holding either a
// callId (200) or an error token (4xx/5xx).
func FuzzPlaceCallValidation(f *testing.F) {
	for _, seed := range []string{
		`{"to":"+14155550123","objective":"Book a table"}`,
		`{"to":"+14155550123","objective":"x","context":"c","fields":[{"name":"a","type":"number","description":"d"}],"webhookUrl":"https://example.com/h","callerId":"+12135550101"}`,
		`{"to":"+14155550007","objective":"x","fields":[{"name":"a"},{"name":"a"}]}`,
		`{"to":"+33142685300","objective":"x"}`,
		`{"to":"+19005550123","objective":"x"}`,
		`{"to":"+14155550502","objective":"x"}`,
		`{"to":14155550123,"objective":null}`,
		`{"to":"+14155550123","objective":"x","callerId":"+14155559999"}`,
		`{"to":"+14155550123","objective":"x","webhookUrl":"http://x"}`,
		`{"to":"+14155550123","objective":"x","fields":"nope"}`,
		`{"to":"+14155550123","objective":"x","context":[]}`,
		`[]`, `null`, `""`, `{`, ``, `{"to":"\u0000","objective":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	sb := sandbox.New(sandbox.Options{Clock: sandbox.NewManualClock(time.Unix(0, 0)), RateLimitPerMinute: 5, MinuteCap: 50, MaxCallsPerKey: 10})
	allowed := []int{200, 400, 413, 429, 502, 503}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/agent/calls", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer bys_ak_fuzz")
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		if !slices.Contains(allowed, rec.Code) {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q", ct)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("body %q is not a JSON object: %v", rec.Body.Bytes(), err)
		}
		id, hasID := out["callId"].(string)
		token, hasErr := out["error"].(string)
		switch {
		case rec.Code == 200 && hasID && id != "" && out["status"] == "queued" && !hasErr:
		case rec.Code != 200 && hasErr && token != "" && !hasID && len(out) == 1:
		default:
			t.Fatalf("status %d body %s for %q", rec.Code, rec.Body.Bytes(), body)
		}
	})
}
