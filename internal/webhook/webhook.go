// Package webhook owns the server's side of the API's webhook events
// (--public-url): the receiver URLs it gives the calls it places, each with
// an unguessable token bound to the call's key, and the receiver of
// POST /webhooks/bys/{token}. An event is a wake-up only: it tells the
// call's follower (follow.Hub) to fetch the record from the API with the
// bound key, so a forged event costs at most one rate-limited GET and is
// never shown to anyone as the record.
//
// The bindings and the eventIds seen are kept in the process's memory and,
// with a shared store (Options.Shared: the Redis of --state-url), there
// too: then any replica, or a restarted one, takes the events of a call
// another placed, and an eventId counts once across replicas. Without one,
// a restarted server answers 404 to the events of the calls it placed
// before, and those calls are followed by polling.
package webhook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/sirupsen/logrus"
)

// Receiver limits and defaults.
const (
	// PathPrefix is where the receiver listens; the token follows it.
	PathPrefix = "/webhooks/bys/"
	// MaxBodyBytes caps an event body; a larger one is 413.
	MaxBodyBytes = 64 << 10
	// DefaultTokenTTL is how long a token stays bound to its call.
	DefaultTokenTTL = 24 * time.Hour
	// DefaultDedupeFor is how long an eventId is remembered.
	DefaultDedupeFor = 6 * time.Hour

	tokenBytes = 32
	tokenLen   = 43 // base64url of tokenBytes
	maxTokens  = 200000
	maxEvents  = 200000
)

// Outcomes of an event, as counted by Options.Observe.
const (
	OutcomeAccepted     = "accepted"
	OutcomeDuplicate    = "duplicate"
	OutcomeUnknownToken = "unknown_token"
	OutcomeUnknownCall  = "unknown_call"
	OutcomeInvalid      = "invalid"
	OutcomeTooLarge     = "too_large"
)

// Waker is what the receiver needs of the followers (follow.Hub).
type Waker interface {
	// Expect marks a call as webhook-backed.
	Expect(keyFP, callID string)
	// Wake tells the call's follower that an event arrived.
	Wake(keyFP, callID string) bool
}

// Options configure a Service.
type Options struct {
	// PublicURL is where the API reaches this server: https://host[:port],
	// or http:// on a loopback host (config validates it).
	PublicURL string
	Hub       Waker
	// Observe, when set, counts each event by outcome.
	Observe func(outcome string)
	Log     logrus.FieldLogger
	// Clock is the server's clock (default the wall clock).
	Clock clock.Clock
	// TokenTTL and DedupeFor: zero selects the defaults.
	TokenTTL  time.Duration
	DedupeFor time.Duration
	// Shared, when set, keeps the bindings and the eventIds seen where
	// every replica reads them. A failing store falls back to memory.
	Shared Shared
}

// Shared is the part of a shared state store the receiver uses (state.Store
// with state.Records: Redis).
type Shared interface {
	PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error
	GetRecord(ctx context.Context, kind, id string) (val []byte, ok bool, err error)
	UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error)
}

const (
	recordKind    = "webhook"
	sharedTimeout = time.Second
)

// sharedBinding is a binding as kept in the shared store.
type sharedBinding struct {
	KeyFP  string `json:"keyFp"`
	CallID string `json:"callId,omitempty"`
}

// Service hands out receiver URLs and receives the events sent to them.
// It is an http.Handler for POST /webhooks/bys/{token}.
type Service struct {
	opts Options
	base string // PublicURL + PathPrefix
	host string

	mu     sync.Mutex
	tokens map[string]*binding
	tokenQ []string
	seen   map[string]time.Time // token + "\x00" + eventId
	seenQ  []string
}

type binding struct {
	keyFP  string
	callID string // "" until the placement answered
	at     time.Time
}

// New returns the service for opts.PublicURL.
func New(opts Options) (*Service, error) {
	u, err := url.Parse(opts.PublicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("public URL %q is not an absolute http(s) URL", opts.PublicURL)
	}
	if opts.Hub == nil {
		return nil, errors.New("webhook: Options.Hub is required")
	}
	opts.Clock = clock.Or(opts.Clock)
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = DefaultTokenTTL
	}
	if opts.DedupeFor <= 0 {
		opts.DedupeFor = DefaultDedupeFor
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		opts.Log = l
	}
	return &Service{
		opts: opts, base: strings.TrimRight(opts.PublicURL, "/") + PathPrefix, host: u.Host,
		tokens: map[string]*binding{}, seen: map[string]time.Time{},
	}, nil
}

// Host is the public URL's host[:port], accepted as a Host by the receiver.
func (s *Service) Host() string { return s.host }

// NewURL returns a fresh receiver URL for a call about to be placed with
// the key whose fingerprint is keyFP, and its token (for Placed or Forget).
// The URL holds no key and no fingerprint.
func (s *Service) NewURL(keyFP string) (string, string) {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:])
	token := base64.RawURLEncoding.EncodeToString(b[:])
	now := s.opts.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenQ = prune(s.tokenQ, maxTokens, func(t string) bool {
		b, ok := s.tokens[t]
		if ok && (now.Sub(b.at) > s.opts.TokenTTL || len(s.tokens) >= maxTokens) {
			delete(s.tokens, t)
			return true
		}
		return !ok
	})
	s.tokens[token] = &binding{keyFP: keyFP, at: now}
	s.tokenQ = append(s.tokenQ, token)
	s.share(token, sharedBinding{KeyFP: keyFP})
	return s.base + token, token
}

// share writes a binding to the shared store, if any; a failure leaves it
// in this process only.
func (s *Service) share(token string, b sharedBinding) {
	if s.opts.Shared == nil {
		return
	}
	raw, _ := json.Marshal(b)
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	if err := s.opts.Shared.PutRecord(ctx, recordKind, hashed(token), raw, s.opts.TokenTTL, false); err != nil {
		s.opts.Log.WithError(err).Warn("could not share a webhook binding: this replica alone takes that call's events")
	}
}

// hashed keeps tokens out of the shared store's keys: they are credentials.
func hashed(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// lookup finds token's binding here, else in the shared store.
func (s *Service) lookup(token string) (keyFP, callID string, ok bool) {
	s.mu.Lock()
	b, ok := s.tokens[token]
	if ok {
		keyFP, callID = b.keyFP, b.callID
	}
	s.mu.Unlock()
	if ok || s.opts.Shared == nil || len(token) != tokenLen {
		return keyFP, callID, ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	raw, found, err := s.opts.Shared.GetRecord(ctx, recordKind, hashed(token))
	var sb sharedBinding
	if err != nil || !found || json.Unmarshal(raw, &sb) != nil || sb.KeyFP == "" {
		return "", "", false
	}
	return sb.KeyFP, sb.CallID, true
}

// Placed binds token to the call placed with its URL and marks the call as
// webhook-backed.
func (s *Service) Placed(token, callID string) {
	s.mu.Lock()
	b, ok := s.tokens[token]
	if ok {
		b.callID = callID
	}
	s.mu.Unlock()
	if ok {
		s.share(token, sharedBinding{KeyFP: b.keyFP, CallID: callID})
		s.opts.Hub.Expect(b.keyFP, callID)
	}
}

// Forget drops the token of a placement that failed.
func (s *Service) Forget(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// prune drops entries from the front of q while drop says so (drop also
// forgets them); it keeps q within limit.
func prune(q []string, limit int, drop func(string) bool) []string {
	for len(q) > 0 && (drop(q[0]) || len(q) >= limit) {
		q = q[1:]
	}
	return q
}

// event is the part of an event body the receiver reads.
type event struct {
	Event   string `json:"event"`
	EventID string `json:"eventId"`
	CallID  string `json:"callId"`
}

// ServeHTTP receives one event: 200 once it is taken (the follower is woken
// after the answer is on its way), 404 for an unknown token or a call the
// token was not given to, 400 for a body that is not a JSON event, 413 over
// 64 KiB, 415 for a Content-Type that is not JSON. No Authorization is
// needed: the token is the credential.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.answer(w, http.StatusMethodNotAllowed, OutcomeInvalid, "method_not_allowed", "send events with POST")
		return
	}
	token := strings.TrimPrefix(r.URL.Path, PathPrefix)
	keyFP, callID, ok := s.lookup(token)
	if !ok || strings.Contains(token, "/") {
		s.answer(w, http.StatusNotFound, OutcomeUnknownToken, "unknown_token", "no call of this server has this webhook URL")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			s.answer(w, http.StatusUnsupportedMediaType, OutcomeInvalid, "unsupported_media_type", "send the event as Content-Type: application/json")
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		s.answer(w, http.StatusBadRequest, OutcomeInvalid, "bad_request", "the body could not be read")
		return
	}
	if len(body) > MaxBodyBytes {
		s.answer(w, http.StatusRequestEntityTooLarge, OutcomeTooLarge, "request_too_large", fmt.Sprintf("an event body is at most %d bytes", MaxBodyBytes))
		return
	}
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil || ev.EventID == "" || ev.CallID == "" {
		s.answer(w, http.StatusBadRequest, OutcomeInvalid, "invalid_event", "the body must be a JSON event with eventId and callId")
		return
	}
	if callID != "" && ev.CallID != callID {
		s.answer(w, http.StatusNotFound, OutcomeUnknownCall, "unknown_call", "this webhook URL was given to another call")
		return
	}
	if !s.firstSight(token + "\x00" + ev.EventID) {
		s.answer(w, http.StatusOK, OutcomeDuplicate, "", "")
		return
	}
	s.answer(w, http.StatusOK, OutcomeAccepted, "", "")
	woke := s.opts.Hub.Wake(keyFP, ev.CallID)
	s.opts.Log.WithFields(logrus.Fields{"callId": ev.CallID, "event": ev.Event, "followed": woke}).Debug("webhook event")
}

// firstSight records id and reports whether it is new: across replicas
// with a shared store, in this process without one (or while it fails).
func (s *Service) firstSight(id string) bool {
	if s.opts.Shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		first, err := s.opts.Shared.UseOnce(ctx, "webhook-event:"+hashed(id), s.opts.DedupeFor)
		cancel()
		if err == nil {
			return first
		}
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.seen[id]; ok && now.Sub(at) <= s.opts.DedupeFor {
		return false
	}
	s.seenQ = prune(s.seenQ, maxEvents, func(k string) bool {
		at, ok := s.seen[k]
		if ok && (now.Sub(at) > s.opts.DedupeFor || len(s.seen) >= maxEvents) {
			delete(s.seen, k)
			return true
		}
		return !ok
	})
	s.seen[id] = now
	s.seenQ = append(s.seenQ, id)
	return true
}

func (s *Service) answer(w http.ResponseWriter, status int, outcome, token, message string) {
	if s.opts.Observe != nil {
		s.opts.Observe(outcome)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	body := map[string]string{"status": outcome}
	if token != "" {
		body = map[string]string{"error": token, "message": message}
	}
	_ = json.NewEncoder(w).Encode(body)
}
