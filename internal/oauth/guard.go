package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/byourside/bys-mcp/internal/tenant"
)

// Verifier turns an access token into who it comes from: the server's own
// tokens (--oauth; Server) or the JWTs of a team's identity provider
// (--oauth-issuer; Resource).
type Verifier interface {
	// Check returns the principal of token. ErrInvalidToken when the token
	// is not valid for this resource; another error when that cannot be
	// decided now (the state store or the identity provider cannot be
	// reached).
	Check(ctx context.Context, token string) (*Principal, error)
}

// Guard is the bearer middleware of the protected resource (/mcp and
// /metrics), the same for both kinds of token: without a valid access
// token, 401 with the challenge that leads to sign-in; a token without
// calls:read, or a write tool called with a token without calls:write, 403
// insufficient_scope; otherwise the request goes on with the principal's
// key, client and person on its context (internal/tenant).
type Guard struct {
	Verifier Verifier
	// ResourceMetadataURL is the absolute URL of the protected resource
	// metadata, which every challenge names.
	ResourceMetadataURL string
	// IsWriteTool reports whether a tool needs calls:write (nil: none).
	IsWriteTool func(name string) bool
	// MaxBodyBytes caps the request bodies read to find the tool called.
	MaxBodyBytes int64
	// Unavailable says what cannot be reached when Check can decide
	// nothing (503).
	Unavailable string
}

// Protect wraps next with the bearer check.
func (g *Guard) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := tenant.BearerToken(r.Header.Get("Authorization"))
		if !ok {
			g.challenge(w, http.StatusUnauthorized, "", "sign in: this server takes OAuth access tokens")
			return
		}
		p, err := g.Verifier.Check(r.Context(), token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				w.Header().Set("Retry-After", "5")
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable", "error_description": g.Unavailable + "; retry shortly"})
				return
			}
			g.challenge(w, http.StatusUnauthorized, "invalid_token", "the access token is unknown, expired or revoked: sign in again")
			return
		}
		if !p.Read {
			g.challenge(w, http.StatusForbidden, "insufficient_scope", "the access token grants neither calls:read nor calls:write: sign in again and allow them")
			return
		}
		if !p.Write && r.Method == http.MethodPost && g.IsWriteTool != nil {
			max := g.MaxBodyBytes
			if max <= 0 {
				max = 1 << 20
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad_request", "message": "could not read the request body"})
				return
			}
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			if callsWriteTool(body, g.IsWriteTool) {
				g.challenge(w, http.StatusForbidden, "insufficient_scope", "this tool places or changes calls: sign in again and allow placing calls")
				return
			}
		}
		ctx := r.Context()
		if p.key != "" {
			ctx = tenant.WithKey(ctx, p.key)
		}
		if p.ClientName != "" {
			ctx = tenant.WithClient(ctx, p.ClientName)
		}
		if p.Person.ID != "" {
			ctx = tenant.WithPerson(ctx, p.Person)
		}
		ctx = context.WithValue(ctx, principalKey{}, p)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// challenge answers 401 or 403 with the WWW-Authenticate header of the MCP
// authorization specification: an absolute resource_metadata URL and the
// scope to ask for.
func (g *Guard) challenge(w http.ResponseWriter, status int, code, desc string) {
	h := `Bearer resource_metadata="` + g.ResourceMetadataURL + `", scope="` + ScopeAll + `"`
	if code == "insufficient_scope" {
		h = `Bearer error="insufficient_scope", scope="` + ScopeAll + `", resource_metadata="` + g.ResourceMetadataURL + `"`
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
