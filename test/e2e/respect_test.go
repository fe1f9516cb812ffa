package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Through the binary, on stdio and Streamable HTTP in both eras: a person
// who asked not to be called again is never dialled again by that key,
// across a restart (kill -9 for HTTP) on the same state directory; the cap
// on calls per number holds; and an API key's list is its own.
func TestRespectForThePersonCalledThroughTheBinary(t *testing.T) {
	t.Parallel()
	for _, k := range transports {
		if k.Transport == "sse" {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			api, apiRec := startCountingAPI(t)
			key := "bys_ak_respect_" + strings.ReplaceAll(k.Name, "-", "_")
			env := []string{"BYS_BASE_URL=" + api.URL, "BYS_API_KEY=" + key, "BYS_STATE_DIR=" + t.TempDir(), "BYS_MAX_CALLS_PER_NUMBER=2/24h"}
			start := func() (*client, *httpServer) {
				var srv *httpServer
				if k.Transport != "stdio" {
					srv = startHTTP(t, k.Transport, env)
				}
				return connectWith(t, k, srv, "", env), srv
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, srv := start()

			res := c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550009", "objective": "Ask about the invoice.",
				"fields": []any{map[string]any{"name": "paid", "type": "boolean"}}})
			mustOK(t, "place_call", res)
			callID := structured(t, res)["callId"]
			res = c.callTool(t, ctx, "wait_for_call", map[string]any{"callId": callID, "timeoutSec": 30})
			rec := structured(t, res)
			o, _ := rec["outcome"].(map[string]any)
			ex, _ := rec["extracted"].(map[string]any)
			if rec["status"] != "completed" || o["doNotCall"] != true || len(ex) != 1 {
				t.Fatalf("ended call: status %v, outcome %v, extracted %v", rec["status"], rec["outcome"], rec["extracted"])
			}
			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550009", "objective": "Try again."})
			if m := structured(t, res); !res.IsError || m["error"] != "do_not_call" || !strings.Contains(resultText(res), callID.(string)) {
				t.Fatalf("second call to a listed number: %v %s", m, resultText(res))
			}

			// Two calls to one number, then the cap.
			for _, obj := range []string{"First subject.", "Second subject."} {
				mustOK(t, "place_call", c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550123", "objective": obj}))
			}
			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550123", "objective": "Third subject."})
			if m := structured(t, res); !res.IsError || m["error"] != "number_call_limit" || m["opensAt"] == nil {
				t.Fatalf("third call to one number: %v %s", m, resultText(res))
			}
			if n := apiRec.Posts(); n != 3 {
				t.Fatalf("%d POSTs, want 3 (%s)", n, apiRec.Log())
			}

			// A restart keeps both: the list and the count.
			_ = c.Session.Close()
			if srv != nil {
				_ = srv.Cmd.Process.Kill()
				srv.Exited(5 * time.Second)
			}
			c, _ = start()
			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550009", "objective": "After the restart."})
			if m := structured(t, res); !res.IsError || m["error"] != "do_not_call" {
				t.Errorf("listed number after a restart: %v %s", m, resultText(res))
			}
			res = c.callTool(t, ctx, "place_call", map[string]any{"to": "+14155550123", "objective": "After the restart."})
			if m := structured(t, res); !res.IsError || m["error"] != "number_call_limit" {
				t.Errorf("capped number after a restart: %v %s", m, resultText(res))
			}
			if n := apiRec.Posts(); n != 3 {
				t.Errorf("%d POSTs after the restart, want still 3 (%s)", n, apiRec.Log())
			}
		})
	}
}
