package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Webhook deliveries, as the reference describes them: a call placed with a
// webhookUrl gets call.in_progress when it is answered, then one terminal
// event (call.completed, call.no_answer, call.voicemail, call.declined or
// call.failed). A delivery answered with anything but 2xx, or not answered,
// is retried with back-off (WebhookRetryBase, doubling, WebhookAttempts in
// all), with the same eventId.
//
// Choices where the reference is silent:
//   - Events are timed in real time from the Clock's reading at placement
//     (a ManualClock does not move them).
//   - Only URLs on loopback hosts (127.0.0.0/8, ::1, localhost) are
//     delivered to unless Options.WebhookAnyHost is set: a simulator should
//     not send traffic elsewhere by surprise. The real API refuses http://
//     URLs; the sandbox accepts them on loopback hosts, for tests.
//   - The X-BYS-Signature header is not sent (its scheme is undocumented).

// Defaults of the webhook deliveries.
const (
	DefaultWebhookAttempts  = 6
	DefaultWebhookRetryBase = 500 * time.Millisecond
	webhookTimeout          = 5 * time.Second
)

// WebhookFaults make deliveries misbehave, for tests of the receiving side.
type WebhookFaults struct {
	// Drop, when it returns true for an event name (call.in_progress,
	// call.completed, ...), loses that event: it is never sent.
	Drop func(event string) bool
	// Duplicates sends each delivered event this many more times, with the
	// same eventId.
	Duplicates int
}

// webhookEvent is the JSON body of one delivery.
type webhookEvent struct {
	Event       string         `json:"event"`
	EventID     string         `json:"eventId"`
	Timestamp   string         `json:"timestamp"`
	CallID      string         `json:"callId"`
	Status      string         `json:"status"`
	To          string         `json:"to"`
	Objective   string         `json:"objective"`
	StartedAt   *string        `json:"startedAt"`
	EndedAt     *string        `json:"endedAt"`
	DurationSec *int64         `json:"durationSec,omitempty"`
	Summary     *string        `json:"summary,omitempty"`
	Extracted   map[string]any `json:"extracted,omitempty"`
	Error       *string        `json:"error,omitempty"`
}

// webhooks runs the deliveries of one sandbox.
type webhooks struct {
	mu      sync.Mutex
	timers  map[*time.Timer]struct{}
	ctx     context.Context
	stop    context.CancelFunc
	running sync.WaitGroup
}

func newWebhooks() *webhooks {
	ctx, stop := context.WithCancel(context.Background())
	return &webhooks{timers: map[*time.Timer]struct{}{}, ctx: ctx, stop: stop}
}

// Close stops the webhook deliveries still to come and waits for those
// under way to give up.
func (s *Sandbox) Close() {
	w := s.hooks
	w.mu.Lock()
	for t := range w.timers {
		if t.Stop() {
			w.running.Done()
		}
	}
	clear(w.timers)
	w.mu.Unlock()
	w.stop()
	w.running.Wait()
}

// deliverable reports whether the sandbox sends events to raw.
func (s *Sandbox) deliverable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return s.opts.WebhookAnyHost || isLoopbackHost(u.Hostname())
}

// scheduleWebhooks plans the events of c, placed at now, for raw.
func (s *Sandbox) scheduleWebhooks(c *call, now time.Time, raw string) {
	if raw == "" || !s.deliverable(raw) {
		return
	}
	if !c.answerAt.IsZero() && (c.endAt.IsZero() || c.answerAt.Before(c.endAt)) {
		s.after(c.answerAt.Sub(now), func() { s.deliver(c, c.answerAt, raw) })
	}
	if !c.endAt.IsZero() {
		s.after(c.endAt.Sub(now), func() { s.deliver(c, c.endAt, raw) })
	}
}

// after runs f in d, unless the sandbox is closed first.
func (s *Sandbox) after(d time.Duration, f func()) {
	w := s.hooks
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx.Err() != nil {
		return
	}
	w.running.Add(1)
	var t *time.Timer
	t = time.AfterFunc(max(d, 0), func() {
		defer w.running.Done()
		w.mu.Lock()
		delete(w.timers, t)
		w.mu.Unlock()
		f()
	})
	w.timers[t] = struct{}{}
}

// deliver sends the event that c reaches at `at`, retrying until a 2xx.
func (s *Sandbox) deliver(c *call, at time.Time, raw string) {
	s.mu.Lock()
	rec := c.view(at, s.opts.RecordingBaseURL) // events carry no recordingUrl
	s.mu.Unlock()
	ev := webhookEvent{
		Event: "call." + rec.Status, EventID: "evt_" + newUUID(), Timestamp: *stamp(at),
		CallID: rec.ID, Status: rec.Status, To: rec.To, Objective: rec.Objective,
		StartedAt: rec.StartedAt, EndedAt: rec.EndedAt,
		DurationSec: rec.DurationSec, Summary: rec.Summary, Extracted: rec.Extracted, Error: rec.Error,
	}
	faults := s.opts.WebhookFaults
	if faults.Drop != nil && faults.Drop(ev.Event) {
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return
	}
	ctx := s.hooks.ctx
	delay := s.opts.WebhookRetryBase
	for attempt := 1; attempt <= s.opts.WebhookAttempts; attempt++ {
		if s.post(ctx, raw, body) {
			for range faults.Duplicates {
				s.post(ctx, raw, body)
			}
			return
		}
		if attempt == s.opts.WebhookAttempts {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// post sends one delivery attempt and reports whether it got a 2xx.
func (s *Sandbox) post(ctx context.Context, raw string, body []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bys-sandbox-webhooks/1")
	resp, err := s.opts.WebhookClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}
