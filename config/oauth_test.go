package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateOAuth(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "secret")
	_ = os.WriteFile(good, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("0123456789abcdef\n"), 0o600)
	oauth := func(c *Config) {
		c.APIKey, c.Transport, c.OAuth, c.PublicURL = "", "http", true, "https://mcp.example.com"
	}
	accepted := []struct {
		name string
		mod  func(*Config)
	}{
		{"https public URL, no key of its own", func(c *Config) {}},
		{"a non-loopback listen address", func(c *Config) { c.Addr = "0.0.0.0:8080" }},
		{"http public URL on loopback", func(c *Config) { c.PublicURL = "http://127.0.0.1:8080" }},
		{"a secret file", func(c *Config) { c.OAuthSecretFile = good }},
		{"replicas on Redis with a secret file", func(c *Config) { c.StateURL, c.OAuthSecretFile = "redis://127.0.0.1:6379/0", good }},
		{"sandbox", func(c *Config) { c.Sandbox = true }},
	}
	for _, tt := range accepted {
		t.Run("accepts/"+tt.name, func(t *testing.T) {
			c := valid()
			oauth(c)
			tt.mod(c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
	refused := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"stdio", func(c *Config) { c.Transport = "stdio" }, []string{"--oauth", "BYS_MCP_OAUTH", "--transport http"}},
		{"sse", func(c *Config) { c.Transport = "sse" }, []string{"--oauth", "--transport http"}},
		{"no public URL", func(c *Config) { c.PublicURL = "" }, []string{"--oauth", "--public-url", "BYS_MCP_PUBLIC_URL"}},
		{"http public URL off loopback", func(c *Config) { c.PublicURL = "http://mcp.example.com" }, []string{"--public-url", "https"}},
		{"with --auth-token", func(c *Config) { c.APIKey, c.AuthToken = "bys_ak_x", "0123456789abcdef" }, []string{"--oauth", "--auth-token", "together"}},
		{"with --require-client-keys", func(c *Config) { c.RequireClientKeys = true }, []string{"--oauth", "--require-client-keys", "together"}},
		{"Redis without a secret file", func(c *Config) { c.StateURL = "redis://127.0.0.1:6379/0" }, []string{"--oauth-secret-file", "BYS_MCP_OAUTH_SECRET_FILE", "--state-url"}},
		{"a missing secret file", func(c *Config) { c.OAuthSecretFile = filepath.Join(dir, "nope") }, []string{"--oauth-secret-file", "cannot be read"}},
		{"a short secret file", func(c *Config) { c.OAuthSecretFile = short }, []string{"--oauth-secret-file", "32", "openssl rand -hex 32"}},
		{"a secret file without --oauth", func(c *Config) { c.OAuth, c.OAuthSecretFile = false, good }, []string{"--oauth-secret-file", "--oauth"}},
	}
	for _, tt := range refused {
		t.Run("refuses/"+tt.name, func(t *testing.T) {
			c := valid()
			oauth(c)
			tt.mod(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "0123456789abcdef") || strings.Contains(err.Error(), strings.Repeat("ab", 32)) {
				t.Errorf("message %q shows a secret", err)
			}
		})
	}
	t.Run("flags and environment", func(t *testing.T) {
		c, err := Load([]string{"--oauth", "--oauth-secret-file", good}, func(k string) string { return "" }, nil)
		if err != nil || !c.OAuth || c.OAuthSecretFile != good {
			t.Fatalf("flags: %+v %v", c, err)
		}
		env := map[string]string{"BYS_MCP_OAUTH": "1", "BYS_MCP_OAUTH_SECRET_FILE": good}
		c, err = Load(nil, func(k string) string { return env[k] }, nil)
		if err != nil || !c.OAuth || c.OAuthSecretFile != good {
			t.Fatalf("environment: %v", err)
		}
	})
}

func TestValidateOAuthIssuer(t *testing.T) {
	issuer := func(c *Config) {
		c.Transport, c.OAuthIssuer, c.PublicURL = "http", "https://login.example.com", "https://mcp.example.com"
	}
	accepted := []struct {
		name string
		mod  func(*Config)
	}{
		{"https issuer and public URL, the server's key", func(c *Config) {}},
		{"an issuer with a path and a trailing slash", func(c *Config) { c.OAuthIssuer = "https://login.example.com/realms/team/" }},
		{"a non-loopback listen address", func(c *Config) { c.Addr = "0.0.0.0:8080" }},
		{"http issuer and public URL on loopback", func(c *Config) {
			c.OAuthIssuer, c.PublicURL = "http://127.0.0.1:9000", "http://127.0.0.1:8080"
		}},
		{"sandbox instead of a key", func(c *Config) { c.APIKey, c.Sandbox = "", true }},
		{"replicas on Redis", func(c *Config) { c.StateURL = "redis://127.0.0.1:6379/0" }},
	}
	for _, tt := range accepted {
		t.Run("accepts/"+tt.name, func(t *testing.T) {
			c := valid()
			issuer(c)
			tt.mod(c)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
		})
	}
	refused := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"stdio", func(c *Config) { c.Transport = "stdio" }, []string{"--oauth-issuer", "BYS_MCP_OAUTH_ISSUER", "--transport http"}},
		{"sse", func(c *Config) { c.Transport = "sse" }, []string{"--oauth-issuer", "--transport http"}},
		{"no public URL", func(c *Config) { c.PublicURL = "" }, []string{"--oauth-issuer", "--public-url"}},
		{"no key of its own", func(c *Config) { c.APIKey = "" }, []string{"--oauth-issuer", "BYS_API_KEY"}},
		{"with --oauth", func(c *Config) { c.OAuth = true }, []string{"--oauth-issuer", "--oauth", "together"}},
		{"with --auth-token", func(c *Config) { c.AuthToken = "0123456789abcdef" }, []string{"--oauth-issuer", "--auth-token", "together"}},
		{"with --require-client-keys", func(c *Config) { c.RequireClientKeys = true }, []string{"--oauth-issuer", "--require-client-keys", "together"}},
		{"http issuer off loopback", func(c *Config) { c.OAuthIssuer = "http://login.example.com" }, []string{"--oauth-issuer", "https"}},
		{"a relative issuer", func(c *Config) { c.OAuthIssuer = "login.example.com" }, []string{"--oauth-issuer", "absolute"}},
		{"an issuer with a query", func(c *Config) { c.OAuthIssuer = "https://login.example.com/?tenant=1" }, []string{"--oauth-issuer", "no query"}},
		{"an issuer with credentials", func(c *Config) { c.OAuthIssuer = "https://u:secretpw@login.example.com" }, []string{"--oauth-issuer", "credentials"}},
	}
	for _, tt := range refused {
		t.Run("refuses/"+tt.name, func(t *testing.T) {
			c := valid()
			issuer(c)
			tt.mod(c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "0123456789abcdef") || strings.Contains(err.Error(), "secretpw") {
				t.Errorf("message %q shows a secret", err)
			}
		})
	}
	t.Run("flags and environment", func(t *testing.T) {
		c, err := Load([]string{"--oauth-issuer", "https://login.example.com"}, func(k string) string { return "" }, nil)
		if err != nil || c.OAuthIssuer != "https://login.example.com" {
			t.Fatalf("flags: %+v %v", c, err)
		}
		env := map[string]string{"BYS_MCP_OAUTH_ISSUER": "https://login.example.com"}
		c, err = Load(nil, func(k string) string { return env[k] }, nil)
		if err != nil || c.OAuthIssuer != "https://login.example.com" {
			t.Fatalf("environment: %v", err)
		}
	})
}
