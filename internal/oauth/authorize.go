package oauth

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/safety"
)

// consentRecord is a checked authorization request waiting for the person's
// answer on the consent page.
type consentRecord struct {
	Client      string    `json:"client"`
	ClientName  string    `json:"clientName"`
	Document    bool      `json:"document,omitempty"`
	RedirectURI string    `json:"redirectUri"`
	State       string    `json:"state,omitempty"`
	Challenge   string    `json:"challenge"`
	Resource    string    `json:"resource"`
	Scope       string    `json:"scope"`
	Created     time.Time `json:"created"`
}

const maxStateLen = 2048

// handleAuthorize is the authorization endpoint: it checks the request and
// shows the consent page. An unknown client or a redirect URI that does not
// match gets an error page and is never redirected to; other errors are
// redirected with error, error_description, state and iss.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	for _, p := range []string{"client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "scope"} {
		if len(q[p]) > 1 {
			s.errorPage(w, http.StatusBadRequest, "The sign-in request is malformed", fmt.Sprintf("The parameter %s is given more than once. Start again from your app.", p))
			return
		}
	}
	clientID := q.Get("client_id")
	c, err := s.lookupClient(ctx, clientID)
	if errors.Is(err, errUnknownClient) {
		s.errorPage(w, http.StatusBadRequest, "Unknown application", "This sign-in request comes from an application this server does not know. Start again from your app; if it keeps happening, the app may need to register again.")
		return
	}
	if err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "The server cannot reach its state store right now.")
		return
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		if len(c.RedirectURIs) != 1 {
			s.errorPage(w, http.StatusBadRequest, "The sign-in request is malformed", "The request names no redirect_uri and the application registered several. Start again from your app.")
			return
		}
		redirect = c.RedirectURIs[0]
	} else if m, ok := matchRedirectURI(c.RedirectURIs, redirect); ok {
		redirect = m
	} else {
		s.errorPage(w, http.StatusBadRequest, "Redirect address not registered", "This sign-in request asks to send you back to an address the application did not register, so it is refused. Start again from your app.")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) {
		w.Header().Set("Location", withParams(redirect, map[string]string{"error": code, "error_description": desc, "state": state, "iss": s.issuer}))
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(http.StatusFound)
	}
	if len(state) > maxStateLen {
		fail("invalid_request", "state is too long")
		return
	}
	if rt := q.Get("response_type"); rt != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	challenge := q.Get("code_challenge")
	if challenge == "" {
		fail("invalid_request", "code_challenge is required (PKCE with S256)")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "code_challenge_method must be S256")
		return
	}
	if !validChallenge(challenge) {
		fail("invalid_request", "code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
		return
	}
	for _, res := range q["resource"] {
		if !s.resourceMatches(res) {
			fail("invalid_target", "resource must be "+s.resource)
			return
		}
	}
	scope, ok := normalizeScope(q.Get("scope"))
	if !ok {
		fail("invalid_scope", "scope may hold calls:read and calls:write")
		return
	}
	rec := consentRecord{
		Client: c.ID, ClientName: c.displayName(), Document: c.Document, RedirectURI: redirect, State: state,
		Challenge: challenge, Resource: s.resource, Scope: scope, Created: s.now(),
	}
	id := randomID()
	if err := s.putJSON(ctx, kindConsent, id, &rec, ConsentTTL); err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "The server cannot reach its state store right now.")
		return
	}
	nonce := randomID()
	http.SetCookie(w, s.consentCookie(id, nonce))
	s.consentPage(w, http.StatusOK, id, nonce, &rec, "")
}

// validChallenge: 43 base64url characters (a SHA-256).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

// handleConsent is the consent form's POST: approve (check the key with one
// read request to the API, then redirect with a code) or deny (redirect with
// access_denied).
func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form could not be read", "Start again from your app.")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" && !strings.EqualFold(origin, s.issuer) {
		s.errorPage(w, http.StatusForbidden, "The form could not be verified", "The form was not sent from this server's own page. Start again from your app.")
		return
	}
	id := r.PostForm.Get("request")
	var rec consentRecord
	ok, err := s.getJSON(ctx, kindConsent, id, &rec)
	if err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "The server cannot reach its state store right now.")
		return
	}
	if id == "" || !ok {
		s.errorPage(w, http.StatusBadRequest, "This sign-in page has expired", "Sign-in pages last ten minutes and are used once. Start again from your app.")
		return
	}
	cookie, _ := r.Cookie(s.cookieName(id))
	if cookie == nil || !s.checkCSRF(id, cookie.Value, r.PostForm.Get("csrf")) {
		s.errorPage(w, http.StatusForbidden, "The form could not be verified", "The form's anti-forgery token does not match this browser's sign-in page. Start again from your app.")
		return
	}
	nonce := cookie.Value
	if r.PostForm.Get("action") != "approve" {
		_, _ = s.records.DeleteRecord(ctx, kindConsent, id)
		s.redirectAfterPost(w, withParams(rec.RedirectURI, map[string]string{"error": "access_denied", "error_description": "the person declined", "state": rec.State, "iss": s.issuer}))
		return
	}
	_, allowed, retry, err := s.store.ReserveBudget(ctx, "oauth-key-attempts:"+clientAddr(r), s.opts.KeyAttemptsPerMinute, time.Minute)
	if err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "The server cannot reach its state store right now.")
		return
	}
	if !allowed {
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		s.consentPage(w, http.StatusTooManyRequests, id, nonce, &rec, fmt.Sprintf("Too many keys tried from your address: wait %d seconds, then try again.", int(retry.Seconds())+1))
		return
	}
	key := strings.TrimSpace(r.PostForm.Get("key"))
	if key == "" && s.opts.SandboxKey != "" {
		key = s.opts.SandboxKey
	}
	if msg := keyProblem(key); msg != "" {
		s.consentPage(w, http.StatusBadRequest, id, nonce, &rec, msg)
		return
	}
	if err := s.opts.CheckKey(ctx, key); err != nil {
		if errors.Is(err, ErrKeyRefused) {
			s.log.WithFields(map[string]any{"client_id": rec.Client, "key": safety.KeyFingerprint(key)}).Info("oauth: a key was refused on the consent page")
			s.consentPage(w, http.StatusBadRequest, id, nonce, &rec, "By Your Side refused this key. Check that you copied the whole agent key (bys_ak_...) from the dashboard.")
			return
		}
		s.consentPage(w, http.StatusServiceUnavailable, id, nonce, &rec, "By Your Side could not be reached to check the key. Try again in a moment.")
		return
	}
	scope := rec.Scope
	if scopeHasWrite(scope) && r.PostForm.Get("write") == "" {
		scope = ScopeRead
	}
	grant := randomID()
	code := randomToken(prefixCode)
	cr := codeRecord{
		Client: rec.Client, ClientName: rec.ClientName, RedirectURI: rec.RedirectURI, Challenge: rec.Challenge,
		Resource: rec.Resource, Scope: scope, Grant: grant, Key: s.sealer.seal(key, grant), KeyFP: safety.KeyFingerprint(key),
		Expires: s.now().Add(CodeTTL),
	}
	if err := s.putJSON(ctx, kindCode, hashToken(code), &cr, codeRecordTTL); err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Try again shortly", "The server cannot reach its state store right now.")
		return
	}
	_, _ = s.records.DeleteRecord(ctx, kindConsent, id)
	if c, err := s.lookupClient(ctx, rec.Client); err == nil {
		s.touchClient(ctx, c)
	}
	s.log.WithFields(map[string]any{"client_id": rec.Client, "grant": grant, "scope": scope}).Info("oauth: sign-in approved")
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(id), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	s.redirectAfterPost(w, withParams(rec.RedirectURI, map[string]string{"code": code, "state": rec.State, "iss": s.issuer}))
}

// keyProblem says what is wrong with the shape of a typed key, or "".
func keyProblem(key string) string {
	switch {
	case key == "":
		return "Paste your By Your Side agent key."
	case !strings.HasPrefix(key, "bys_ak_") || len(key) == len("bys_ak_"):
		return "An agent key starts with bys_ak_. Copy it from the By Your Side dashboard."
	case len(key) > 256 || strings.ContainsAny(key, " \t\r\n"):
		return "That does not look like an agent key: paste the key alone."
	}
	return ""
}

// redirectAfterPost sends the browser to the client (303: the next request
// is a GET).
func (s *Server) redirectAfterPost(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

// pkceMatches checks a code verifier against its S256 challenge.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	for _, c := range verifier {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}
