package oauth

import (
	"errors"
	"net/http"
)

// handleToken is the token endpoint: authorization_code (with PKCE S256)
// and refresh_token (rotated on every use, with reuse detection).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		errInvalidRequest("the body must be application/x-www-form-urlencoded").write(w)
		return
	}
	for _, p := range []string{"grant_type", "code", "refresh_token", "code_verifier", "redirect_uri", "client_id"} {
		if len(r.PostForm[p]) > 1 {
			errInvalidRequest(p + " is given more than once").write(w)
			return
		}
	}
	c, oerr := s.authenticateClient(r.Context(), r)
	if oerr != nil {
		if oerr.status == http.StatusUnauthorized {
			if _, _, basic := r.BasicAuth(); basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="bys-mcp"`)
			}
		}
		oerr.write(w)
		return
	}
	for _, res := range r.PostForm["resource"] {
		if !s.resourceMatches(res) {
			errInvalidTarget().write(w)
			return
		}
	}
	var resp *tokenResponse
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		resp, oerr = s.exchangeCode(r, c)
	case "refresh_token":
		resp, oerr = s.refresh(r, c)
	case "":
		oerr = errInvalidRequest("grant_type is required")
	default:
		oerr = &oauthError{Error: "unsupported_grant_type", Description: "grant_type must be authorization_code or refresh_token"}
	}
	if oerr != nil {
		oerr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// exchangeCode redeems an authorization code: once, within 60 s, by its
// client, with its redirect URI and PKCE verifier. A code used twice
// revokes what it issued.
func (s *Server) exchangeCode(r *http.Request, c *Client) (*tokenResponse, *oauthError) {
	ctx := r.Context()
	code := r.PostForm.Get("code")
	if code == "" {
		return nil, errInvalidRequest("code is required")
	}
	h := hashToken(code)
	var rec codeRecord
	ok, err := s.getJSON(ctx, kindCode, h, &rec)
	if err != nil {
		return nil, errUnavailable()
	}
	if !ok {
		return nil, errInvalidGrant("the code is unknown or expired")
	}
	first, err := s.store.UseOnce(ctx, "oauth-code:"+h, codeRecordTTL)
	if err != nil {
		return nil, errUnavailable()
	}
	if !first {
		s.revokeGrant(ctx, rec.Grant, "authorization code used twice")
		return nil, errInvalidGrant("the code was already used; what it issued is revoked")
	}
	switch {
	case rec.Client != c.ID:
		return nil, errInvalidGrant("the code was issued to another client")
	case !s.now().Before(rec.Expires):
		return nil, errInvalidGrant("the code has expired")
	case r.PostForm.Get("redirect_uri") != "" && r.PostForm.Get("redirect_uri") != rec.RedirectURI:
		return nil, errInvalidGrant("redirect_uri differs from the authorization request's")
	}
	verifier := r.PostForm.Get("code_verifier")
	if verifier == "" {
		return nil, errInvalidRequest("code_verifier is required (PKCE)")
	}
	if !pkceMatches(verifier, rec.Challenge) {
		return nil, errInvalidGrant("code_verifier does not match the code_challenge")
	}
	now := s.now()
	g := &grantRecord{
		ID: rec.Grant, Client: rec.Client, ClientName: rec.ClientName, Scope: rec.Scope, Resource: rec.Resource,
		Key: rec.Key, KeyFP: rec.KeyFP, Created: now,
	}
	resp, err := s.issueTokens(ctx, g, g.Scope)
	if errors.Is(err, errRevoked) {
		return nil, errInvalidGrant("the grant was revoked")
	}
	if err != nil {
		return nil, errUnavailable()
	}
	s.log.WithFields(map[string]any{"client_id": g.Client, "grant": g.ID, "scope": g.Scope}).Info("oauth: tokens issued")
	return resp, nil
}

// refresh rotates a refresh token. A rotated token presented again within
// ReuseGrace is refused; later, it revokes the whole grant (it was copied).
func (s *Server) refresh(r *http.Request, c *Client) (*tokenResponse, *oauthError) {
	ctx := r.Context()
	token := r.PostForm.Get("refresh_token")
	if token == "" {
		return nil, errInvalidRequest("refresh_token is required")
	}
	h := hashToken(token)
	var rec refreshRecord
	ok, err := s.getJSON(ctx, kindRefresh, h, &rec)
	if err != nil {
		return nil, errUnavailable()
	}
	now := s.now()
	if !ok || !now.Before(rec.Expires) {
		return nil, errInvalidGrant("the refresh token is unknown, expired or revoked")
	}
	if rec.Client != c.ID {
		return nil, errInvalidGrant("the refresh token was issued to another client")
	}
	first, err := s.store.UseOnce(ctx, "oauth-rt:"+h, RefreshTTL+AccessTTL)
	if err != nil {
		return nil, errUnavailable()
	}
	if !first || !rec.Rotated.IsZero() {
		if !rec.Rotated.IsZero() && now.Sub(rec.Rotated) > ReuseGrace {
			s.revokeGrant(ctx, rec.Grant, "a rotated refresh token was used again")
			return nil, errInvalidGrant("the refresh token was already used; the grant is revoked")
		}
		return nil, errInvalidGrant("the refresh token was just used; use the one it returned")
	}
	var g grantRecord
	ok, err = s.getJSON(ctx, kindGrant, rec.Grant, &g)
	if err != nil {
		return nil, errUnavailable()
	}
	if !ok {
		return nil, errInvalidGrant("the grant is revoked")
	}
	scope := g.Scope
	if raw := r.PostForm.Get("scope"); raw != "" {
		asked, ok := normalizeScope(raw)
		if !ok || (scopeHasWrite(asked) && !scopeHasWrite(g.Scope)) {
			return nil, &oauthError{Error: "invalid_scope", Description: "a refresh may not widen the granted scope"}
		}
		scope = asked
	}
	rec.Rotated = now
	if err := s.putJSON(ctx, kindRefresh, h, &rec, rec.Expires.Sub(now)); err != nil {
		return nil, errUnavailable()
	}
	resp, err := s.issueTokens(ctx, &g, scope)
	if errors.Is(err, errRevoked) {
		return nil, errInvalidGrant("the grant is revoked")
	}
	if err != nil {
		return nil, errUnavailable()
	}
	return resp, nil
}
