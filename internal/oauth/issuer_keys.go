package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/go-jose/go-jose/v4"
	"github.com/sirupsen/logrus"
)

// errIssuerUnavailable: the identity provider's metadata or keys cannot be
// fetched and none are known yet.
var errIssuerUnavailable = errors.New("the identity provider's keys cannot be fetched")

// maxIssuerDocBytes bounds the metadata and key set documents read.
const maxIssuerDocBytes = 1 << 20

// failedFetchBackoff is how long after a failed fetch, with no keys known,
// requests are refused (503) without fetching again.
const failedFetchBackoff = 5 * time.Second

// keySet is what one fetch learnt: the issuer as its metadata names it and
// its signing keys.
type keySet struct {
	issuer    string
	keys      []jose.JSONWebKey
	fetchedAt time.Time
}

// match returns the keys that may have signed a token with header kid and
// alg: the key with that kid (every usable key when the token names none),
// of a type that alg uses.
func (s *keySet) match(kid, alg string) []jose.JSONWebKey {
	var out []jose.JSONWebKey
	for _, k := range s.keys {
		if (kid == "" || k.KeyID == kid) && (k.Algorithm == "" || k.Algorithm == alg) && keyFitsAlg(k.Key, alg) {
			out = append(out, k)
		}
	}
	return out
}

// hasKID reports whether a key has id kid.
func (s *keySet) hasKID(kid string) bool {
	for _, k := range s.keys {
		if k.KeyID == kid {
			return true
		}
	}
	return false
}

func keyFitsAlg(key any, alg string) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return alg == string(jose.RS256)
	case *ecdsa.PublicKey:
		return alg == string(jose.ES256) && k.Curve == elliptic.P256()
	case ed25519.PublicKey:
		return alg == string(jose.EdDSA)
	}
	return false
}

// issuerKeys fetches an identity provider's metadata and keys when first
// needed, and again when they are older than maxAge (at most once per
// minRefetch while fetches fail) or when a token names an unknown key (at
// most once per minRefetch, so that a rotation is seen at once and made-up
// key ids cost the provider one request a minute). A failed fetch keeps
// the keys known before it.
type issuerKeys struct {
	issuer     string // as configured
	client     *http.Client
	clock      clock.Clock
	log        logrus.FieldLogger
	maxAge     time.Duration
	minRefetch time.Duration
	// loopback allows http:// key set URLs on loopback hosts (the issuer is
	// on one too: local testing).
	loopback bool

	mu       sync.Mutex
	set      *keySet
	triedAt  time.Time     // the last fetch's start, successful or not
	kidAt    time.Time     // the last start of a fetch for an unknown key
	fetching chan struct{} // closed when the running fetch ends
	fetches  int           // fetches started (tests)
}

// load returns the known keys, fetching them first when none are known,
// when they are older than maxAge, or when unknownKID and the last fetch
// for an unknown key is older than minRefetch. Concurrent callers share one
// fetch.
func (k *issuerKeys) load(ctx context.Context, unknownKID bool) (*keySet, error) {
	k.mu.Lock()
	now := k.clock.Now()
	set := k.set
	sinceTry := now.Sub(k.triedAt)
	var need bool
	if set == nil {
		need = k.triedAt.IsZero() || sinceTry >= failedFetchBackoff
	} else {
		need = now.Sub(set.fetchedAt) >= k.maxAge && sinceTry >= k.minRefetch ||
			unknownKID && (k.kidAt.IsZero() || now.Sub(k.kidAt) >= k.minRefetch)
	}
	ch := k.fetching
	switch {
	case ch == nil && !need && set != nil:
		k.mu.Unlock()
		return set, nil
	case ch == nil && !need:
		k.mu.Unlock()
		return nil, errIssuerUnavailable
	case ch != nil:
		k.mu.Unlock()
		if set != nil && !unknownKID {
			return set, nil // the known keys meanwhile
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		k.mu.Lock()
		set = k.set
		k.mu.Unlock()
		if set == nil {
			return nil, errIssuerUnavailable
		}
		return set, nil
	}
	ch = make(chan struct{})
	k.fetching, k.triedAt = ch, now
	if unknownKID {
		k.kidAt = now
	}
	k.fetches++
	k.mu.Unlock()

	// The fetch is shared: the request that started it may end first.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	fresh, err := k.fetch(fctx)
	cancel()

	k.mu.Lock()
	if err == nil {
		k.set = fresh
	} else {
		k.log.WithError(err).WithField("issuer", k.issuer).Warn("oauth-issuer: the identity provider's metadata or keys could not be fetched; the keys known before (if any) are kept")
	}
	set = k.set
	k.fetching = nil
	close(ch)
	k.mu.Unlock()
	if set == nil {
		return nil, fmt.Errorf("%w: %v", errIssuerUnavailable, err)
	}
	return set, nil
}

// discoveryURLs are where an issuer's metadata may be: RFC 8414 (its path
// after the well-known segment), then OpenID Connect Discovery (its path
// before it), then the latter the RFC 8414 way.
func discoveryURLs(issuer string) []string {
	u, err := url.Parse(strings.TrimRight(issuer, "/"))
	if err != nil {
		return nil
	}
	origin := u.Scheme + "://" + u.Host
	path := u.EscapedPath()
	urls := []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + path + "/.well-known/openid-configuration",
	}
	if path != "" {
		urls = append(urls, origin+"/.well-known/openid-configuration"+path)
	}
	return urls
}

// fetch reads the issuer's metadata, then its key set.
func (k *issuerKeys) fetch(ctx context.Context) (*keySet, error) {
	var md struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	var tried []string
	for _, u := range discoveryURLs(k.issuer) {
		err := k.getJSON(ctx, u, &md)
		if err == nil && md.Issuer != "" && md.JWKSURI != "" {
			break
		}
		if err == nil {
			err = errors.New("no issuer or jwks_uri")
		}
		tried = append(tried, u+": "+err.Error())
		md.Issuer, md.JWKSURI = "", ""
	}
	if md.JWKSURI == "" {
		return nil, fmt.Errorf("no authorization server metadata: %s", strings.Join(tried, "; "))
	}
	if strings.TrimRight(md.Issuer, "/") != strings.TrimRight(k.issuer, "/") {
		return nil, fmt.Errorf("the metadata names issuer %q, not %q", md.Issuer, k.issuer)
	}
	if md.Issuer != k.issuer {
		k.log.WithFields(logrus.Fields{"configured": k.issuer, "metadata": md.Issuer}).Warn("oauth-issuer: the identity provider names itself with a different trailing slash; tokens must carry its own spelling, and hosts may expect --oauth-issuer to be exactly it")
	}
	ju, err := url.Parse(md.JWKSURI)
	if err != nil || ju.Host == "" || !(ju.Scheme == "https" || ju.Scheme == "http" && k.loopback && isLoopbackHost(ju.Hostname())) {
		return nil, fmt.Errorf("the metadata's jwks_uri %q is not an https URL", md.JWKSURI)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := k.getJSON(ctx, md.JWKSURI, &doc); err != nil {
		return nil, fmt.Errorf("key set %s: %w", md.JWKSURI, err)
	}
	set := &keySet{issuer: md.Issuer, fetchedAt: k.clock.Now()}
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || !key.Valid() || !key.IsPublic() || (key.Use != "" && key.Use != "sig") {
			continue // a key of a kind not used here
		}
		if rk, ok := key.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < 2048 {
			continue
		}
		set.keys = append(set.keys, key)
	}
	if len(set.keys) == 0 {
		return nil, fmt.Errorf("key set %s holds no RS256, ES256 or EdDSA signing key", md.JWKSURI)
	}
	return set, nil
}

func (k *issuerKeys) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIssuerDocBytes+1))
	if err != nil {
		return err
	}
	if len(body) > maxIssuerDocBytes {
		return errors.New("larger than 1 MiB")
	}
	return json.Unmarshal(body, v)
}
