package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Token endpoint authentication methods.
const (
	authNone   = "none"
	authPost   = "client_secret_post"
	authBasic  = "client_secret_basic"
	maxNameLen = 200
)

// errUnknownClient: no registration and no metadata document for the id.
var errUnknownClient = errors.New("unknown client")

// Client is a registered client: by Dynamic Client Registration, or read
// from its Client ID Metadata Document.
type Client struct {
	ID              string   `json:"client_id"`
	Name            string   `json:"client_name,omitempty"`
	RedirectURIs    []string `json:"redirect_uris"`
	AuthMethod      string   `json:"token_endpoint_auth_method"`
	SecretHash      string   `json:"secret_hash,omitempty"`
	GrantTypes      []string `json:"grant_types,omitempty"`
	ApplicationType string   `json:"application_type,omitempty"`
	IssuedAt        int64    `json:"client_id_issued_at,omitempty"`
	// Document is true for a client read from its metadata document.
	Document bool `json:"document,omitempty"`
}

// displayName is how the consent page and the audit lines name the client.
func (c *Client) displayName() string {
	if c.Name != "" {
		return c.Name
	}
	if c.Document {
		if u, err := url.Parse(c.ID); err == nil {
			return u.Host
		}
	}
	return "an unnamed application"
}

// isURLClientID tells a Client ID Metadata Document URL from a registered
// client's id.
func isURLClientID(id string) bool {
	return strings.HasPrefix(id, "https://") || strings.HasPrefix(id, "http://")
}

// lookupClient finds a client: a metadata document for a URL id, else a
// registration. errUnknownClient when there is none.
func (s *Server) lookupClient(ctx context.Context, id string) (*Client, error) {
	if id == "" {
		return nil, errUnknownClient
	}
	if isURLClientID(id) {
		return s.documentClient(ctx, id)
	}
	var c Client
	ok, err := s.getJSON(ctx, kindClient, id, &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errUnknownClient
	}
	return &c, nil
}

// registrationRequest is what RFC 7591 clients send; unknown members are
// ignored and null reads as absent.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	ClientURI               string   `json:"client_uri"`
	Scope                   string   `json:"scope"`
	ApplicationType         string   `json:"application_type"`
	SoftwareID              string   `json:"software_id"`
	SoftwareVersion         string   `json:"software_version"`
}

// registrationResponse is the registered metadata: no member is null.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
	ApplicationType         string   `json:"application_type,omitempty"`
	SoftwareID              string   `json:"software_id,omitempty"`
	SoftwareVersion         string   `json:"software_version,omitempty"`
}

func metadataError(code, desc string) *oauthError {
	return &oauthError{Error: code, Description: desc}
}

// validateRegistration checks a registration and returns the client it
// describes (no id or secret yet).
func validateRegistration(req *registrationRequest) (*Client, *oauthError) {
	if len(req.RedirectURIs) == 0 {
		return nil, metadataError("invalid_redirect_uri", "redirect_uris is required")
	}
	if len(req.RedirectURIs) > maxRedirectURIs {
		return nil, metadataError("invalid_redirect_uri", fmt.Sprintf("at most %d redirect_uris", maxRedirectURIs))
	}
	for _, u := range req.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, metadataError("invalid_redirect_uri", err.Error())
		}
	}
	method := req.TokenEndpointAuthMethod
	if method == "" {
		method = authNone
	}
	if !slices.Contains(clientAuthMethods, method) {
		return nil, metadataError("invalid_client_metadata", "token_endpoint_auth_method must be none, client_secret_post or client_secret_basic")
	}
	grants := req.GrantTypes
	if len(grants) == 0 {
		grants = supportedGrantTypes
	}
	for _, g := range grants {
		if !slices.Contains(supportedGrantTypes, g) {
			return nil, metadataError("invalid_client_metadata", "grant_types may hold authorization_code and refresh_token only")
		}
	}
	if !slices.Contains(grants, "authorization_code") {
		return nil, metadataError("invalid_client_metadata", "grant_types must include authorization_code")
	}
	for _, rt := range req.ResponseTypes {
		if rt != "code" {
			return nil, metadataError("invalid_client_metadata", "response_types may hold code only")
		}
	}
	switch req.ApplicationType {
	case "", "web", "native":
	default:
		return nil, metadataError("invalid_client_metadata", "application_type must be web or native")
	}
	if len(req.ClientName) > maxNameLen || hasControl(req.ClientName) {
		return nil, metadataError("invalid_client_metadata", "client_name is too long or holds control characters")
	}
	return &Client{
		Name:            strings.TrimSpace(req.ClientName),
		RedirectURIs:    req.RedirectURIs,
		AuthMethod:      method,
		GrantTypes:      grants,
		ApplicationType: req.ApplicationType,
	}, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// handleRegister is Dynamic Client Registration (RFC 7591).
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, ok, retry, err := s.store.ReserveBudget(ctx, "oauth-register:"+clientAddr(r), s.opts.RegistrationsPerHour, time.Hour)
	if err != nil {
		errUnavailable().write(w)
		return
	}
	if !ok {
		w.Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		(&oauthError{Error: "invalid_request", Description: "too many registrations from this address; retry later", status: http.StatusTooManyRequests}).write(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil || len(body) > 64<<10 {
		errInvalidRequest("the registration must be a JSON object of at most 64 KiB").write(w)
		return
	}
	var req registrationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		metadataError("invalid_client_metadata", "the registration is not a JSON object of client metadata").write(w)
		return
	}
	c, oerr := validateRegistration(&req)
	if oerr != nil {
		oerr.write(w)
		return
	}
	now := s.now()
	c.ID = prefixClient + randomID()
	c.IssuedAt = now.Unix()
	resp := registrationResponse{
		ClientID:                c.ID,
		ClientIDIssuedAt:        c.IssuedAt,
		RedirectURIs:            c.RedirectURIs,
		TokenEndpointAuthMethod: c.AuthMethod,
		GrantTypes:              c.GrantTypes,
		ResponseTypes:           []string{"code"},
		ClientName:              c.Name,
		ClientURI:               req.ClientURI,
		Scope:                   req.Scope,
		ApplicationType:         c.ApplicationType,
		SoftwareID:              req.SoftwareID,
		SoftwareVersion:         req.SoftwareVersion,
	}
	if c.AuthMethod != authNone {
		secret := randomToken(prefixSecret)
		c.SecretHash = hashToken(secret)
		var never int64
		resp.ClientSecret, resp.ClientSecretExpiresAt = secret, &never
	}
	if err := s.putJSON(ctx, kindClient, c.ID, c, clientTTL); err != nil {
		errUnavailable().write(w)
		return
	}
	s.log.WithFields(map[string]any{"client_id": c.ID, "client_name": c.Name, "auth_method": c.AuthMethod}).Info("oauth: client registered")
	writeJSON(w, http.StatusCreated, resp)
}

// authenticateClient reads the client of a token or revocation request
// (client_secret_basic, client_secret_post or a public client's client_id)
// and checks its secret when it has one.
func (s *Server) authenticateClient(ctx context.Context, r *http.Request) (*Client, *oauthError) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, errInvalidClient("the Basic credentials are not form-encoded")
		}
		if r.PostForm.Get("client_secret") != "" {
			return nil, errInvalidRequest("send the client secret one way only")
		}
		if fid := r.PostForm.Get("client_id"); fid != "" && fid != id {
			return nil, errInvalidRequest("client_id differs from the Basic credentials")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return nil, errInvalidClient("client_id is required")
	}
	c, err := s.lookupClient(ctx, id)
	if errors.Is(err, errUnknownClient) {
		return nil, errInvalidClient("unknown client")
	}
	if err != nil {
		return nil, errUnavailable()
	}
	if c.AuthMethod == authNone {
		return c, nil
	}
	got, want := []byte(hashToken(secret)), []byte(c.SecretHash)
	if secret == "" || subtle.ConstantTimeCompare(got, want) != 1 {
		e := errInvalidClient("client authentication failed")
		return nil, e
	}
	return c, nil
}

// touchClient keeps a registered client for another clientTTL after a
// sign-in.
func (s *Server) touchClient(ctx context.Context, c *Client) {
	if c.Document {
		return
	}
	_ = s.putJSON(ctx, kindClient, c.ID, c, clientTTL)
}
