package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
)

// ErrInvalidToken: the token is unknown, expired, revoked or not for this
// resource.
var ErrInvalidToken = errors.New("invalid token")

// Principal is who a request comes from: a grant (--oauth) or a person
// (--oauth-issuer), its client, its scope and its key.
type Principal struct {
	Grant      string
	Client     string
	ClientName string
	// Read is true when the token carries calls:read (or calls:write,
	// which brings it); a token with neither serves nothing (403).
	Read bool
	// Write is true when the token carries calls:write.
	Write bool
	// Person is who signed in at the team's identity provider
	// (--oauth-issuer); zero otherwise.
	Person  tenant.Person
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
	p := &Principal{Grant: rec.Grant, Client: rec.Client, ClientName: rec.ClientName, Read: true, Write: scopeHasWrite(rec.Scope), key: key, expires: rec.Expires}
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
// /metrics), with the server's own tokens (see Guard).
func (s *Server) Protect(next http.Handler) http.Handler { return s.guard.Protect(next) }

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
