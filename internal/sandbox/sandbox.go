// Package sandbox owns the in-process simulator of the By Your Side agent
// calls API (POST /v1/agent/calls, GET /v1/agent/calls/{id},
// GET /v1/agent/calls?limit=). It applies the reference's validation,
// guardrails, error tokens, bearer-key tenant scoping, status lifecycle and
// list ordering, so a client written against it works unchanged against the
// real service. Outcomes are chosen by the destination number (see Numbers),
// and the lifecycle is derived lazily from a Clock, so tests can step a
// ManualClock through every status without goroutines or sleeps.
//
// Choices where the reference is silent:
//   - A body that is not a JSON object is 400 invalid_request; over 1 MiB is
//     413 request_too_large. JSON null counts as absent for every field; an
//     objective that is not a string is objective_required.
//   - Unknown paths and calls of other keys are 404 not_found; a known path
//     with the wrong method is 405 method_not_allowed (with Allow).
//   - limit defaults to 20; above 100 it is clamped to 100; below 1 or not an
//     integer it is 400 invalid_limit.
//   - durationSec is null until the call ends, then the connected seconds
//     (0 for a call that was never answered). startedAt is null until answered.
//   - The rate limit is a sliding 60 s window (of Clock time, not scaled) over
//     placements that passed validation and guardrails. The minute cap refuses
//     a call once the key's billed minutes reach it; a call is billed its
//     connected time rounded up to whole minutes when placed.
//   - A completed or voicemail call's recordingUrl is
//     {origin}/v1/agent/calls/{id}/recording, where origin is the one the
//     request for the record was sent to (Options.RecordingBaseURL overrides
//     it). GET and HEAD there serve a short generated WAV (Recording), with
//     Range requests, to the call's key only; 404 not_found before the call
//     has ended and for other keys.
//   - State is in memory: at most MaxCallsPerKey calls per key (oldest
//     evicted) and MaxTenants keys (least recently used evicted, with their
//     calls, rate window, minutes and PlacedCount).
package sandbox

import (
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
)

// Options configures a Sandbox. The zero value gives the documented defaults.
type Options struct {
	Clock              Clock   // default: real time
	TimeScale          float64 // >0; lifecycle durations are divided by it (10 = ten times faster). Default 1
	RateLimitPerMinute int     // placements per key per sliding minute; 0 = default 30; negative = unlimited
	MinuteCap          float64 // billed minutes per key; 0 = default 600; negative = unlimited
	MaxCallsPerKey     int     // calls kept per key, oldest evicted; default 1000
	MaxTenants         int     // keys kept, least recently used evicted; default 10000
	RecordingBaseURL   string  // origin of recordingUrl; default: the origin each request was sent to

	// Webhook deliveries (see webhooks.go): the client that sends them
	// (default: a plain client that follows no redirect), whether hosts
	// other than loopback ones are delivered to (default no), how many
	// attempts an event gets (default 6) and the first retry delay
	// (default 500 ms, doubling), and faults for tests.
	WebhookClient    *http.Client
	WebhookAnyHost   bool
	WebhookAttempts  int
	WebhookRetryBase time.Duration
	WebhookFaults    WebhookFaults
}

// Defaults applied by New.
const (
	DefaultRateLimitPerMinute = 30
	DefaultMinuteCap          = 600
	DefaultMaxCallsPerKey     = 1000
	DefaultMaxTenants         = 10000

	// MaxBodyBytes caps a POST body; larger is 413 request_too_large.
	MaxBodyBytes = 1 << 20
	// maxKeyLen bounds the API keys the sandbox will remember.
	maxKeyLen = 512
)

const (
	callsPath    = "/v1/agent/calls"
	defaultLimit = 20
	maxLimit     = 100
)

// Sandbox is an http.Handler simulating the API. It is safe for concurrent use.
type Sandbox struct {
	opts Options

	mu      sync.Mutex
	tenants map[string]*list.Element // value: *tenant; front = most recently used
	lru     *list.List
	seq     uint64
	total   int

	hooks *webhooks
}

type tenant struct {
	key     string
	calls   []*call // creation order
	byID    map[string]*call
	window  []time.Time // admitted placements in the last minute, oldest first
	minutes float64
	placed  int
}

// New returns a Sandbox with opts, defaults filled in.
func New(opts Options) *Sandbox {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if !(opts.TimeScale > 0) || math.IsInf(opts.TimeScale, 0) {
		opts.TimeScale = 1
	}
	if opts.RateLimitPerMinute == 0 {
		opts.RateLimitPerMinute = DefaultRateLimitPerMinute
	}
	if opts.MinuteCap == 0 || math.IsNaN(opts.MinuteCap) {
		opts.MinuteCap = DefaultMinuteCap
	}
	if opts.MaxCallsPerKey <= 0 {
		opts.MaxCallsPerKey = DefaultMaxCallsPerKey
	}
	if opts.MaxTenants <= 0 {
		opts.MaxTenants = DefaultMaxTenants
	}
	opts.RecordingBaseURL = strings.TrimRight(opts.RecordingBaseURL, "/")
	if opts.WebhookClient == nil {
		opts.WebhookClient = &http.Client{
			Timeout:       webhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if opts.WebhookAttempts <= 0 {
		opts.WebhookAttempts = DefaultWebhookAttempts
	}
	if opts.WebhookRetryBase <= 0 {
		opts.WebhookRetryBase = DefaultWebhookRetryBase
	}
	return &Sandbox{opts: opts, tenants: make(map[string]*list.Element), lru: list.New(), hooks: newWebhooks()}
}

// PlacedCount returns how many calls key has placed (POSTs that created a
// call), for tests.
func (s *Sandbox) PlacedCount(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.tenants[key]; ok {
		return e.Value.(*tenant).placed
	}
	return 0
}

// TotalPlaced returns how many calls all keys have placed.
func (s *Sandbox) TotalPlaced() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// ServeHTTP routes the three documented endpoints and the recordings.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	var id, recording string
	switch {
	case path == callsPath:
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			methodNotAllowed(w, "GET, POST")
			return
		}
	case strings.HasSuffix(path, recordingSuffix) && strings.HasPrefix(path, callsPath+"/"):
		var ok bool
		if recording, ok = recordingID(path); !ok {
			writeError(w, http.StatusNotFound, "not_found")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			methodNotAllowed(w, "GET, HEAD")
			return
		}
	case strings.HasPrefix(path, callsPath+"/"):
		id = path[len(callsPath)+1:]
		if id == "" || strings.Contains(id, "/") {
			writeError(w, http.StatusNotFound, "not_found")
			return
		}
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
	default:
		writeError(w, http.StatusNotFound, "not_found")
		return
	}
	key, ok := bearerKey(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="byourside"`)
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	switch {
	case recording != "":
		s.serveRecording(w, r, key, recording)
	case id != "":
		s.getCall(w, r, key, id)
	case r.Method == http.MethodPost:
		s.placeCall(w, r, key)
	default:
		s.listCalls(w, r, key)
	}
}

// recordingBase is the origin recording URLs start with: RecordingBaseURL
// when set, else the origin r was sent to (so that a record's recordingUrl
// leads back to this sandbox, embedded or served).
func (s *Sandbox) recordingBase(r *http.Request) string {
	if s.opts.RecordingBaseURL != "" {
		return s.opts.RecordingBaseURL
	}
	scheme := r.URL.Scheme // set on requests made in process
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + r.Host
}

// bearerKey extracts an agent key from "Bearer bys_ak_<non-empty>".
func bearerKey(h string) (string, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	if len(key) <= len("bys_ak_") || len(key) > maxKeyLen || !strings.HasPrefix(key, "bys_ak_") {
		return "", false
	}
	for _, c := range key {
		if c <= ' ' || c == 0x7f {
			return "", false
		}
	}
	return key, true
}

func (s *Sandbox) placeCall(w http.ResponseWriter, r *http.Request, key string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "request_too_large")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	req, token := validate(body)
	if token != "" {
		writeError(w, http.StatusBadRequest, token)
		return
	}
	p := profileFor(req.to)
	id := newUUID()

	s.mu.Lock()
	now := s.opts.Clock.Now()
	t := s.tenantFor(key, true)
	if limit := s.opts.RateLimitPerMinute; limit > 0 {
		cutoff := now.Add(-time.Minute)
		i := 0
		for i < len(t.window) && !t.window[i].After(cutoff) {
			i++
		}
		t.window = append(t.window[:0], t.window[i:]...)
		if len(t.window) >= limit {
			wait := t.window[0].Add(time.Minute).Sub(now)
			s.mu.Unlock()
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeError(w, http.StatusTooManyRequests, "rate_limited")
			return
		}
	}
	if s.opts.MinuteCap > 0 && t.minutes >= s.opts.MinuteCap {
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, "over_minute_cap")
		return
	}
	if s.opts.RateLimitPerMinute > 0 {
		t.window = append(t.window, now)
	}
	if p.placeStatus != 0 {
		s.mu.Unlock()
		writeError(w, p.placeStatus, p.placeToken)
		return
	}
	s.seq++
	c := newCall(id, s.seq, now, req.to, req.objective, req.hasContext, req.fields, p, s.opts.TimeScale)
	c.speech(req.language, req.voice)
	t.minutes += c.billedMinutes()
	t.calls = append(t.calls, c)
	t.byID[id] = c
	for len(t.calls) > s.opts.MaxCallsPerKey {
		delete(t.byID, t.calls[0].id)
		t.calls[0] = nil
		t.calls = t.calls[1:]
	}
	t.placed++
	s.total++
	s.mu.Unlock()
	s.scheduleWebhooks(c, now, req.webhookURL)

	var voice *string
	if c.voice != "" {
		voice = strp(c.voice)
	}
	writeJSON(w, http.StatusOK, placeAnswer{CallID: id, Status: "queued", Language: c.language, LanguageSource: c.languageSource, Voice: voice})
}

// placeAnswer is the body of a successful POST /v1/agent/calls.
type placeAnswer struct {
	CallID         string  `json:"callId"`
	Status         string  `json:"status"`
	Language       string  `json:"language"`
	LanguageSource string  `json:"languageSource"`
	Voice          *string `json:"voice"`
}

func (s *Sandbox) getCall(w http.ResponseWriter, r *http.Request, key, id string) {
	base := s.recordingBase(r)
	s.mu.Lock()
	now := s.opts.Clock.Now()
	var rec record
	var found bool
	if t := s.tenantFor(key, false); t != nil {
		if c, ok := t.byID[id]; ok {
			rec, found = c.view(now, base), true
		}
	}
	s.mu.Unlock()
	if !found {
		writeError(w, http.StatusNotFound, "not_found")
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

func (s *Sandbox) listCalls(w http.ResponseWriter, r *http.Request, key string) {
	limit := defaultLimit
	if q := r.URL.Query(); q.Has("limit") {
		n, err := strconv.ParseInt(q.Get("limit"), 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(q.Get("limit"), "-"):
			limit = maxLimit
		case err != nil || n < 1:
			writeError(w, http.StatusBadRequest, "invalid_limit")
			return
		default:
			limit = int(min(n, maxLimit))
		}
	}
	base := s.recordingBase(r)
	s.mu.Lock()
	now := s.opts.Clock.Now()
	recs := []record{}
	if t := s.tenantFor(key, false); t != nil {
		calls := append([]*call(nil), t.calls...)
		sort.Slice(calls, func(i, j int) bool {
			if !calls[i].created.Equal(calls[j].created) {
				return calls[i].created.After(calls[j].created)
			}
			return calls[i].seq > calls[j].seq
		})
		for _, c := range calls[:min(limit, len(calls))] {
			recs = append(recs, c.view(now, base))
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string][]record{"calls": recs})
}

// tenantFor returns key's tenant, marking it most recently used. With create
// it makes one, evicting the least recently used beyond MaxTenants; without,
// it returns nil for a key it has never seen. Call with s.mu held.
func (s *Sandbox) tenantFor(key string, create bool) *tenant {
	if e, ok := s.tenants[key]; ok {
		s.lru.MoveToFront(e)
		return e.Value.(*tenant)
	}
	if !create {
		return nil
	}
	t := &tenant{key: key, byID: make(map[string]*call)}
	s.tenants[key] = s.lru.PushFront(t)
	for s.lru.Len() > s.opts.MaxTenants {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.tenants, old.Value.(*tenant).key)
	}
	return t
}

// newUUID returns a random (version 4) UUID string.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed")
}

func writeError(w http.ResponseWriter, status int, token string) {
	writeJSON(w, status, map[string]string{"error": token})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen: every value is built from strings and numbers
		status, b = http.StatusServiceUnavailable, []byte(`{"error":"store_error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
