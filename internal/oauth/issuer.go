package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sirupsen/logrus"
)

// Defaults of the resource server of --oauth-issuer.
const (
	// DefaultLeeway is the clock difference tolerated on a token's exp,
	// nbf and iat.
	DefaultLeeway = 30 * time.Second
	// DefaultKeysMaxAge is how long the identity provider's keys are used
	// before they are fetched again.
	DefaultKeysMaxAge = time.Hour
	// DefaultRefetchInterval is the least time between two fetches of the
	// keys (a token naming an unknown key fetches them at most this often).
	DefaultRefetchInterval = time.Minute
	// issuerCacheTTL is the longest a checked token is trusted without
	// checking its signature again (never past its expiry).
	issuerCacheTTL = 5 * time.Minute
)

// issuerAlgs are the signature algorithms accepted.
var issuerAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// ResourceOptions configure the resource server of --oauth-issuer.
type ResourceOptions struct {
	// Issuer is the team's identity provider's issuer identifier
	// (--oauth-issuer).
	Issuer string
	// PublicURL is the server's public origin (--public-url); the resource
	// is PublicURL + "/mcp".
	PublicURL string
	// IsWriteTool reports whether a tool needs calls:write.
	IsWriteTool func(name string) bool
	// MaxBodyBytes caps the request bodies the middleware reads (default
	// 1 MiB).
	MaxBodyBytes int64
	// HTTPClient fetches the issuer's metadata and keys (default: a client
	// with a 10 s timeout).
	HTTPClient *http.Client
	// Leeway, KeysMaxAge and RefetchInterval default to DefaultLeeway,
	// DefaultKeysMaxAge and DefaultRefetchInterval.
	Leeway          time.Duration
	KeysMaxAge      time.Duration
	RefetchInterval time.Duration
	Clock           clock.Clock
	Log             logrus.FieldLogger
}

// Resource is the protected resource of --oauth-issuer: it serves its
// metadata, naming the team's identity provider as the authorization
// server, and takes the JWT access tokens that provider signs for it.
// Nothing is fetched before the first token is checked.
type Resource struct {
	opts     ResourceOptions
	clock    clock.Clock
	log      logrus.FieldLogger
	issuer   string
	origin   string
	resource string
	prmURL   string
	keys     *issuerKeys
	cache    *tokenCache
	guard    *Guard
}

// NewResource builds the resource server.
func NewResource(o ResourceOptions) (*Resource, error) {
	pu, err := url.Parse(strings.TrimRight(o.PublicURL, "/"))
	if err != nil || pu.Host == "" || (pu.Scheme != "https" && !(pu.Scheme == "http" && isLoopbackHost(pu.Hostname()))) {
		return nil, errors.New("oauth: the public URL must be an https origin (http only on a loopback host)")
	}
	iu, err := url.Parse(o.Issuer)
	if err != nil || iu.Host == "" || iu.RawQuery != "" || iu.Fragment != "" || iu.User != nil ||
		(iu.Scheme != "https" && !(iu.Scheme == "http" && isLoopbackHost(iu.Hostname()))) {
		return nil, errors.New("oauth: the issuer must be an https URL (http only on a loopback host) without query or fragment")
	}
	if o.Leeway <= 0 {
		o.Leeway = DefaultLeeway
	}
	if o.KeysMaxAge <= 0 {
		o.KeysMaxAge = DefaultKeysMaxAge
	}
	if o.RefetchInterval <= 0 {
		o.RefetchInterval = DefaultRefetchInterval
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.Log == nil {
		l := logrus.New()
		l.Out = discard{}
		o.Log = l
	}
	origin := pu.Scheme + "://" + pu.Host
	r := &Resource{
		opts:     o,
		clock:    clock.Or(o.Clock),
		log:      o.Log,
		issuer:   o.Issuer,
		origin:   origin,
		resource: origin + ResourcePath,
		prmURL:   origin + PathResourceMetadata + ResourcePath,
		cache:    newTokenCache(10_000),
	}
	r.keys = &issuerKeys{issuer: o.Issuer, client: o.HTTPClient, clock: r.clock, log: r.log,
		maxAge: o.KeysMaxAge, minRefetch: o.RefetchInterval, loopback: isLoopbackHost(iu.Hostname())}
	r.guard = &Guard{Verifier: r, ResourceMetadataURL: r.prmURL, IsWriteTool: o.IsWriteTool, MaxBodyBytes: o.MaxBodyBytes,
		Unavailable: "the identity provider's keys cannot be fetched"}
	return r, nil
}

// Issuer is the identity provider's issuer, as configured.
func (r *Resource) Issuer() string { return r.issuer }

// Resource is the protected resource ({public-url}/mcp).
func (r *Resource) Resource() string { return r.resource }

// PublicOrigin is the server's public origin.
func (r *Resource) PublicOrigin() string { return r.origin }

// ResourceMetadataURL is the absolute URL of the protected resource
// metadata, as the challenges name it.
func (r *Resource) ResourceMetadataURL() string { return r.prmURL }

// Register mounts the protected resource metadata at both well-known paths,
// each wrapped by wrap (the caller's Host check; nil for none).
func (r *Resource) Register(mux *http.ServeMux, wrap func(http.Handler) http.Handler) {
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	doc := resourceMetadata{
		Resource:               r.resource,
		AuthorizationServers:   []string{r.issuer},
		ScopesSupported:        scopesSupported,
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "By Your Side phone calls",
	}
	serve := corsAny(func(w http.ResponseWriter, _ *http.Request) { writeMetadata(w, doc) })
	options := corsAny(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, p := range []string{PathResourceMetadata, PathResourceMetadata + ResourcePath} {
		mux.Handle("GET "+p, wrap(serve))
		mux.Handle("OPTIONS "+p, wrap(options))
	}
}

// Protect is the bearer middleware of the protected resource (see Guard).
func (r *Resource) Protect(next http.Handler) http.Handler { return r.guard.Protect(next) }

// issuerClaims are the claims read besides the registered ones.
type issuerClaims struct {
	Scope    string          `json:"scope"`
	Scp      json.RawMessage `json:"scp"`
	ClientID string          `json:"client_id"`
	Azp      string          `json:"azp"`
}

// accessTokenTypes are the typ headers of an access token (RFC 9068, and
// what identity providers that predate it send); no typ is accepted too.
var accessTokenTypes = map[string]bool{"": true, "jwt": true, "at+jwt": true, "application/at+jwt": true}

// Check verifies a JWT access token of the identity provider: signed by one
// of its keys with RS256, ES256 or EdDSA, iss its issuer, aud naming the
// resource (a trailing slash tolerated), unexpired (exp required; exp, nbf
// and iat judged with the leeway), a sub. Its scope (scope, or scp as an
// array or a string) decides Read and Write; its sub (with the issuer)
// is the person. ErrInvalidToken for anything else; an error wrapping
// errIssuerUnavailable when the provider's keys cannot be fetched.
func (r *Resource) Check(ctx context.Context, token string) (*Principal, error) {
	sum := sha256.Sum256([]byte(token))
	now := r.clock.Now()
	if p, ok := r.cache.get(sum, now); ok {
		return p, nil
	}
	tok, err := jwt.ParseSigned(token, issuerAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, r.refuse("not a signed JWT with RS256, ES256 or EdDSA")
	}
	hdr := tok.Headers[0]
	if typ, _ := hdr.ExtraHeaders[jose.HeaderType].(string); !accessTokenTypes[strings.ToLower(typ)] {
		return nil, r.refuse("typ " + typ + " is not an access token's")
	}
	set, err := r.keys.load(ctx, false)
	if err != nil {
		return nil, err
	}
	keys := set.match(hdr.KeyID, hdr.Algorithm)
	if len(keys) == 0 && hdr.KeyID != "" && !set.hasKID(hdr.KeyID) {
		// A key the provider may have added since: fetch its keys again
		// (at most once per RefetchInterval).
		if set, err = r.keys.load(ctx, true); err != nil {
			return nil, err
		}
		keys = set.match(hdr.KeyID, hdr.Algorithm)
	}
	var std jwt.Claims
	var more issuerClaims
	verified := false
	for _, k := range keys {
		if tok.Claims(k.Key, &std, &more) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, r.refuse("no key of the issuer verifies its signature")
	}
	switch {
	case std.Issuer != set.issuer:
		return nil, r.refuse("iss is not the issuer")
	case std.Subject == "":
		return nil, r.refuse("no sub")
	case std.Expiry == nil:
		return nil, r.refuse("no exp")
	case !audienceHas(std.Audience, r.resource):
		return nil, r.refuse("aud does not name " + r.resource)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Time: now}, r.opts.Leeway); err != nil {
		return nil, r.refuse(err.Error())
	}
	read, write := tokenScopes(more)
	client := more.ClientID
	if client == "" {
		client = more.Azp
	}
	p := &Principal{
		Client: client, ClientName: client, Read: read, Write: write,
		Person:  tenant.Person{ID: PersonID(set.issuer, std.Subject), Subject: std.Subject},
		expires: std.Expiry.Time(),
	}
	until := now.Add(issuerCacheTTL)
	if p.expires.Before(until) {
		until = p.expires
	}
	r.cache.put(sum, p, until)
	return p, nil
}

// refuse logs why a token was refused (never the token) and returns
// ErrInvalidToken.
func (r *Resource) refuse(why string) error {
	r.log.WithField("reason", why).Debug("oauth-issuer: an access token was refused")
	return ErrInvalidToken
}

// PersonID is the stable, opaque id of the person sub at issuer: what
// their calls, campaigns, dedupe entries and budgets are kept under.
func PersonID(issuer, sub string) string {
	h := sha256.Sum256([]byte("bys-mcp person v1\x00" + issuer + "\x00" + sub))
	return hex.EncodeToString(h[:16])
}

func audienceHas(aud jwt.Audience, resource string) bool {
	for _, a := range aud {
		if strings.TrimRight(a, "/") == resource {
			return true
		}
	}
	return false
}

// tokenScopes reads calls:read and calls:write from scope (space
// separated) or scp (an array or a string); calls:write brings calls:read.
func tokenScopes(c issuerClaims) (read, write bool) {
	fields := strings.Fields(c.Scope)
	if len(c.Scp) > 0 {
		var list []string
		var one string
		if json.Unmarshal(c.Scp, &list) == nil {
			fields = append(fields, list...)
		} else if json.Unmarshal(c.Scp, &one) == nil {
			fields = append(fields, strings.Fields(one)...)
		}
	}
	for _, f := range fields {
		switch f {
		case ScopeRead:
			read = true
		case ScopeWrite:
			read, write = true, true
		}
	}
	return read, write
}
