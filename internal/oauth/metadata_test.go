package oauth

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func TestMetadataDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeKinds(t)[0], envOptions{})
	iss := e.ts.URL
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		t.Run(path, func(t *testing.T) {
			e := e.with(t)
			r := e.get(nil, path)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
			}
			var v any
			_ = json.Unmarshal([]byte(r.body), &v)
			if p := findNull(v, "$"); p != "" {
				t.Fatalf("null at %s: %s", p, r.body)
			}
			m := r.json(t)
			if m["resource"] != iss+"/mcp" {
				t.Errorf("resource = %v", m["resource"])
			}
			if as := m["authorization_servers"].([]any); len(as) != 1 || as[0] != iss {
				t.Errorf("authorization_servers = %v", as)
			}
			if s := m["scopes_supported"].([]any); !slices.Equal(s, []any{"calls:read", "calls:write"}) {
				t.Errorf("scopes_supported = %v", s)
			}
			if b := m["bearer_methods_supported"].([]any); !slices.Equal(b, []any{"header"}) {
				t.Errorf("bearer_methods_supported = %v", b)
			}
		})
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		t.Run(path, func(t *testing.T) {
			e := e.with(t)
			r := e.get(nil, path)
			if r.status != http.StatusOK {
				t.Fatalf("%d", r.status)
			}
			var v any
			_ = json.Unmarshal([]byte(r.body), &v)
			if p := findNull(v, "$"); p != "" {
				t.Fatalf("null at %s: %s", p, r.body)
			}
			m := r.json(t)
			want := map[string]any{
				"issuer":                                         iss,
				"authorization_endpoint":                         iss + "/authorize",
				"token_endpoint":                                 iss + "/token",
				"registration_endpoint":                          iss + "/register",
				"revocation_endpoint":                            iss + "/revoke",
				"client_id_metadata_document_supported":          true,
				"authorization_response_iss_parameter_supported": true,
			}
			for k, w := range want {
				if m[k] != w {
					t.Errorf("%s = %v, want %v", k, m[k], w)
				}
			}
			lists := map[string][]any{
				"response_types_supported":              {"code"},
				"grant_types_supported":                 {"authorization_code", "refresh_token"},
				"code_challenge_methods_supported":      {"S256"},
				"token_endpoint_auth_methods_supported": {"none", "client_secret_post", "client_secret_basic"},
				"scopes_supported":                      {"calls:read", "calls:write"},
			}
			for k, w := range lists {
				got, _ := m[k].([]any)
				if !slices.Equal(got, w) {
					t.Errorf("%s = %v, want %v", k, got, w)
				}
			}
		})
	}
	t.Run("CORS preflight", func(t *testing.T) {
		e := e.with(t)
		req, _ := http.NewRequest(http.MethodOptions, e.ts.URL+"/token", nil)
		req.Header.Set("Origin", "https://inspector.example")
		r := do(t, nil, req)
		if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%d %v", r.status, r.header)
		}
	})
}
