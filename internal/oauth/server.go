package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/sirupsen/logrus"
)

// Scopes. calls:read covers every read; calls:write adds placing and
// cancelling calls and changing campaigns.
const (
	ScopeRead  = "calls:read"
	ScopeWrite = "calls:write"
	// ScopeAll is what a request without scope asks for, and what the
	// challenges name.
	ScopeAll = ScopeRead + " " + ScopeWrite
)

// Lifetimes.
const (
	CodeTTL    = 60 * time.Second
	AccessTTL  = time.Hour
	RefreshTTL = 30 * 24 * time.Hour
	// ReuseGrace is how long after its rotation a refresh token presented
	// again is only refused; after it, the whole grant is revoked.
	ReuseGrace = 30 * time.Second
	// ConsentTTL is how long a consent page may stay open.
	ConsentTTL = 10 * time.Minute
	// DefaultCacheTTL is how long a checked access token is trusted without
	// reading the store again (a revocation on another replica is seen
	// within it).
	DefaultCacheTTL = 5 * time.Second
	// clientTTL is how long a registered client is kept after its last
	// sign-in.
	clientTTL = 365 * 24 * time.Hour
	// codeRecordTTL keeps a used code long enough to recognise its replay.
	codeRecordTTL = 15 * time.Minute
)

// Paths of the endpoints, at the origin's root (claude.ai guesses
// <origin>/authorize when it finds no metadata).
const (
	PathAuthorize           = "/authorize"
	PathToken               = "/token"
	PathRegister            = "/register"
	PathRevoke              = "/revoke"
	PathResourceMetadata    = "/.well-known/oauth-protected-resource"
	PathAuthServerMetadata  = "/.well-known/oauth-authorization-server"
	PathOpenIDConfiguration = "/.well-known/openid-configuration"
	// ResourcePath is the protected resource's path.
	ResourcePath = "/mcp"
)

// Record kinds in the state store.
const (
	kindClient   = "oauth-client"
	kindCIMD     = "oauth-cimd"
	kindConsent  = "oauth-consent"
	kindCode     = "oauth-code"
	kindGrant    = "oauth-grant"
	kindAccess   = "oauth-at"
	kindRefresh  = "oauth-rt"
	kindKeyGrant = "oauth-keygrant"
	kindRevoked  = "oauth-revoked"
)

// Token prefixes: none of them looks like an agent key.
const (
	prefixAccess  = "bysmcp_at_"
	prefixRefresh = "bysmcp_rt_"
	prefixCode    = "bysmcp_ac_"
	prefixSecret  = "bysmcp_cs_"
	prefixClient  = "bysmcp_client_"
)

// ErrKeyRefused is what Options.CheckKey returns when the API refuses the
// key (401 or 403).
var ErrKeyRefused = errors.New("the API refused the key")

// Options configure the authorization server.
type Options struct {
	// PublicURL is the server's public origin (--public-url): the issuer;
	// the resource is PublicURL + "/mcp".
	PublicURL string
	// Store keeps clients, codes, grants and tokens; it must also be a
	// state.Records.
	Store state.Store
	// Secret is the server secret (LoadSecret): it seals agent keys and
	// signs the consent form.
	Secret []byte
	// CheckKey checks an agent key with one read request to the API:
	// nil when it works, ErrKeyRefused (wrapped or not) when the API
	// refuses it, another error when the API cannot be asked.
	CheckKey func(ctx context.Context, key string) error
	// SandboxKey, when set (--sandbox), is offered on the consent page
	// instead of asking for a key.
	SandboxKey string
	// IsWriteTool reports whether a tool needs calls:write.
	IsWriteTool func(name string) bool
	// MaxBodyBytes caps the request bodies the middleware reads (default
	// 1 MiB, as the MCP handler).
	MaxBodyBytes int64
	// KeyAttemptsPerMinute caps the keys tried on the consent page per
	// client address (default 10).
	KeyAttemptsPerMinute int
	// RegistrationsPerHour caps dynamic client registrations per client
	// address (default 60).
	RegistrationsPerHour int
	// CacheTTL is how long a checked access token is trusted without a
	// store read (default DefaultCacheTTL; negative: never cached).
	CacheTTL time.Duration
	Clock    clock.Clock
	Log      logrus.FieldLogger
}

// Server is the authorization server and the bearer check of the protected
// resource.
type Server struct {
	opts     Options
	clock    clock.Clock
	log      logrus.FieldLogger
	store    state.Store
	records  state.Records
	issuer   string
	resource string
	prmURL   string
	secure   bool // the public URL is https
	sealer   sealer
	csrfKey  []byte
	cimd     *http.Client
	// loopbackCIMD allows metadata documents on loopback hosts (the public
	// URL is on one too: local testing).
	loopbackCIMD bool
	cache        *tokenCache
	guard        *Guard
}

// New builds the server.
func New(o Options) (*Server, error) {
	u, err := url.Parse(strings.TrimRight(o.PublicURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, errors.New("oauth: the public URL must be an absolute http(s) origin")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, errors.New("oauth: the public URL must use https unless its host is loopback")
	}
	records, ok := o.Store.(state.Records)
	if !ok || o.Store == nil {
		return nil, errors.New("oauth: the state store keeps no records")
	}
	if len(o.Secret) < MinSecretBytes {
		return nil, fmt.Errorf("oauth: the server secret needs at least %d bytes", MinSecretBytes)
	}
	if o.CheckKey == nil {
		return nil, errors.New("oauth: CheckKey is required")
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.KeyAttemptsPerMinute <= 0 {
		o.KeyAttemptsPerMinute = 10
	}
	if o.RegistrationsPerHour <= 0 {
		o.RegistrationsPerHour = 60
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.Log == nil {
		l := logrus.New()
		l.Out = discard{}
		o.Log = l
	}
	seal, err := newSealer(o.Secret)
	if err != nil {
		return nil, err
	}
	issuer := u.Scheme + "://" + u.Host
	s := &Server{
		opts:         o,
		clock:        clock.Or(o.Clock),
		log:          o.Log,
		store:        o.Store,
		records:      records,
		issuer:       issuer,
		resource:     issuer + ResourcePath,
		prmURL:       issuer + PathResourceMetadata + ResourcePath,
		secure:       u.Scheme == "https",
		sealer:       seal,
		csrfKey:      derive(o.Secret, "bys-mcp oauth consent form v1"),
		loopbackCIMD: isLoopbackHost(u.Hostname()),
		cache:        newTokenCache(10_000),
	}
	s.cimd = newCIMDClient(s.loopbackCIMD)
	s.guard = &Guard{Verifier: s, ResourceMetadataURL: s.prmURL, IsWriteTool: o.IsWriteTool, MaxBodyBytes: o.MaxBodyBytes,
		Unavailable: "the server's state store cannot be reached"}
	return s, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Issuer is the authorization server's issuer identifier (the public
// origin).
func (s *Server) Issuer() string { return s.issuer }

// Resource is the protected resource ({public-url}/mcp).
func (s *Server) Resource() string { return s.resource }

// ResourceMetadataURL is the absolute URL of the protected resource
// metadata, as the challenges name it.
func (s *Server) ResourceMetadataURL() string { return s.prmURL }

// Register mounts the metadata documents and the endpoints on mux, each
// wrapped by wrap (the caller's Host check; nil for none).
func (s *Server) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, wrap(h)) }
	handle("GET "+PathResourceMetadata, s.cors(s.handleResourceMetadata))
	handle("GET "+PathResourceMetadata+ResourcePath, s.cors(s.handleResourceMetadata))
	handle("GET "+PathAuthServerMetadata, s.cors(s.handleAuthServerMetadata))
	handle("GET "+PathOpenIDConfiguration, s.cors(s.handleAuthServerMetadata))
	handle("GET "+PathAuthorize, s.handleAuthorize)
	handle("POST "+PathAuthorize, s.handleConsent)
	handle("POST "+PathToken, s.cors(s.handleToken))
	handle("POST "+PathRegister, s.cors(s.handleRegister))
	handle("POST "+PathRevoke, s.cors(s.handleRevoke))
	for _, p := range []string{PathResourceMetadata, PathResourceMetadata + ResourcePath, PathAuthServerMetadata, PathOpenIDConfiguration, PathToken, PathRegister, PathRevoke} {
		handle("OPTIONS "+p, s.cors(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	}
}

// cors lets browser-based clients read the metadata and call the token,
// registration and revocation endpoints: no cookies are involved, so any
// origin may (as the MCP authorization specification expects).
func (s *Server) cors(next http.HandlerFunc) http.HandlerFunc { return corsAny(next) }

// corsAny lets any origin call next (no cookies are involved).
func corsAny(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
			w.Header().Set("Access-Control-Max-Age", "600")
		}
		next(w, r)
	}
}

func (s *Server) now() time.Time { return s.clock.Now() }

// writeJSON answers v as JSON with no caching.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is an error answer of RFC 6749 §5.2.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	status      int
}

func (e *oauthError) write(w http.ResponseWriter) {
	status := e.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, e)
}

func errInvalidRequest(desc string) *oauthError {
	return &oauthError{Error: "invalid_request", Description: desc}
}
func errInvalidGrant(desc string) *oauthError {
	return &oauthError{Error: "invalid_grant", Description: desc}
}
func errInvalidClient(desc string) *oauthError {
	return &oauthError{Error: "invalid_client", Description: desc, status: http.StatusUnauthorized}
}
func errInvalidTarget() *oauthError {
	return &oauthError{Error: "invalid_target", Description: "resource must be this server's MCP endpoint"}
}
func errUnavailable() *oauthError {
	return &oauthError{Error: "temporarily_unavailable", Description: "the server's state store cannot be reached; retry shortly", status: http.StatusServiceUnavailable}
}

// clientAddr is the request's peer address (no forwarded header is
// trusted: behind a proxy, every person shares the proxy's limit).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// resourceMatches accepts the resource, a trailing slash tolerated.
func (s *Server) resourceMatches(v string) bool {
	return strings.TrimRight(v, "/") == s.resource
}

// normalizeScope reads a requested scope: empty asks for everything;
// calls:write brings calls:read; unknown values are ignored unless nothing
// known remains (ok false).
func normalizeScope(raw string) (scope string, ok bool) {
	var fields []string
	for _, f := range strings.Fields(raw) {
		// Refresh tokens are always issued: offline_access asks for nothing
		// more.
		if f != "offline_access" {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return ScopeAll, true
	}
	read, write := false, false
	for _, f := range fields {
		switch f {
		case ScopeRead:
			read = true
		case ScopeWrite:
			read, write = true, true
		}
	}
	switch {
	case write:
		return ScopeAll, true
	case read:
		return ScopeRead, true
	}
	return "", false
}

func scopeHasWrite(scope string) bool {
	for _, f := range strings.Fields(scope) {
		if f == ScopeWrite {
			return true
		}
	}
	return false
}

// getJSON reads a record into v.
func (s *Server) getJSON(ctx context.Context, kind, id string, v any) (bool, error) {
	b, ok, err := s.records.GetRecord(ctx, kind, id)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("oauth: damaged %s record: %w", kind, err)
	}
	return true, nil
}

// putJSON writes v as a record (never listed as active).
func (s *Server) putJSON(ctx context.Context, kind, id string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.records.PutRecord(ctx, kind, id, b, ttl, false)
}

func jsonEncode(w http.ResponseWriter, v any) error { return json.NewEncoder(w).Encode(v) }
