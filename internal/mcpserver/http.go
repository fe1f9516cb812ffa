package mcpserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/sirupsen/logrus"
)

// HTTPOptions configure the sse and http transports.
type HTTPOptions struct {
	// Transport is "sse" or "http".
	Transport string
	// Loopback is true when the listener is bound to a loopback address.
	Loopback bool
	// AuthToken, when set, is the one shared secret every request must
	// carry; the server's own key is then used for the API.
	AuthToken string
	// RequireClientKeys makes every request bring its own bys_ak_ key.
	RequireClientKeys bool
	// HasServerKey is true when BYS_API_KEY (or the sandbox) gives the
	// server a key of its own to fall back on.
	HasServerKey   bool
	AllowedOrigins []string
	AllowedHosts   []string
	MaxBodyBytes   int64
	MaxSessions    int
	// SessionIdleTTL ends 2025-11-25 Streamable HTTP sessions left idle.
	SessionIdleTTL time.Duration
	// Ready reports readiness for /readyz (nil: always ready).
	Ready func(context.Context) error
	// Metrics serves /metrics (nil: not served).
	Metrics http.Handler
	// Webhooks receives POST /webhooks/bys/{token} (nil: not served). The
	// path needs no Authorization (the token is the credential) and is
	// exempt from the Origin check; PublicHost (the --public-url host) is
	// accepted as its Host besides the usual names.
	Webhooks   http.Handler
	PublicHost string
	// Recordings serves GET /recordings/{token}, the recording links of
	// --public-url (nil: not served). Like the webhook path it needs no
	// Authorization (the token is the credential), is exempt from the
	// Origin check (a person's browser opens it) and accepts PublicHost.
	Recordings http.Handler
	// OAuth, when set, signs clients in: with the server's own
	// authorization server (--oauth), or at the team's identity provider
	// (--oauth-issuer). Its metadata (and endpoints) are served, /mcp and
	// /metrics take its access tokens (and nothing else), and PublicOrigin
	// (the --public-url) decides the accepted Host and Origin besides
	// loopback names and --allowed-hosts / --allowed-origins.
	OAuth        OAuth
	PublicOrigin string
}

// OAuth is the authorization server of --oauth, or the resource server of
// --oauth-issuer (internal/oauth).
type OAuth interface {
	// Register mounts its metadata and endpoints on mux, each wrapped by
	// wrap.
	Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler)
	// Protect is the bearer middleware: it answers 401 and 403 challenges
	// and puts the grant's key, or the signed-in person, on the request's
	// context.
	Protect(next http.Handler) http.Handler
}

// HTTPHandler is the HTTP side of the server: the MCP endpoints behind the
// guards, plus /healthz, /readyz and /metrics.
type HTTPHandler struct {
	http.Handler
	shutdown func(context.Context) error
	sessions atomic.Int64 // registered sessions
	opening  atomic.Int64 // session-opening requests in flight
}

// reserveSession admits one session-opening request while registered and
// opening sessions stay within max; releaseSession ends the reservation
// once the request is done (by then the session is registered, or not).
func (h *HTTPHandler) reserveSession(max int) bool {
	if h.opening.Add(1)+h.sessions.Load() > int64(max) {
		h.opening.Add(-1)
		return false
	}
	return true
}

func (h *HTTPHandler) releaseSession() { h.opening.Add(-1) }

func tooManySessions(w http.ResponseWriter) {
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "too_many_sessions", "message": "the server holds its maximum number of sessions; retry later"})
}

// Shutdown closes the MCP transport's sessions and streams.
func (h *HTTPHandler) Shutdown(ctx context.Context) error { return h.shutdown(ctx) }

// NewHTTPHandler builds the handler for the chosen HTTP transport.
func (s *Server) NewHTTPHandler(o HTTPOptions) *HTTPHandler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = 1000
	}
	if o.SessionIdleTTL <= 0 {
		o.SessionIdleTTL = 30 * time.Minute
	}
	h := &HTTPHandler{}
	g := &guard{opts: o, log: s.log, filter: s.filter, handler: h, srv: s}
	logWriter := s.log.WriterLevel(logrus.DebugLevel)
	slogger := slog.New(slog.NewTextHandler(logWriter, nil))
	s.mcp.GetHooks().AddOnRegisterSession(func(context.Context, server.ClientSession) { h.sessions.Add(1) })
	s.mcp.GetHooks().AddOnUnregisterSession(func(context.Context, server.ClientSession) { h.sessions.Add(-1) })

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if o.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := o.Ready(ctx); err != nil {
				// No details here: /readyz needs no credentials.
				s.log.WithError(err).Debug("not ready")
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "the shared state store (Redis) is unreachable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if o.Metrics != nil {
		mux.Handle("GET /metrics", g.authenticate(o.Metrics))
	}
	if o.Webhooks != nil {
		mux.Handle("/webhooks/bys/", g.checkPublicHost(o.Webhooks, "webhook events must be sent to the --public-url host"))
	}
	if o.Recordings != nil {
		mux.Handle("/recordings/", g.checkPublicHost(o.Recordings, "open recording links at the --public-url host"))
	}
	if o.OAuth != nil {
		o.OAuth.Register(mux, g.checkHost)
	}

	switch o.Transport {
	case "sse":
		sse := server.NewSSEServer(s.mcp,
			server.WithUseFullURLForMessageEndpoint(false),
			server.WithSSEEndpoint("/sse"),
			server.WithMessageEndpoint("/message"),
			server.WithKeepAlive(true),
			server.WithKeepAliveInterval(15*time.Second),
			server.WithSSEDisableLocalhostProtection(true), // the guard checks Host and Origin
			server.WithSSEContextFunc(keyContext),
			// No wildcard CORS: only the operator's --allowed-origins.
			server.WithSSECORS(server.WithCORSAllowedOrigins(o.AllowedOrigins...)),
		)
		mux.Handle("/sse", g.wrap(noWildcardCORS(sse.SSEHandler()), true))
		mux.Handle("/message", g.wrap(sse.MessageHandler(), false))
		h.shutdown = func(ctx context.Context) error { defer logWriter.Close(); return sse.Shutdown(ctx) }
	default:
		streamable := server.NewStreamableHTTPServer(s.mcp,
			server.WithEndpointPath("/mcp"),
			server.WithHTTPContextFunc(keyContext),
			server.WithDisableLocalhostProtection(true), // the guard checks Host and Origin
			server.WithSessionIdleTTL(o.SessionIdleTTL),
			server.WithSessionIdManager(s.sessionIDs),
			server.WithHeartbeatInterval(25*time.Second),
			server.WithStreamableHTTPLogger(slogger),
		)
		g.routes = newProgressRoutes()
		mux.Handle("/mcp", g.wrap(streamable, false))
		h.shutdown = func(ctx context.Context) error { defer logWriter.Close(); return streamable.Shutdown(ctx) }
	}
	h.Handler = mux
	return h
}

// noWildcardCORS removes the Access-Control-Allow-Origin: * that mcp-go's
// SSE transport adds when no CORS origins are configured: the contract
// allows no wildcard CORS.
func noWildcardCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&corsStripper{ResponseWriter: w}, r)
	})
}

type corsStripper struct {
	http.ResponseWriter
	wrote bool
}

func (c *corsStripper) strip() {
	if !c.wrote {
		c.wrote = true
		if c.Header().Get("Access-Control-Allow-Origin") == "*" {
			c.Header().Del("Access-Control-Allow-Origin")
		}
	}
}

func (c *corsStripper) WriteHeader(code int) { c.strip(); c.ResponseWriter.WriteHeader(code) }

func (c *corsStripper) Write(p []byte) (int, error) { c.strip(); return c.ResponseWriter.Write(p) }

func (c *corsStripper) Flush() {
	c.strip()
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *corsStripper) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// keyContext carries the request's API key, client and person (set by the
// guard) into the MCP request context.
func keyContext(ctx context.Context, r *http.Request) context.Context {
	if k := tenant.KeyFrom(r.Context()); k != "" {
		ctx = tenant.WithKey(ctx, k)
	}
	if c := tenant.ClientFrom(r.Context()); c != "" {
		ctx = tenant.WithClient(ctx, c)
	}
	if p, ok := tenant.PersonFrom(r.Context()); ok {
		ctx = tenant.WithPerson(ctx, p)
	}
	return ctx
}

type guard struct {
	srv     *Server
	routes  *progressRoutes // nil for SSE
	opts    HTTPOptions
	log     *logrus.Logger
	filter  *Filter
	handler *HTTPHandler
}

// wrap puts the checks every MCP endpoint needs in front of next: Host and
// Origin (DNS rebinding), authentication and the request's key, content
// type, body size, the session cap, and the pre-dispatch filter.
func (g *guard) wrap(next http.Handler, opensSession bool) http.Handler {
	return g.checkHostOrigin(g.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = notFoundWriter{g.srv.filterTaskStatus(w, r)}
		// An SSE stream is its session for as long as it lasts.
		if opensSession && g.handler.sessions.Load() >= int64(g.opts.MaxSessions) {
			tooManySessions(w)
			return
		}
		if r.Method != http.MethodPost {
			if g.routes != nil && r.Method == http.MethodGet {
				w = g.routes.get(w, r)
			}
			next.ServeHTTP(w, r)
			return
		}
		mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mediaType != "application/json" {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "unsupported_media_type", "message": "POST bodies must be Content-Type: application/json"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, g.opts.MaxBodyBytes+1))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "could not read the request body"})
			return
		}
		if int64(len(body)) > g.opts.MaxBodyBytes {
			resp := refuse(idFromPrefix(body[:min(len(body), 4096)]), mcp.INVALID_REQUEST,
				fmt.Sprintf("request body too large: at most %d bytes; shorten the arguments", g.opts.MaxBodyBytes))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = w.Write(resp.Response)
			return
		}
		if !opensSession && g.isInitialize(body) {
			if !g.handler.reserveSession(g.opts.MaxSessions) {
				tooManySessions(w)
				return
			}
			defer g.handler.releaseSession()
		}
		body = addModernNotificationMeta(body, r.Header.Get(mcp.HeaderProtocolVersion))
		v := g.filter.Check(body)
		if v.Response != nil {
			status := http.StatusOK
			switch v.Code {
			case mcp.METHOD_NOT_FOUND:
				status = http.StatusNotFound
			case mcp.MISSING_REQUIRED_CLIENT_CAPABILITY, mcp.INVALID_REQUEST:
				status = http.StatusBadRequest
			case mcp.INVALID_PARAMS:
				if v.Modern { // 2026-07-28 maps invalid params onto 400, as mcp-go does
					status = http.StatusBadRequest
				}
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(v.Response)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(v.Message))
		r.ContentLength = int64(len(v.Message))
		if g.routes != nil && !mcp.IsModernProtocol(r.Header.Get(mcp.HeaderProtocolVersion)) {
			g.routes.post(w, r, v.Message, func(w http.ResponseWriter) { next.ServeHTTP(w, r) })
			return
		}
		next.ServeHTTP(w, r)
	})))
}

// addModernNotificationMeta gives a notification sent with a 2026-07-28
// Mcp-Protocol-Version header but no _meta (as the official Go SDK sends
// notifications/cancelled) the protocol version its header states. mcp-go
// answers such a notification with 400, which some clients treat as fatal
// for the whole connection.
func addModernNotificationMeta(body []byte, headerVersion string) []byte {
	if !mcp.IsModernProtocol(headerVersion) || bytes.Contains(body, markerVersion) {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if _, hasID := m["id"]; hasID {
		return body
	}
	if _, isNotification := m["method"]; !isNotification {
		return body
	}
	params := map[string]json.RawMessage{}
	if raw, ok := m["params"]; ok && json.Unmarshal(raw, &params) != nil {
		return body
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := params["_meta"]; ok && json.Unmarshal(raw, &meta) != nil {
		return body
	}
	version, _ := json.Marshal(headerVersion)
	meta[mcp.MetaKeyProtocolVersion] = version
	params["_meta"], _ = json.Marshal(meta)
	m["params"], _ = json.Marshal(params)
	out, err := json.Marshal(m)
	if err != nil {
		return body
	}
	return out
}

func (g *guard) isInitialize(body []byte) bool {
	if !bytes.Contains(body, []byte(`"initialize"`)) {
		return false
	}
	var m struct {
		Method string `json:"method"`
	}
	return json.Unmarshal(body, &m) == nil && m.Method == string(mcp.MethodInitialize)
}

// checkHostOrigin refuses requests whose Host or Origin could come from a
// DNS-rebinding page: a loopback listener answers only loopback host names
// (plus --allowed-hosts), and a request with an Origin must come from a
// loopback origin or one of --allowed-origins.
func (g *guard) checkHostOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden_host", "message": "this Host is not allowed; add it with --allowed-hosts"})
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(origin) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden_origin", "message": "this Origin is not allowed; add it with --allowed-origins"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkHost refuses a request whose Host could come from a DNS-rebinding
// page (the authorization server's endpoints: browsers reach them from
// other origins, so Origin is not checked).
func (g *guard) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r.Host) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden_host", "message": "this Host is not allowed; add it with --allowed-hosts"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkPublicHost admits a request to a public path (a webhook delivery, a
// recording link) whose Host is one the MCP endpoints accept or the public
// URL's; Origin and authentication do not apply (the API is no browser, a
// person's browser brings no credentials, and the token in the path is the
// credential). advice says where such requests belong.
func (g *guard) checkPublicHost(next http.Handler, advice string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		public := g.opts.PublicHost
		if !g.hostAllowed(r.Host) && !strings.EqualFold(r.Host, public) && !strings.EqualFold(hostOnly(r.Host), hostOnly(public)) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden_host", "message": "this Host is not allowed; " + advice})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func (g *guard) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	for _, a := range g.opts.AllowedHosts {
		ah := a
		if h, _, err := net.SplitHostPort(a); err == nil {
			ah = h
		}
		if strings.EqualFold(a, hostport) || strings.EqualFold(ah, host) {
			return true
		}
	}
	if isLoopbackHost(host) {
		return true
	}
	if g.opts.OAuth != nil {
		// --public-url alone decides the accepted name: no forwarded
		// header and no other name changes it.
		return g.opts.PublicHost != "" && (strings.EqualFold(hostport, g.opts.PublicHost) || strings.EqualFold(host, strings.Trim(hostOnly(g.opts.PublicHost), "[]")))
	}
	// A listener on a non-loopback address is reached by any name unless
	// the operator lists the names.
	return !g.opts.Loopback && len(g.opts.AllowedHosts) == 0
}

func (g *guard) originAllowed(origin string) bool {
	for _, a := range g.opts.AllowedOrigins {
		if strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(origin, "/")) {
			return true
		}
	}
	if g.opts.OAuth != nil && g.opts.PublicOrigin != "" && strings.EqualFold(strings.TrimRight(g.opts.PublicOrigin, "/"), strings.TrimRight(origin, "/")) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return isLoopbackHost(u.Hostname())
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authenticate applies the deployment's authentication and puts the key
// that serves this request on its context. 401 answers do not say which
// part was wrong.
func (g *guard) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.opts.OAuth != nil {
			g.opts.OAuth.Protect(next).ServeHTTP(w, r)
			return
		}
		header := r.Header.Get("Authorization")
		var key string
		switch {
		case g.opts.AuthToken != "":
			token, _ := tenant.BearerToken(header)
			// Hashes first, so that the comparison takes the same time
			// whatever the token's length.
			got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(g.opts.AuthToken))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				unauthorized(w)
				return
			}
		case g.opts.RequireClientKeys:
			if key = tenant.BearerKey(header); key == "" {
				unauthorized(w)
				return
			}
		default:
			key = tenant.BearerKey(header)
			if key == "" && !g.opts.HasServerKey {
				unauthorized(w)
				return
			}
		}
		if key != "" {
			r = r.WithContext(tenant.WithKey(r.Context(), key))
		}
		next.ServeHTTP(w, r)
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="bys-mcp"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "send Authorization: Bearer with valid credentials"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var _ = errors.New
