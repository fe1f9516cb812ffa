package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/webhook"
)

// fakeHub records what the receiver asks of the followers.
type fakeHub struct {
	mu       sync.Mutex
	expected []string
	wakes    []string
}

func (h *fakeHub) Expect(keyFP, callID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.expected = append(h.expected, keyFP+" "+callID)
}

func (h *fakeHub) Wake(keyFP, callID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wakes = append(h.wakes, keyFP+" "+callID)
	return true
}

func (h *fakeHub) woken() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.wakes...)
}

type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) observe(s string) { o.mu.Lock(); o.n[s]++; o.mu.Unlock() }

func (o *outcomes) get(s string) int { o.mu.Lock(); defer o.mu.Unlock(); return o.n[s] }

func newService(t *testing.T) (*webhook.Service, *fakeHub, *outcomes) {
	t.Helper()
	hub := &fakeHub{}
	obs := &outcomes{n: map[string]int{}}
	s, err := webhook.New(webhook.Options{PublicURL: "https://mcp.example.com", Hub: hub, Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	return s, hub, obs
}

func post(s http.Handler, path, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func tokenOf(t *testing.T, u string) string {
	t.Helper()
	tok, ok := strings.CutPrefix(u, "https://mcp.example.com/webhooks/bys/")
	if !ok || len(tok) < 40 || strings.ContainsAny(tok, "/?#") {
		t.Fatalf("webhook URL %q is not {public-url}/webhooks/bys/{token} with a long token", u)
	}
	return tok
}

func TestTheWebhookURLHoldsAnUnguessableTokenAndNoKey(t *testing.T) {
	s, _, _ := newService(t)
	const fp = "fp_0123456789abcdef"
	u1, tok1 := s.NewURL(fp)
	u2, tok2 := s.NewURL(fp)
	if tokenOf(t, u1) != tok1 || tokenOf(t, u2) != tok2 || tok1 == tok2 {
		t.Fatalf("tokens %q and %q (URLs %s, %s): want two different tokens at the end of their URLs", tok1, tok2, u1, u2)
	}
	if strings.Contains(u1, fp) || strings.Contains(u1, "bys_ak_") {
		t.Errorf("the URL %s holds the key or its fingerprint", u1)
	}
}

func TestTheReceiverAnswersEveryBadInputWithItsStatus(t *testing.T) {
	s, hub, obs := newService(t)
	u, tok := s.NewURL("fpA")
	s.Placed(tok, "call-a")
	_, otherTok := s.NewURL("fpB")
	s.Placed(otherTok, "call-b")
	path := "/webhooks/bys/" + tokenOf(t, u)
	good := `{"event":"call.completed","eventId":"evt_1","callId":"call-a","status":"completed"}`
	tests := []struct {
		name, path, contentType, body string
		status                        int
		outcome                       string
	}{
		{"unknown token", "/webhooks/bys/nope", "application/json", good, 404, webhook.OutcomeUnknownToken},
		{"token with a slash", path + "/x", "application/json", good, 404, webhook.OutcomeUnknownToken},
		{"empty body", path, "application/json", "", 400, webhook.OutcomeInvalid},
		{"not JSON", path, "application/json", "call completed!", 400, webhook.OutcomeInvalid},
		{"JSON but not an object", path, "application/json", `["evt_1"]`, 400, webhook.OutcomeInvalid},
		{"no eventId", path, "application/json", `{"event":"call.completed","callId":"call-a"}`, 400, webhook.OutcomeInvalid},
		{"no callId", path, "application/json", `{"event":"call.completed","eventId":"evt_1"}`, 400, webhook.OutcomeInvalid},
		{"callId not a string", path, "application/json", `{"eventId":"evt_1","callId":7}`, 400, webhook.OutcomeInvalid},
		{"huge", path, "application/json", `{"eventId":"evt_1","callId":"call-a","pad":"` + strings.Repeat("x", 70000) + `"}`, 413, webhook.OutcomeTooLarge},
		{"wrong content type", path, "text/plain", good, 415, webhook.OutcomeInvalid},
		{"bad content type", path, "application/", good, 415, webhook.OutcomeInvalid},
		{"unknown callId for a valid token", path, "application/json", `{"eventId":"evt_2","callId":"call-zzz"}`, 404, webhook.OutcomeUnknownCall},
		{"a token for another key's call", path, "application/json", `{"eventId":"evt_3","callId":"call-b"}`, 404, webhook.OutcomeUnknownCall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := obs.get(tt.outcome)
			rec := post(s, tt.path, tt.contentType, tt.body)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.status, rec.Body.String())
			}
			if obs.get(tt.outcome) != before+1 {
				t.Errorf("outcome %s not counted", tt.outcome)
			}
			if strings.Contains(rec.Body.String(), "fpA") {
				t.Errorf("the answer names the key's fingerprint: %s", rec.Body.String())
			}
		})
	}
	if w := hub.woken(); len(w) != 0 {
		t.Fatalf("bad input woke followers: %v", w)
	}
	get := httptest.NewRecorder()
	s.ServeHTTP(get, httptest.NewRequest(http.MethodGet, path, nil))
	if get.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", get.Code)
	}

	// The good event, without a Content-Type too, wakes key A's follower of call-a.
	if rec := post(s, path, "", good); rec.Code != http.StatusOK {
		t.Fatalf("a good event: %d %s", rec.Code, rec.Body.String())
	}
	if w := hub.woken(); len(w) != 1 || w[0] != "fpA call-a" {
		t.Errorf("woken %v, want [fpA call-a]", w)
	}
	if got := hub.expected; len(got) != 2 || got[0] != "fpA call-a" || got[1] != "fpB call-b" {
		t.Errorf("expected calls %v", got)
	}
}

func TestAReplayedEventIDWakesOnce(t *testing.T) {
	s, hub, obs := newService(t)
	u, tok := s.NewURL("fpA")
	s.Placed(tok, "call-a")
	path := "/webhooks/bys/" + tokenOf(t, u)
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() {
			rec := post(s, path, "application/json", `{"event":"call.in_progress","eventId":"evt_same","callId":"call-a"}`)
			if rec.Code != http.StatusOK {
				t.Errorf("replay: %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if n := len(hub.woken()); n != 1 {
		t.Errorf("1000 replays of one eventId woke the follower %d times, want 1", n)
	}
	if obs.get(webhook.OutcomeAccepted) != 1 || obs.get(webhook.OutcomeDuplicate) != 999 {
		t.Errorf("accepted %d, duplicate %d; want 1, 999", obs.get(webhook.OutcomeAccepted), obs.get(webhook.OutcomeDuplicate))
	}
	// The next event of the call is new.
	post(s, path, "application/json", `{"event":"call.completed","eventId":"evt_next","callId":"call-a"}`)
	if n := len(hub.woken()); n != 2 {
		t.Errorf("the terminal event after the replays: %d wake-ups, want 2", n)
	}
}

func TestAnEventBeforeThePlacementAnsweredIsTaken(t *testing.T) {
	s, hub, _ := newService(t)
	u, tok := s.NewURL("fpA")
	rec := post(s, "/webhooks/bys/"+tokenOf(t, u), "application/json", `{"eventId":"evt_1","callId":"call-a"}`)
	if rec.Code != http.StatusOK {
		t.Fatalf("an event for a placement in flight: %d", rec.Code)
	}
	if w := hub.woken(); len(w) != 1 || w[0] != "fpA call-a" {
		t.Errorf("woken %v", w)
	}
	s.Forget(tok)
	if rec := post(s, "/webhooks/bys/"+tok, "application/json", `{"eventId":"evt_2","callId":"call-a"}`); rec.Code != http.StatusNotFound {
		t.Errorf("a forgotten token: %d, want 404", rec.Code)
	}
}

func TestNewRefusesAURLThatIsNotHTTP(t *testing.T) {
	for _, u := range []string{"", "mcp.example.com", "ftp://mcp.example.com", "https://"} {
		if _, err := webhook.New(webhook.Options{PublicURL: u, Hub: &fakeHub{}}); err == nil {
			t.Errorf("New accepted public URL %q", u)
		}
	}
}

// failingShared is a shared store that is down.
type failingShared struct{}

func (failingShared) PutRecord(context.Context, string, string, []byte, time.Duration, bool) error {
	return errors.New("down")
}
func (failingShared) GetRecord(context.Context, string, string) ([]byte, bool, error) {
	return nil, false, errors.New("down")
}
func (failingShared) UseOnce(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("down")
}

// Two replicas on one shared store: either takes the events of a call the
// other placed, an eventId counts once across both, and the store holds no
// token in clear.
func TestReplicasOnASharedStoreTakeEachOthersEvents(t *testing.T) {
	store := state.NewMemory()
	defer store.Close()
	hubA, hubB := &fakeHub{}, &fakeHub{}
	a, err := webhook.New(webhook.Options{PublicURL: "https://a.example.com", Hub: hubA, Shared: store})
	if err != nil {
		t.Fatal(err)
	}
	b, err := webhook.New(webhook.Options{PublicURL: "https://b.example.com", Hub: hubB, Shared: store})
	if err != nil {
		t.Fatal(err)
	}
	u, tok := a.NewURL("fpA")
	a.Placed(tok, "call-a")
	path := strings.TrimPrefix(u, "https://a.example.com")
	body := `{"event":"call.completed","eventId":"evt_1","callId":"call-a"}`
	if rec := post(b, path, "application/json", body); rec.Code != http.StatusOK {
		t.Fatalf("replica B, an event of replica A's call: %d %s", rec.Code, rec.Body.String())
	}
	if w := hubB.woken(); len(w) != 1 || w[0] != "fpA call-a" {
		t.Errorf("replica B woke %v, want [fpA call-a]", w)
	}
	if rec := post(a, path, "application/json", body); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "duplicate") {
		t.Errorf("the same eventId at replica A: %d %s, want a duplicate", rec.Code, rec.Body.String())
	}
	if w := hubA.woken(); len(w) != 0 {
		t.Errorf("a duplicate woke replica A: %v", w)
	}
	if rec := post(b, path, "application/json", `{"eventId":"evt_2","callId":"call-other"}`); rec.Code != http.StatusNotFound {
		t.Errorf("replica B, another call on that token: %d, want 404", rec.Code)
	}
	if _, ok, _ := store.GetRecord(context.Background(), "webhook", tok); ok {
		t.Error("the shared store keeps the token in clear")
	}
}

func TestAFailingSharedStoreFallsBackToMemory(t *testing.T) {
	hub := &fakeHub{}
	s, err := webhook.New(webhook.Options{PublicURL: "https://mcp.example.com", Hub: hub, Shared: failingShared{}})
	if err != nil {
		t.Fatal(err)
	}
	u, tok := s.NewURL("fpA")
	s.Placed(tok, "call-a")
	path := "/webhooks/bys/" + tokenOf(t, u)
	for range 3 {
		if rec := post(s, path, "application/json", `{"eventId":"evt_1","callId":"call-a"}`); rec.Code != http.StatusOK {
			t.Fatalf("with the store down: %d", rec.Code)
		}
	}
	if w := hub.woken(); len(w) != 1 {
		t.Errorf("three copies of one event woke %d times, want 1 (dedupe in memory)", len(w))
	}
}
