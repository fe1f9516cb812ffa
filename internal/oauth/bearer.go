package oauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
)

// ErrInvalidToken: the token is unknown, expired, revoked or not for this
// resource.
var ErrInvalidToken = errors.New("invalid token")

// Principal is who a request comes from: a grant, its client, its scope and
// its key.
type Principal struct {
	Grant      string
	Client     string
	ClientName string
	// Write is true when the token carries calls:write.
	Write   bool
	key     string
	expires time.Time
}

type principalKey struct{}

// PrincipalFrom returns the principal the bearer middleware put on ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}

// Check returns the principal of an access token: from this process's
// cache (no store read) while fresh, else from one store read.
// ErrInvalidToken when the token is not valid here; a state.ErrUnavailable
// error when the store cannot say.
func (s *Server) Check(ctx context.Context, token string) (*Principal, error) {
	sum := sha256.Sum256([]byte(token))
	now := s.now()
	if p, ok := s.cache.get(sum, now); ok {
		return p, nil
	}
	var rec accessRecord
	ok, err := s.getJSON(ctx, kindAccess, hex.EncodeToString(sum[:]), &rec)
	if err != nil {
		if errors.Is(err, state.ErrUnavailable) {
			return nil, err
		}
		return nil, ErrInvalidToken // a damaged record
	}
	if !ok || !now.Before(rec.Expires) || rec.Resource != s.resource {
		return nil, ErrInvalidToken
	}
	key, err := s.sealer.open(rec.Key, rec.Grant)
	if err != nil {
		return nil, ErrInvalidToken
	}
	p := &Principal{Grant: rec.Grant, Client: rec.Client, ClientName: rec.ClientName, Write: scopeHasWrite(rec.Scope), key: key, expires: rec.Expires}
	if s.opts.CacheTTL > 0 {
		until := now.Add(s.opts.CacheTTL)
		if rec.Expires.Before(until) {
			until = rec.Expires
		}
		s.cache.put(sum, p, until)
	}
	return p, nil
}

// Protect is the bearer middleware of the protected resource (/mcp and
// /metrics): a request without a valid access token gets 401 with the
// challenge that leads to sign-in; a write tool called with a read-only
// token gets 403 insufficient_scope; otherwise the grant's key serves the
// request (through internal/tenant).
func (s *Server) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := tenant.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			s.challenge(w, http.StatusUnauthorized, "", "sign in: this server takes OAuth access tokens")
			return
		}
		p, err := s.Check(r.Context(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				w.Header().Set("Retry-After", "5")
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": "the server's state store cannot be reached; retry shortly"})
				return
			}
			s.challenge(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked: sign in again")
			return
		}
		if !p.Write && r.Method == http.MethodPost && s.opts.IsWriteTool != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "could not read the request body"})
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			if callsWriteTool(body, s.opts.IsWriteTool) {
				s.challenge(w, http.StatusForbidden, "insufficient_scope", "this tool places or changes calls: sign in again and allow placing calls")
				return
			}
		}
		ctx := tenant.WithKey(r.Context(), p.key)
		ctx = tenant.WithClient(ctx, p.ClientName)
		ctx = context.WithValue(ctx, principalKey{}, p)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// challenge answers 401 or 403 with the WWW-Authenticate header of the MCP
// authorization specification: an absolute resource_metadata URL and the
// scope to ask for.
func (s *Server) challenge(w http.ResponseWriter, status int, code, desc string) {
	h := `Bearer resource_metadata="` + s.prmURL + `", scope="` + ScopeAll + `"`
	if code == "insufficient_scope" {
		h = `Bearer error="insufficient_scope", scope="` + ScopeAll + `", resource_metadata="` + s.prmURL + `"`
	} else if code != "" {
		h += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", h)
	body := map[string]string{"error": code, "error_description": desc}
	if code == "" {
		body["error"] = "unauthorized"
	}
	writeJSON(w, status, body)
}

// callsWriteTool reports whether a JSON-RPC message (or batch) calls a tool
// that needs calls:write.
func callsWriteTool(body []byte, isWrite func(string) bool) bool {
	if !bytes.Contains(body, []byte("tools/call")) {
		return false
	}
	type message struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	var msgs []message
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &msgs) != nil {
			return false
		}
	} else {
		var m message
		if json.Unmarshal(trimmed, &m) != nil {
			return false
		}
		msgs = []message{m}
	}
	for _, m := range msgs {
		if m.Method == "tools/call" && isWrite(m.Params.Name) {
			return true
		}
	}
	return false
}

// tokenCache keeps checked access tokens for a short while, by the SHA-256
// of the token.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[[32]byte]cacheEntry
	max int
}

type cacheEntry struct {
	p     *Principal
	until time.Time
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{m: make(map[[32]byte]cacheEntry), max: max}
}

func (c *tokenCache) get(sum [32]byte, now time.Time) (*Principal, bool) {
	c.mu.RLock()
	e, ok := c.m[sum]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.p, true
}

func (c *tokenCache) put(sum [32]byte, p *Principal, until time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Full: forget everything (entries live seconds anyway).
		clear(c.m)
	}
	c.m[sum] = cacheEntry{p: p, until: until}
}

func (c *tokenCache) dropGrant(grant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.Grant == grant {
			delete(c.m, k)
		}
	}
}
