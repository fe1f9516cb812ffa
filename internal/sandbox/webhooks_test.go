package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

// hookSink receives webhook deliveries without a socket (so that synctest's
// clock moves) and answers each with the status its answer func picks.
type hookSink struct {
	mu     sync.Mutex
	start  time.Time
	got    []delivery
	answer func(n int) int // n counts deliveries from 1
}

type delivery struct {
	at     time.Duration // since start
	url    string
	header http.Header
	body   map[string]any
	status int
}

func (h *hookSink) RoundTrip(r *http.Request) (*http.Response, error) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	h.mu.Lock()
	status := http.StatusOK
	if h.answer != nil {
		status = h.answer(len(h.got) + 1)
	}
	h.got = append(h.got, delivery{at: time.Since(h.start), url: r.URL.String(), header: r.Header.Clone(), body: body, status: status})
	h.mu.Unlock()
	rec := httptest.NewRecorder()
	rec.WriteHeader(status)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func (h *hookSink) deliveries() []delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]delivery(nil), h.got...)
}

// placeWithHook places a call to `to` on sb (in process) with webhookUrl.
func placeWithHook(t *testing.T, sb *sandbox.Sandbox, to, hook string) (int, string) {
	t.Helper()
	body := `{"to":"` + to + `","objective":"Ask for the opening hours","fields":[{"name":"hours"}],"webhookUrl":"` + hook + `"}`
	req := httptest.NewRequest(http.MethodPost, "/v1/agent/calls", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+keyA)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	id, _ := m["callId"].(string)
	return rec.Code, id
}

func newHookSandbox(sink *hookSink, faults sandbox.WebhookFaults) *sandbox.Sandbox {
	sink.start = time.Now()
	return sandbox.New(sandbox.Options{WebhookClient: &http.Client{Transport: sink}, WebhookFaults: faults})
}

func TestWebhooksSendInProgressThenOneTerminalEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{})
		defer sb.Close()
		const hook = "http://127.0.0.1:9/webhooks/bys/tok"
		code, id := placeWithHook(t, sb, "+14155550123", hook)
		if code != http.StatusOK {
			t.Fatalf("POST with a loopback http webhookUrl: %d", code)
		}
		time.Sleep(time.Minute)
		got := sink.deliveries()
		if len(got) != 2 {
			t.Fatalf("%d deliveries, want 2: %+v", len(got), got)
		}
		first, last := got[0], got[1]
		if first.body["event"] != "call.in_progress" || first.body["status"] != "in_progress" || first.at != 3*time.Second {
			t.Errorf("first delivery %v at %s, want call.in_progress at 3 s (queued 1 s, dialing 2 s)", first.body, first.at)
		}
		if last.body["event"] != "call.completed" || last.body["status"] != "completed" || last.at != 11*time.Second {
			t.Errorf("last delivery %v at %s, want call.completed at 11 s", last.body, last.at)
		}
		for _, d := range got {
			if d.url != hook || d.header.Get("Content-Type") != "application/json" {
				t.Errorf("delivery to %s with Content-Type %q", d.url, d.header.Get("Content-Type"))
			}
			for _, k := range []string{"event", "eventId", "timestamp", "callId", "status", "to", "objective", "startedAt", "endedAt"} {
				if _, ok := d.body[k]; !ok {
					t.Errorf("%s lacks %s: %v", d.body["event"], k, d.body)
				}
			}
			if d.body["callId"] != id || d.body["to"] != "+14155550123" {
				t.Errorf("delivery names call %v to %v, want %s", d.body["callId"], d.body["to"], id)
			}
		}
		if first.body["eventId"] == last.body["eventId"] {
			t.Error("two events share one eventId")
		}
		if first.body["endedAt"] != nil || last.body["endedAt"] == nil || last.body["startedAt"] == nil {
			t.Errorf("timestamps: in_progress endedAt %v, completed startedAt %v endedAt %v", first.body["endedAt"], last.body["startedAt"], last.body["endedAt"])
		}
		if ex, _ := last.body["extracted"].(map[string]any); ex["hours"] == nil {
			t.Errorf("the completed event lacks the extracted field: %v", last.body)
		}
	})
}

func TestWebhooksOfACallNeverAnsweredAreOneTerminalEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{})
		defer sb.Close()
		placeWithHook(t, sb, "+14155550001", "http://localhost:9/h")
		time.Sleep(time.Minute)
		got := sink.deliveries()
		if len(got) != 1 || got[0].body["event"] != "call.no_answer" || got[0].body["startedAt"] != nil {
			t.Fatalf("deliveries %+v, want one call.no_answer with startedAt null", got)
		}
	})
}

func TestAFailedDeliveryIsRetriedWithBackOffAndTheSameEventID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{answer: func(n int) int {
			if n <= 3 {
				return http.StatusServiceUnavailable
			}
			return http.StatusNoContent
		}}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{})
		defer sb.Close()
		placeWithHook(t, sb, "+14155550004", "http://[::1]:9/h") // fails after 2 s (queued 1 s, dialing 1 s): one event
		time.Sleep(time.Minute)
		got := sink.deliveries()
		if len(got) != 4 {
			t.Fatalf("%d attempts, want 4 (three 503s, then 204)", len(got))
		}
		wantAt := []time.Duration{2 * time.Second, 2500 * time.Millisecond, 3500 * time.Millisecond, 5500 * time.Millisecond}
		for i, d := range got {
			if d.body["eventId"] != got[0].body["eventId"] {
				t.Errorf("attempt %d has eventId %v, want %v", i+1, d.body["eventId"], got[0].body["eventId"])
			}
			if d.at != wantAt[i] {
				t.Errorf("attempt %d at %s, want %s", i+1, d.at, wantAt[i])
			}
		}
	})
}

func TestADeliveryThatNeverSucceedsStopsAfterItsAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{answer: func(int) int { return http.StatusInternalServerError }}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{})
		defer sb.Close()
		placeWithHook(t, sb, "+14155550004", "http://127.0.0.1:9/h")
		time.Sleep(time.Hour)
		if n := len(sink.deliveries()); n != sandbox.DefaultWebhookAttempts {
			t.Fatalf("%d attempts, want %d", n, sandbox.DefaultWebhookAttempts)
		}
	})
}

func TestWebhookFaultsDropAndDuplicateDeliveries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{
			Drop:       func(event string) bool { return event == "call.in_progress" },
			Duplicates: 2,
		})
		defer sb.Close()
		placeWithHook(t, sb, "+14155550123", "http://127.0.0.1:9/h")
		time.Sleep(time.Minute)
		got := sink.deliveries()
		if len(got) != 3 {
			t.Fatalf("%d deliveries, want 3 (in_progress dropped, completed sent 3 times)", len(got))
		}
		for _, d := range got {
			if d.body["event"] != "call.completed" || d.body["eventId"] != got[0].body["eventId"] {
				t.Errorf("delivery %v, want call.completed with eventId %v", d.body, got[0].body["eventId"])
			}
		}
	})
}

func TestWebhooksGoToLoopbackHostsOnlyByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{})
		defer sb.Close()
		if code, _ := placeWithHook(t, sb, "+14155550004", "https://hooks.example.com/h"); code != http.StatusOK {
			t.Fatalf("an https webhookUrl was refused: %d", code)
		}
		if code, _ := placeWithHook(t, sb, "+14155550004", "http://hooks.example.com/h"); code != http.StatusBadRequest {
			t.Errorf("an http webhookUrl off loopback: %d, want 400", code)
		}
		time.Sleep(time.Minute)
		if got := sink.deliveries(); len(got) != 0 {
			t.Errorf("delivered off loopback without WebhookAnyHost: %+v", got)
		}
	})
}

func TestCloseStopsTheDeliveriesToCome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sink := &hookSink{}
		sb := newHookSandbox(sink, sandbox.WebhookFaults{})
		placeWithHook(t, sb, "+14155550123", "http://127.0.0.1:9/h")
		time.Sleep(5 * time.Second) // in_progress delivered, completed to come
		sb.Close()
		time.Sleep(time.Minute)
		if got := sink.deliveries(); len(got) != 1 {
			t.Errorf("%d deliveries, want 1 (the one before Close)", len(got))
		}
	})
}
