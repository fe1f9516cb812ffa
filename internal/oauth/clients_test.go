package oauth

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRegistration(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		accepted := []struct {
			name       string
			body       map[string]any
			wantMethod string
			wantSecret bool
		}{
			{"public by default", map[string]any{"redirect_uris": []string{"https://claude.ai/api/mcp/auth_callback"}}, "none", false},
			{"client_secret_post (claude.ai)", map[string]any{"redirect_uris": []string{"https://claude.ai/api/mcp/auth_callback"}, "token_endpoint_auth_method": "client_secret_post", "grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"}, "client_name": "Claude"}, "client_secret_post", true},
			{"client_secret_basic", map[string]any{"redirect_uris": []string{"https://chatgpt.com/connector_platform_oauth_redirect"}, "token_endpoint_auth_method": "client_secret_basic"}, "client_secret_basic", true},
			{"loopback with and without port, native app scheme", map[string]any{"redirect_uris": []string{"http://127.0.0.1:33418/", "http://localhost/callback", "http://[::1]/cb", "cursor://anysphere.cursor-retrieval/oauth/callback"}, "application_type": "native"}, "none", false},
			{"null members read as absent", map[string]any{"redirect_uris": []string{"https://vscode.dev/redirect"}, "client_name": nil, "scope": nil, "grant_types": nil}, "none", false},
		}
		for _, tc := range accepted {
			t.Run(tc.name, func(t *testing.T) {
				e := e.with(t)
				r := e.postJSON(PathRegister, tc.body)
				if r.status != http.StatusCreated {
					t.Fatalf("%d %s", r.status, r.body)
				}
				var v any
				_ = json.Unmarshal([]byte(r.body), &v)
				if p := findNull(v, "$"); p != "" {
					t.Fatalf("null at %s: %s", p, r.body)
				}
				m := r.json(t)
				if m["token_endpoint_auth_method"] != tc.wantMethod {
					t.Errorf("method = %v", m["token_endpoint_auth_method"])
				}
				_, hasSecret := m["client_secret"]
				if hasSecret != tc.wantSecret {
					t.Errorf("client_secret present = %v, want %v", hasSecret, tc.wantSecret)
				}
				if tc.wantSecret && m["client_secret_expires_at"] != float64(0) {
					t.Errorf("client_secret_expires_at = %v", m["client_secret_expires_at"])
				}
				if id, _ := m["client_id"].(string); !strings.HasPrefix(id, "bysmcp_client_") {
					t.Errorf("client_id = %v", m["client_id"])
				}
				if r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
				}
			})
		}
		refused := []struct {
			name string
			body any
			code string
		}{
			{"no redirect_uris", map[string]any{"client_name": "x"}, "invalid_redirect_uri"},
			{"javascript:", map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
			{"data:", map[string]any{"redirect_uris": []string{"data:text/html,<script>alert(1)</script>"}}, "invalid_redirect_uri"},
			{"file:", map[string]any{"redirect_uris": []string{"file:///etc/passwd"}}, "invalid_redirect_uri"},
			{"vbscript:", map[string]any{"redirect_uris": []string{"vbscript:msgbox(1)"}}, "invalid_redirect_uri"},
			{"JavaScript: in capitals", map[string]any{"redirect_uris": []string{"JavaScript:alert(1)"}}, "invalid_redirect_uri"},
			{"http on a public host", map[string]any{"redirect_uris": []string{"http://evil.example/cb"}}, "invalid_redirect_uri"},
			{"http on a private address", map[string]any{"redirect_uris": []string{"http://10.0.0.1/cb"}}, "invalid_redirect_uri"},
			{"one bad among good", map[string]any{"redirect_uris": []string{"https://ok.example/cb", "http://evil.example/cb"}}, "invalid_redirect_uri"},
			{"fragment", map[string]any{"redirect_uris": []string{"https://app.example/cb#x"}}, "invalid_redirect_uri"},
			{"credentials", map[string]any{"redirect_uris": []string{"https://u:p@app.example/cb"}}, "invalid_redirect_uri"},
			{"relative", map[string]any{"redirect_uris": []string{"/cb"}}, "invalid_redirect_uri"},
			{"unknown auth method", map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
			{"implicit grant", map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "grant_types": []string{"implicit"}}, "invalid_client_metadata"},
			{"token response type", map[string]any{"redirect_uris": []string{"https://app.example/cb"}, "response_types": []string{"token"}}, "invalid_client_metadata"},
			{"not an object", []string{"x"}, "invalid_client_metadata"},
		}
		for _, tc := range refused {
			t.Run("refused/"+tc.name, func(t *testing.T) {
				e := e.with(t)
				mustOAuthError(t, e.postJSON(PathRegister, tc.body), http.StatusBadRequest, tc.code)
			})
		}
	})
}

func TestRegistrationIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t, storeKinds(t)[0], envOptions{opts: func(o *Options) { o.RegistrationsPerHour = 3 }})
	for i := range 3 {
		if r := e.postJSON(PathRegister, map[string]any{"redirect_uris": []string{"https://app.example/cb"}}); r.status != http.StatusCreated {
			t.Fatalf("registration %d: %d", i+1, r.status)
		}
	}
	r := e.postJSON(PathRegister, map[string]any{"redirect_uris": []string{"https://app.example/cb"}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("4th registration: %d %v", r.status, r.header)
	}
}

func TestRedirectURIMatching(t *testing.T) {
	t.Parallel()
	reg := []string{"http://localhost/callback", "http://127.0.0.1:33418/", "https://vscode.dev/redirect", "cursor://anysphere.cursor-retrieval/oauth/callback"}
	cases := []struct {
		requested string
		ok        bool
	}{
		{"https://vscode.dev/redirect", true},
		{"cursor://anysphere.cursor-retrieval/oauth/callback", true},
		{"http://localhost:49152/callback", true}, // Claude Code: port-less registration, random port
		{"http://localhost/callback", true},
		{"http://127.0.0.1:51515/", true}, // VS Code's random port
		{"http://127.0.0.1/", true},
		{"http://localhost:49152/other", false},
		{"http://127.0.0.1:51515/callback", false},
		{"http://localhost:49152/callback?x=1", false},
		{"http://127.0.0.2:33418/", false}, // another host, even loopback
		{"https://localhost:49152/callback", false},
		{"https://vscode.dev:444/redirect", false},
		{"https://vscode.dev/redirect/", false},
		{"https://evil.example/redirect", false},
	}
	for _, c := range cases {
		if _, ok := matchRedirectURI(reg, c.requested); ok != c.ok {
			t.Errorf("%s: match = %v, want %v", c.requested, ok, c.ok)
		}
	}
}
