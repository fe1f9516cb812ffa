// Package recordings owns the recording links of --public-url: a link a
// person can open for an hour to listen to an ended call's recording,
// {public-url}/recordings/{token}, without any credential of theirs, and
// the handler that streams the audio behind it (with Range) from the API.
//
// The token is 32 random bytes and says nothing itself: it names a record
// in the state store (kept under the token's hash) that holds the call id,
// the record's recordingUrl, the time the link expires and the call's key,
// sealed (safety.SealKey) with the store's secret and bound to that hash.
// So a link is bound to its call and its key, works on every replica that
// shares the store and across restarts, and no key or key fingerprint is
// in the URL. The key itself never leaves the server: the handler fetches
// the recording with it from the API's own origin (client.Recording) and
// streams the answer.
package recordings

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
	"strconv"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/sirupsen/logrus"
)

const (
	// PathPrefix is where the links are served; the token follows it.
	PathPrefix = "/recordings/"
	// DefaultTTL is how long a link can be opened.
	DefaultTTL = time.Hour
	// Expired links are remembered this long after they expire, so that
	// they answer 410 (expired) rather than 404 (unknown).
	expiredKept = 24 * time.Hour
	// MaxStreamBytes caps a recording streamed through a link (the
	// resource's 25 MiB does not apply: the link is the way to a longer one).
	MaxStreamBytes = 1 << 30

	recordKind   = "recording-link"
	sealLabel    = "bys-mcp recording link v1"
	tokenBytes   = 32
	tokenLen     = 43 // base64url of tokenBytes, unpadded
	storeTimeout = 2 * time.Second
)

// Store is what the links need of the state store (state.Store with
// state.Records: memory, the local file or Redis).
type Store interface {
	PutRecord(ctx context.Context, kind, id string, val []byte, ttl time.Duration, active bool) error
	GetRecord(ctx context.Context, kind, id string) (val []byte, ok bool, err error)
	Secret(ctx context.Context) ([]byte, error)
}

// Options configure a Service.
type Options struct {
	// PublicURL is where people reach this server: https://host[:port][/path],
	// or http:// on a loopback host (config validates it).
	PublicURL string
	// Client is the API client; each link's key is set on a copy of it.
	Client *client.Client
	Store  Store
	// Clock is the server's clock (default the wall clock).
	Clock clock.Clock
	Log   logrus.FieldLogger
	// TTL is how long a link can be opened (default DefaultTTL).
	TTL time.Duration
	// MaxBytes caps a streamed recording (default MaxStreamBytes).
	MaxBytes int64
}

// Service makes links and serves them (it is the http.Handler of
// GET /recordings/{token}).
type Service struct {
	opts Options
	base string // PublicURL + PathPrefix
	host string
}

// New returns the service for opts.PublicURL.
func New(opts Options) (*Service, error) {
	u, err := url.Parse(opts.PublicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("public URL %q is not an absolute http(s) URL", opts.PublicURL)
	}
	if opts.Client == nil || opts.Store == nil {
		return nil, errors.New("recordings: Options.Client and Options.Store are required")
	}
	opts.Clock = clock.Or(opts.Clock)
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxStreamBytes
	}
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		opts.Log = l
	}
	return &Service{opts: opts, base: strings.TrimRight(opts.PublicURL, "/") + PathPrefix, host: u.Host}, nil
}

// Host is the public URL's host[:port], accepted as a Host by the handler.
func (s *Service) Host() string { return s.host }

// TTL is how long a link can be opened.
func (s *Service) TTL() time.Duration { return s.opts.TTL }

// link is a link's record in the store.
type link struct {
	CallID  string    `json:"callId"`
	URL     string    `json:"url"` // the record's recordingUrl
	Key     string    `json:"key"` // sealed, bound to the token's hash
	Expires time.Time `json:"expires"`
}

// Link returns a fresh link to the recording of call, placed with apiKey:
// "" when the call has not ended or has no recording.
func (s *Service) Link(ctx context.Context, apiKey string, call *client.Call) (string, error) {
	if apiKey == "" || !call.Terminal() || call.RecordingURL == nil || *call.RecordingURL == "" {
		return "", nil
	}
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	id := hashed(token)
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	secret, err := s.opts.Store.Secret(ctx)
	if err != nil {
		return "", err
	}
	sealed, err := safety.SealKey(secret, sealLabel, id, apiKey)
	if err != nil {
		return "", err
	}
	raw, err := json.Marshal(link{CallID: call.ID, URL: *call.RecordingURL, Key: sealed, Expires: s.opts.Clock.Now().Add(s.opts.TTL)})
	if err != nil {
		return "", err
	}
	if err := s.opts.Store.PutRecord(ctx, recordKind, id, raw, s.opts.TTL+expiredKept, false); err != nil {
		return "", err
	}
	return s.base + token, nil
}

// hashed keeps tokens out of the store's keys: they are credentials.
func hashed(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ServeHTTP streams the recording behind a link: the API's answer (200, or
// 206 for a Range, with its length, type and validators), 404 for a link
// that does not exist, 410 for one that expired or whose call or key the
// API no longer knows, 502 when the API cannot give it now. No
// Authorization is needed: the token is the credential.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		say(w, http.StatusMethodNotAllowed, "Open this link with GET.")
		return
	}
	token := strings.TrimPrefix(r.URL.Path, PathPrefix)
	if !wellFormed(token) {
		say(w, http.StatusNotFound, "No such recording link. Ask for the call again (get_call) for a new one.")
		return
	}
	id := hashed(token)
	l, key, status := s.lookup(r.Context(), id)
	switch status {
	case http.StatusNotFound:
		say(w, status, "No such recording link. Ask for the call again (get_call) for a new one.")
		return
	case http.StatusGone:
		say(w, status, fmt.Sprintf("This recording link has expired (links last %s). Ask for the call again (get_call) for a new one.", human(s.opts.TTL)))
		return
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "5")
		say(w, status, "The recording cannot be reached right now. Try again in a moment.")
		return
	}
	rec, err := s.opts.Client.WithAPIKey(key).Recording(r.Context(), l.URL, &client.RecordingOptions{
		Range: r.Header.Get("Range"), IfRange: r.Header.Get("If-Range"), MaxBytes: s.opts.MaxBytes,
	})
	if err != nil {
		s.failed(w, l.CallID, err)
		return
	}
	defer rec.Body.Close()
	h := w.Header()
	for k, v := range rec.Header {
		h[k] = v
	}
	if rec.ContentType != "" {
		h.Set("Content-Type", rec.ContentType)
	}
	if rec.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(rec.ContentLength, 10))
	}
	h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": "call-" + l.CallID + extension(rec.ContentType)}))
	h.Set("Cache-Control", "private, no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(rec.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, rec.Body); err != nil && r.Context().Err() == nil {
		s.opts.Log.WithField("callId", l.CallID).WithError(err).Debug("recording link: the stream ended early")
	}
}

// lookup reads the link with hash id and opens its key; the status says
// why not (404 unknown, 410 expired, 503 store unreachable), 0 when found.
func (s *Service) lookup(ctx context.Context, id string) (link, string, int) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var l link
	raw, ok, err := s.opts.Store.GetRecord(ctx, recordKind, id)
	if err != nil {
		s.opts.Log.WithError(err).Warn("recording link: the state store cannot be read")
		return l, "", http.StatusServiceUnavailable
	}
	if !ok || json.Unmarshal(raw, &l) != nil || l.CallID == "" {
		return l, "", http.StatusNotFound
	}
	if !s.opts.Clock.Now().Before(l.Expires) {
		return l, "", http.StatusGone
	}
	secret, err := s.opts.Store.Secret(ctx)
	if err != nil {
		return l, "", http.StatusServiceUnavailable
	}
	key, err := safety.OpenKey(secret, sealLabel, id, l.Key)
	if err != nil {
		return l, "", http.StatusNotFound
	}
	return l, key, 0
}

// failed answers a recording the API did not give.
func (s *Service) failed(w http.ResponseWriter, callID string, err error) {
	s.opts.Log.WithField("callId", callID).WithError(err).Debug("recording link: the API did not give the recording")
	var ae *client.APIError
	switch {
	case client.IsNotFound(err), errors.As(err, &ae) && (ae.HTTPStatus == http.StatusUnauthorized || ae.HTTPStatus == http.StatusForbidden):
		say(w, http.StatusGone, "This recording is no longer available.")
	case client.IsRecordingTooLarge(err):
		say(w, http.StatusBadGateway, fmt.Sprintf("This recording is larger than this server streams (%d MiB).", s.opts.MaxBytes>>20))
	case errors.Is(err, client.ErrForeignRecordingURL):
		say(w, http.StatusBadGateway, "The API keeps this recording elsewhere; this server does not send its key there.")
	default:
		w.Header().Set("Retry-After", "5")
		say(w, http.StatusBadGateway, "The recording could not be fetched right now. Try again in a moment.")
	}
}

// say answers a short plain-text message (a person reads it).
func say(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// wellFormed reports whether token can be one this service made.
func wellFormed(token string) bool {
	if len(token) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// extension is a file name extension for an audio media type.
func extension(mediaType string) string {
	switch mediaType {
	case "audio/wav", "audio/wave", "audio/x-wav", "audio/vnd.wave":
		return ".wav"
	case "audio/mpeg", "audio/mp3":
		return ".mp3"
	case "audio/ogg", "audio/opus":
		return ".ogg"
	case "audio/mp4", "audio/aac", "audio/x-m4a":
		return ".m4a"
	case "audio/webm":
		return ".webm"
	case "audio/flac", "audio/x-flac":
		return ".flac"
	}
	return ""
}

// human renders a link lifetime: "1 hour", "30 minutes".
func human(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "1 hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
