package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// env returns a getenv reading from m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func mustLoad(t *testing.T, args []string, m map[string]string) *Config {
	t.Helper()
	c, err := Load(args, env(m), nil)
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	return c
}

func TestLoadWithNothingGivesTheDefaults(t *testing.T) {
	c := mustLoad(t, nil, nil)
	if !reflect.DeepEqual(c, Defaults()) {
		t.Errorf("Load() = %+v\nwant %+v", *c, *Defaults())
	}
	if c.Transport != "stdio" || c.Addr != "127.0.0.1:8080" || c.BaseURL != "https://api.byourside.ai" ||
		c.LogLevel != "info" || c.LogFormat != "text" || c.MaxWait != 5*time.Minute || c.MaxListLimit != 100 ||
		c.DedupeWindow != 10*time.Minute || c.ConfirmCalls != "auto" || c.TaskMaxTTL != 30*time.Minute ||
		c.RequestTimeout != 15*time.Second || c.MaxBodyBytes != 1<<20 || c.MaxSessions != 1000 ||
		c.MaxCallsPerHour != 0 || c.Sandbox || c.ReadOnly || c.RequireClientKeys || c.ShowVersion {
		t.Errorf("defaults differ from the contract: %+v", *c)
	}
}

func TestLoadPrecedenceFlagThenEnvThenDefault(t *testing.T) {
	tests := []struct {
		flag    string // name, without dashes
		flagVal string
		env     string
		envVal  string
		get     func(*Config) any
		def     any
		fromEnv any
		fromFlg any
	}{
		{"transport", "sse", "BYS_MCP_TRANSPORT", "http", func(c *Config) any { return c.Transport }, "stdio", "http", "sse"},
		{"addr", "127.0.0.1:9", "BYS_MCP_ADDR", "127.0.0.1:7", func(c *Config) any { return c.Addr }, "127.0.0.1:8080", "127.0.0.1:7", "127.0.0.1:9"},
		{"base-url", "http://localhost:1", "BYS_BASE_URL", "https://e.example", func(c *Config) any { return c.BaseURL }, "https://api.byourside.ai", "https://e.example", "http://localhost:1"},
		{"sandbox", "false", "BYS_SANDBOX", "1", func(c *Config) any { return c.Sandbox }, false, true, false},
		{"log-level", "debug", "BYS_LOG_LEVEL", "warn", func(c *Config) any { return c.LogLevel }, "info", "warn", "debug"},
		{"log-format", "text", "BYS_LOG_FORMAT", "json", func(c *Config) any { return c.LogFormat }, "text", "json", "text"},
		{"auth-token", "flagtoken-0123456789", "BYS_MCP_AUTH_TOKEN", "envtoken-0123456789", func(c *Config) any { return c.AuthToken }, "", "envtoken-0123456789", "flagtoken-0123456789"},
		{"require-client-keys", "true", "BYS_MCP_REQUIRE_CLIENT_KEYS", "1", func(c *Config) any { return c.RequireClientKeys }, false, true, true},
		{"allowed-origins", "https://a.example", "BYS_MCP_ALLOWED_ORIGINS", "https://b.example, https://c.example", func(c *Config) any { return c.AllowedOrigins }, []string(nil), []string{"https://b.example", "https://c.example"}, []string{"https://a.example"}},
		{"public-url", "https://a.example", "BYS_MCP_PUBLIC_URL", "https://b.example", func(c *Config) any { return c.PublicURL }, "", "https://b.example", "https://a.example"},
		{"allowed-hosts", "a.example", "BYS_MCP_ALLOWED_HOSTS", "b.example,c.example:8080", func(c *Config) any { return c.AllowedHosts }, []string(nil), []string{"b.example", "c.example:8080"}, []string{"a.example"}},
		{"max-wait", "90s", "BYS_MAX_WAIT", "2m", func(c *Config) any { return c.MaxWait }, 5 * time.Minute, 2 * time.Minute, 90 * time.Second},
		{"max-list-limit", "10", "BYS_MAX_LIST_LIMIT", "50", func(c *Config) any { return c.MaxListLimit }, 100, 50, 10},
		{"max-campaign-calls", "10", "BYS_MAX_CAMPAIGN_CALLS", "200", func(c *Config) any { return c.MaxCampaignCalls }, 50, 200, 10},
		{"read-only", "false", "BYS_READ_ONLY", "1", func(c *Config) any { return c.ReadOnly }, false, true, false},
		{"allow-destinations", "+1415", "BYS_ALLOW_DESTINATIONS", "+44,+33", func(c *Config) any { return c.AllowDestinations }, []string(nil), []string{"+44", "+33"}, []string{"+1415"}},
		{"deny-destinations", "+1900", "BYS_DENY_DESTINATIONS", "+1976", func(c *Config) any { return c.DenyDestinations }, []string(nil), []string{"+1976"}, []string{"+1900"}},
		{"max-calls-per-hour", "3", "BYS_MAX_CALLS_PER_HOUR", "7", func(c *Config) any { return c.MaxCallsPerHour }, 0, 7, 3},
		{"dedupe-window", "0", "BYS_DEDUPE_WINDOW", "1h", func(c *Config) any { return c.DedupeWindow }, 10 * time.Minute, time.Hour, time.Duration(0)},
		{"confirm-calls", "never", "BYS_CONFIRM_CALLS", "always", func(c *Config) any { return c.ConfirmCalls }, "auto", "always", "never"},
		{"audit-log", "/tmp/flag.jsonl", "BYS_AUDIT_LOG", "/tmp/env.jsonl", func(c *Config) any { return c.AuditLog }, "", "/tmp/env.jsonl", "/tmp/flag.jsonl"},
		{"task-max-ttl", "5m", "BYS_TASK_MAX_TTL", "1h", func(c *Config) any { return c.TaskMaxTTL }, 30 * time.Minute, time.Hour, 5 * time.Minute},
		{"state-url", "redis://flag:6379", "BYS_STATE_URL", "rediss://env:6380/1", func(c *Config) any { return c.StateURL }, "", "rediss://env:6380/1", "redis://flag:6379"},
		{"state-dir", "/flag/state", "BYS_STATE_DIR", "memory", func(c *Config) any { return c.StateDir }, "", "memory", "/flag/state"},
		{"request-timeout", "3s", "BYS_REQUEST_TIMEOUT", "20s", func(c *Config) any { return c.RequestTimeout }, 15 * time.Second, 20 * time.Second, 3 * time.Second},
		{"max-body-bytes", "2048", "BYS_MCP_MAX_BODY_BYTES", "4096", func(c *Config) any { return c.MaxBodyBytes }, int64(1 << 20), int64(4096), int64(2048)},
		{"max-sessions", "5", "BYS_MCP_MAX_SESSIONS", "50", func(c *Config) any { return c.MaxSessions }, 1000, 50, 5},
		{"replica-id", "8181", "BYS_MCP_REPLICA_ID", "b", func(c *Config) any { return c.ReplicaID }, "", "b", "8181"},
	}
	for _, tt := range tests {
		t.Run(tt.flag+"/default", func(t *testing.T) {
			if got := tt.get(mustLoad(t, nil, nil)); !reflect.DeepEqual(got, tt.def) {
				t.Errorf("got %#v, want default %#v", got, tt.def)
			}
		})
		t.Run(tt.flag+"/env over default", func(t *testing.T) {
			if got := tt.get(mustLoad(t, nil, map[string]string{tt.env: tt.envVal})); !reflect.DeepEqual(got, tt.fromEnv) {
				t.Errorf("got %#v, want %#v from %s", got, tt.fromEnv, tt.env)
			}
		})
		t.Run(tt.flag+"/flag over env", func(t *testing.T) {
			for _, args := range [][]string{{"--" + tt.flag + "=" + tt.flagVal}, {"-" + tt.flag + "=" + tt.flagVal}} {
				if got := tt.get(mustLoad(t, args, map[string]string{tt.env: tt.envVal})); !reflect.DeepEqual(got, tt.fromFlg) {
					t.Errorf("%q: got %#v, want %#v from the flag", args, got, tt.fromFlg)
				}
			}
		})
		t.Run(tt.flag+"/empty env is unset", func(t *testing.T) {
			if got := tt.get(mustLoad(t, nil, map[string]string{tt.env: ""})); !reflect.DeepEqual(got, tt.def) {
				t.Errorf("got %#v, want default %#v", got, tt.def)
			}
		})
	}
}

func TestEveryOptionIsCoveredByThePrecedenceTable(t *testing.T) {
	// A new option must come with an environment variable (or be --version)
	// and show up in the help text.
	var buf bytes.Buffer
	Usage(&buf)
	for _, o := range mainOptions(Defaults()) {
		if o.env == "" && o.name != "version" {
			t.Errorf("--%s has no environment variable", o.name)
		}
		if !strings.Contains(buf.String(), "--"+o.name) || (o.env != "" && !strings.Contains(buf.String(), o.env)) {
			t.Errorf("usage does not list --%s with %s", o.name, o.env)
		}
	}
}

func TestLoadReadsTheAPIKeyFromTheEnvironmentOnly(t *testing.T) {
	c := mustLoad(t, nil, map[string]string{"BYS_API_KEY": " bys_ak_abc123\n"})
	if c.APIKey != "bys_ak_abc123" {
		t.Errorf("APIKey = %q, want trimmed key", c.APIKey)
	}
	for _, arg := range []string{"--api-key=bys_ak_flagsecret", "-api-key", "--API_KEY=x"} {
		_, err := Load([]string{arg}, env(nil), nil)
		if err == nil || !strings.Contains(err.Error(), "BYS_API_KEY") || strings.Contains(err.Error(), "flagsecret") {
			t.Errorf("Load(%q) error = %v, want a pointer to BYS_API_KEY without the key", arg, err)
		}
	}
}

func TestBoolFlagsAndVariables(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  string
		want bool
	}{
		{"BYS_SANDBOX=1", nil, "1", true},
		{"BYS_SANDBOX=true", nil, "true", true},
		{"BYS_SANDBOX=TRUE", nil, "TRUE", true},
		{"BYS_SANDBOX=yes", nil, "yes", true},
		{"BYS_SANDBOX=0", nil, "0", false},
		{"BYS_SANDBOX=false", nil, "false", false},
		{"BYS_SANDBOX empty", nil, "", false},
		{"--sandbox alone", []string{"--sandbox"}, "", true},
		{"--sandbox=false beats BYS_SANDBOX=1", []string{"--sandbox=false"}, "1", false},
		{"--sandbox=0", []string{"--sandbox=0"}, "", false},
		{"--sandbox=yes", []string{"--sandbox=yes"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.args, map[string]string{"BYS_SANDBOX": tt.env})
			if c.Sandbox != tt.want {
				t.Errorf("Sandbox = %v, want %v", c.Sandbox, tt.want)
			}
		})
	}
	_, err := Load(nil, env(map[string]string{"BYS_SANDBOX": "maybe"}), nil)
	if err == nil || !strings.Contains(err.Error(), "BYS_SANDBOX") || !strings.Contains(err.Error(), "--sandbox") {
		t.Errorf("BYS_SANDBOX=maybe: error = %v, want one naming BYS_SANDBOX and --sandbox", err)
	}
	c := mustLoad(t, []string{"--version", "--read-only"}, nil)
	if !c.ShowVersion || !c.ReadOnly {
		t.Errorf("--version --read-only: got %+v", *c)
	}
}

func TestListsAreTrimmedAndRepeatedFlagsAdd(t *testing.T) {
	c := mustLoad(t, []string{"--allow-destinations", " +1415 ,,+44 ", "--allow-destinations=+33"}, map[string]string{"BYS_ALLOW_DESTINATIONS": "+99"})
	if want := []string{"+1415", "+44", "+33"}; !slices.Equal(c.AllowDestinations, want) {
		t.Errorf("AllowDestinations = %q, want %q", c.AllowDestinations, want)
	}
	c = mustLoad(t, []string{"--deny-destinations="}, map[string]string{"BYS_DENY_DESTINATIONS": "+99"})
	if len(c.DenyDestinations) != 0 {
		t.Errorf("an empty flag given on the command line should beat the variable, got %q", c.DenyDestinations)
	}
}

func TestEnumsAreLowerCased(t *testing.T) {
	c := mustLoad(t, []string{"--transport=HTTP", "--log-level=DEBUG"}, map[string]string{"BYS_CONFIRM_CALLS": " Always "})
	if c.Transport != "http" || c.LogLevel != "debug" || c.ConfirmCalls != "always" {
		t.Errorf("got transport=%q level=%q confirm=%q", c.Transport, c.LogLevel, c.ConfirmCalls)
	}
}

func TestHelpPrintsUsageAndReturnsErrHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"help"}, {"--sandbox", "--help"}} {
		var buf bytes.Buffer
		c, err := Load(args, env(nil), &buf)
		if !errors.Is(err, flag.ErrHelp) || c != nil {
			t.Errorf("Load(%q) = %v, %v; want nil, flag.ErrHelp", args, c, err)
		}
		out := buf.String()
		for _, want := range []string{"MCP server", "bys-mcp --sandbox", "bys-mcp demo", "bys-mcp sandbox", "BYS_API_KEY", "--transport", "BYS_MCP_TRANSPORT", "default stdio", "--dedupe-window", "default 10m"} {
			if !strings.Contains(out, want) {
				t.Errorf("Load(%q) usage lacks %q", args, want)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"unknown flag", []string{"--nope"}, nil, []string{"-nope", "--help"}},
		{"positional argument", []string{"serve"}, nil, []string{`"serve"`, "flags only"}},
		{"bad duration flag", []string{"--max-wait=soon"}, nil, []string{"max-wait", "Go duration"}},
		{"bad duration variable", nil, map[string]string{"BYS_MAX_WAIT": "soon"}, []string{"BYS_MAX_WAIT", "--max-wait", "Go duration"}},
		{"bad int variable", nil, map[string]string{"BYS_MAX_LIST_LIMIT": "ten"}, []string{"BYS_MAX_LIST_LIMIT", "--max-list-limit", "whole number"}},
		{"bad int64 variable", nil, map[string]string{"BYS_MCP_MAX_BODY_BYTES": "1MB"}, []string{"BYS_MCP_MAX_BODY_BYTES", "--max-body-bytes"}},
		{"bad bool variable", nil, map[string]string{"BYS_READ_ONLY": "sure"}, []string{"BYS_READ_ONLY", "--read-only"}},
		{"bad bool flag", []string{"--read-only=sure"}, nil, []string{"read-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.args, env(tt.env), nil)
			if err == nil || c != nil {
				t.Fatalf("Load = %v, %v; want an error", c, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

// valid returns a configuration that passes Validate; tests change one thing.
func valid() *Config {
	c := Defaults()
	c.APIKey = "bys_ak_test0123456789"
	return c
}

// refusal is Validate's message for a valid configuration that mod
// changed; the test fails when Validate accepts it.
func refusal(t *testing.T, mod func(*Config)) string {
	t.Helper()
	c := valid()
	mod(c)
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error")
	}
	return err.Error()
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"defaults with a key", func(*Config) {}},
		{"sandbox without a key", func(c *Config) { c.APIKey = ""; c.Sandbox = true }},
		{"http without a key (per-request keys)", func(c *Config) { c.APIKey = ""; c.Transport = "http" }},
		{"sse without a key", func(c *Config) { c.APIKey = ""; c.Transport = "sse" }},
		{"http on 0.0.0.0 with require-client-keys", func(c *Config) {
			c.APIKey = ""
			c.Transport, c.Addr, c.RequireClientKeys = "http", "0.0.0.0:8080", true
		}},
		{"sse on :8080 with an auth token", func(c *Config) {
			c.Transport, c.Addr, c.AuthToken = "sse", ":8080", "0123456789abcdef"
		}},
		{"auth token in sandbox without a key", func(c *Config) {
			c.APIKey, c.Sandbox, c.Transport, c.AuthToken = "", true, "http", "0123456789abcdef"
		}},
		{"http base URL on loopback", func(c *Config) { c.BaseURL = "http://127.0.0.1:8090" }},
		{"http base URL on localhost", func(c *Config) { c.BaseURL = "http://localhost:8090/" }},
		{"http base URL on ::1", func(c *Config) { c.BaseURL = "http://[::1]:8090" }},
		{"https base URL with a path", func(c *Config) { c.BaseURL = "https://proxy.example.com/bys" }},
		{"every log level", func(c *Config) { c.LogLevel = "warning" }},
		{"json logs", func(c *Config) { c.LogFormat = "json" }},
		{"dedupe window 0", func(c *Config) { c.DedupeWindow = 0 }},
		{"max wait bounds", func(c *Config) { c.MaxWait = time.Second }},
		{"max wait 24h", func(c *Config) { c.MaxWait = 24 * time.Hour }},
		{"list limit 1", func(c *Config) { c.MaxListLimit = 1 }},
		{"replica id of a port on http", func(c *Config) { c.Transport, c.ReplicaID = "http", "8181" }},
		{"replica id with dots and underscores", func(c *Config) { c.Transport, c.ReplicaID = "http", "eu_west.1" }},
		{"destinations", func(c *Config) {
			c.AllowDestinations = []string{"+1", "+123456789012345"}
			c.DenyDestinations = []string{"+1900"}
		}},
		{"state URL", func(c *Config) { c.StateURL = "redis://user:pass@redis:6379/0" }},
		{"rediss state URL", func(c *Config) { c.StateURL = "rediss://redis.example.com" }},
		{"origins and hosts", func(c *Config) {
			c.AllowedOrigins = []string{"https://app.example.com", "http://localhost:3000"}
			c.AllowedHosts = []string{"mcp.example.com", "mcp.example.com:8443"}
		}},
		{"task TTL 1m", func(c *Config) { c.TaskMaxTTL = time.Minute }},
		{"confirm always", func(c *Config) { c.ConfirmCalls = "always" }},
		{"stdio ignores a bad addr", func(c *Config) { c.Addr = "nonsense" }},
		{"https public URL", func(c *Config) { c.Transport, c.PublicURL = "http", "https://mcp.example.com" }},
		{"public URL with a port and a slash", func(c *Config) { c.Transport, c.PublicURL = "sse", "https://mcp.example.com:8443/" }},
		{"http public URL on loopback", func(c *Config) { c.Transport, c.PublicURL = "http", "http://127.0.0.1:8080" }},
		{"http public URL on localhost", func(c *Config) { c.Transport, c.PublicURL = "http", "http://localhost:8080" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mod(c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string // substrings of the message
	}{
		{"campaign size 0", func(c *Config) { c.MaxCampaignCalls = 0 }, []string{"--max-campaign-calls 0 is out of range (BYS_MAX_CAMPAIGN_CALLS)"}},
		{"relative state dir", func(c *Config) { c.StateDir = "state" }, []string{`--state-dir "state" is not valid (BYS_STATE_DIR)`, "absolute", "memory"}},
		{"unknown transport", func(c *Config) { c.Transport = "ftp" }, []string{`--transport "ftp" is not valid (BYS_MCP_TRANSPORT): use stdio, sse or http`}},
		{"unknown log level", func(c *Config) { c.LogLevel = "loud" }, []string{"--log-level", "BYS_LOG_LEVEL", "loud"}},
		{"unknown log format", func(c *Config) { c.LogFormat = "xml" }, []string{"--log-format", "BYS_LOG_FORMAT"}},
		{"unknown confirm mode", func(c *Config) { c.ConfirmCalls = "sometimes" }, []string{"--confirm-calls", "BYS_CONFIRM_CALLS", "auto, always or never"}},
		{"relative base URL", func(c *Config) { c.BaseURL = "api.byourside.ai" }, []string{"--base-url", "BYS_BASE_URL"}},
		{"unparsable base URL", func(c *Config) { c.BaseURL = "https://exa mple.com/%zz" }, []string{"--base-url", "BYS_BASE_URL"}},
		{"empty base URL", func(c *Config) { c.BaseURL = "" }, []string{"--base-url", "BYS_BASE_URL"}},
		{"ftp base URL", func(c *Config) { c.BaseURL = "ftp://api.byourside.ai" }, []string{"--base-url", "BYS_BASE_URL", "http"}},
		{"base URL without host", func(c *Config) { c.BaseURL = "https:///v1" }, []string{"--base-url", "no host"}},
		{"base URL with query", func(c *Config) { c.BaseURL = "https://api.byourside.ai/?x=1" }, []string{"--base-url", "query"}},
		{"base URL with fragment", func(c *Config) { c.BaseURL = "https://api.byourside.ai/#x" }, []string{"--base-url", "fragment"}},
		{"plain http to a remote host", func(c *Config) { c.BaseURL = "http://api.byourside.ai" }, []string{"--base-url", "BYS_BASE_URL", "loopback"}},
		{"plain http to 0.0.0.0", func(c *Config) { c.BaseURL = "http://0.0.0.0:8090" }, []string{"--base-url", "loopback"}},
		{"plain http to localhost.evil.com", func(c *Config) { c.BaseURL = "http://localhost.evil.com" }, []string{"--base-url", "loopback"}},
		{"missing key on stdio", func(c *Config) { c.APIKey = "" }, []string{"BYS_API_KEY is not set: export your agent key (bys_ak_...) or run with --sandbox to use the built-in simulator"}},
		{"key without prefix", func(c *Config) { c.APIKey = "sk_live_0123456789" }, []string{"BYS_API_KEY", "bys_ak_"}},
		{"prefix alone", func(c *Config) { c.APIKey = "bys_ak_" }, []string{"BYS_API_KEY"}},
		{"key with a space", func(c *Config) { c.APIKey = "bys_ak_abc def" }, []string{"BYS_API_KEY", "spaces"}},
		{"bad addr for http", func(c *Config) { c.Transport, c.Addr = "http", "localhost" }, []string{"--addr", "BYS_MCP_ADDR", "host:port"}},
		{"bad port for sse", func(c *Config) { c.Transport, c.Addr = "sse", "127.0.0.1:99999" }, []string{"--addr", "BYS_MCP_ADDR"}},
		{"token and client keys together", func(c *Config) {
			c.Transport, c.AuthToken, c.RequireClientKeys = "http", "0123456789abcdef", true
		}, []string{"--auth-token", "--require-client-keys", "together"}},
		{"non-loopback http without auth", func(c *Config) { c.Transport, c.Addr = "http", "0.0.0.0:8080" }, []string{"--addr", "--auth-token", "--require-client-keys", "BYS_MCP_AUTH_TOKEN", "BYS_MCP_REQUIRE_CLIENT_KEYS"}},
		{"empty host sse without auth", func(c *Config) { c.Transport, c.Addr = "sse", ":8080" }, []string{"--auth-token", "--require-client-keys"}},
		{"public IP http without auth", func(c *Config) { c.Transport, c.Addr = "http", "192.0.2.1:8080" }, []string{"--auth-token", "--require-client-keys"}},
		{"short auth token", func(c *Config) { c.Transport, c.AuthToken = "http", "short" }, []string{"--auth-token", "BYS_MCP_AUTH_TOKEN", "16"}},
		{"auth token with a space", func(c *Config) { c.Transport, c.AuthToken = "http", "0123456789 abcdef" }, []string{"--auth-token", "spaces"}},
		{"auth token that is an agent key", func(c *Config) { c.Transport, c.AuthToken = "http", "bys_ak_0123456789abcdef" }, []string{"--auth-token", "agent key"}},
		{"auth token without a server key", func(c *Config) {
			c.APIKey, c.Transport, c.AuthToken = "", "http", "0123456789abcdef"
		}, []string{"--auth-token", "BYS_API_KEY", "--require-client-keys"}},
		{"allow entry without plus", func(c *Config) { c.AllowDestinations = []string{"1415"} }, []string{"--allow-destinations", "BYS_ALLOW_DESTINATIONS", `"1415"`}},
		{"allow entry too long", func(c *Config) { c.AllowDestinations = []string{"+1234567890123456"} }, []string{"--allow-destinations"}},
		{"allow entry plus alone", func(c *Config) { c.AllowDestinations = []string{"+"} }, []string{"--allow-destinations"}},
		{"deny entry with letters", func(c *Config) { c.DenyDestinations = []string{"+1-900"} }, []string{"--deny-destinations", "BYS_DENY_DESTINATIONS"}},
		{"max wait below 1s", func(c *Config) { c.MaxWait = 500 * time.Millisecond }, []string{"--max-wait", "BYS_MAX_WAIT"}},
		{"max wait above 24h", func(c *Config) { c.MaxWait = 25 * time.Hour }, []string{"--max-wait", "BYS_MAX_WAIT"}},
		{"list limit 0", func(c *Config) { c.MaxListLimit = 0 }, []string{"--max-list-limit", "BYS_MAX_LIST_LIMIT", "1 to 100"}},
		{"list limit 101", func(c *Config) { c.MaxListLimit = 101 }, []string{"--max-list-limit", "1 to 100"}},
		{"negative budget", func(c *Config) { c.MaxCallsPerHour = -1 }, []string{"--max-calls-per-hour", "BYS_MAX_CALLS_PER_HOUR"}},
		{"negative dedupe window", func(c *Config) { c.DedupeWindow = -time.Second }, []string{"--dedupe-window", "BYS_DEDUPE_WINDOW"}},
		{"task TTL under 1m", func(c *Config) { c.TaskMaxTTL = 30 * time.Second }, []string{"--task-max-ttl", "BYS_TASK_MAX_TTL"}},
		{"zero request timeout", func(c *Config) { c.RequestTimeout = 0 }, []string{"--request-timeout", "BYS_REQUEST_TIMEOUT"}},
		{"tiny body cap", func(c *Config) { c.MaxBodyBytes = 10 }, []string{"--max-body-bytes", "BYS_MCP_MAX_BODY_BYTES"}},
		{"no sessions", func(c *Config) { c.MaxSessions = 0 }, []string{"--max-sessions", "BYS_MCP_MAX_SESSIONS"}},
		{"replica id on stdio", func(c *Config) { c.ReplicaID = "8181" }, []string{"--replica-id", "BYS_MCP_REPLICA_ID", "--transport http"}},
		{"replica id on sse", func(c *Config) { c.Transport, c.ReplicaID = "sse", "8181" }, []string{"--replica-id", "--transport http"}},
		{"replica id with a hyphen", func(c *Config) { c.Transport, c.ReplicaID = "http", "mcp-1" }, []string{"--replica-id", "BYS_MCP_REPLICA_ID", "hyphen"}},
		{"replica id with a space", func(c *Config) { c.Transport, c.ReplicaID = "http", "a b" }, []string{"--replica-id"}},
		{"replica id too long", func(c *Config) { c.Transport, c.ReplicaID = "http", strings.Repeat("a", 33) }, []string{"--replica-id", "32"}},
		{"state URL with another scheme", func(c *Config) { c.StateURL = "http://redis:6379" }, []string{"--state-url", "BYS_STATE_URL", "redis://"}},
		{"state URL without host", func(c *Config) { c.StateURL = "redis:///0" }, []string{"--state-url", "no host"}},
		{"state URL with a bad db", func(c *Config) { c.StateURL = "redis://redis:6379/zero" }, []string{"--state-url", "database"}},
		{"wildcard origin", func(c *Config) { c.AllowedOrigins = []string{"*"} }, []string{"--allowed-origins", "BYS_MCP_ALLOWED_ORIGINS"}},
		{"origin with a path", func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com/x"} }, []string{"--allowed-origins"}},
		{"public URL on stdio", func(c *Config) { c.PublicURL = "https://mcp.example.com" }, []string{"--public-url", "BYS_MCP_PUBLIC_URL", "sse or http"}},
		{"http public URL off loopback", func(c *Config) { c.Transport, c.PublicURL = "http", "http://mcp.example.com" }, []string{"--public-url", "BYS_MCP_PUBLIC_URL", "https", "loopback"}},
		{"relative public URL", func(c *Config) { c.Transport, c.PublicURL = "http", "mcp.example.com" }, []string{"--public-url", "BYS_MCP_PUBLIC_URL", "absolute"}},
		{"public URL with a path", func(c *Config) { c.Transport, c.PublicURL = "http", "https://mcp.example.com/hooks" }, []string{"--public-url", "origin", "/webhooks/bys/"}},
		{"public URL with a query", func(c *Config) { c.Transport, c.PublicURL = "http", "https://mcp.example.com?x=1" }, []string{"--public-url", "origin"}},
		{"public URL with credentials", func(c *Config) { c.Transport, c.PublicURL = "http", "https://u:p@mcp.example.com" }, []string{"--public-url", "origin"}},
		{"ftp public URL", func(c *Config) { c.Transport, c.PublicURL = "http", "ftp://mcp.example.com" }, []string{"--public-url", "https"}},
		{"host with a scheme", func(c *Config) { c.AllowedHosts = []string{"https://mcp.example.com"} }, []string{"--allowed-hosts", "BYS_MCP_ALLOWED_HOSTS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := refusal(t, tt.mod)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Count(msg, ". ") > 0 {
				t.Errorf("message %q is not one sentence", msg)
			}
		})
	}
}

const (
	secretKey   = "bys_ak_SUPERSECRETkey42"
	secretToken = "TOKENsecret-0123456789"
	secretPass  = "REDISsecretPW"
)

// leaks reports which secret s shows.
func leaks(s string, secrets ...string) []string {
	var found []string
	for _, x := range secrets {
		if strings.Contains(s, x) {
			found = append(found, x)
		}
	}
	// Nothing after the key prefix may show either.
	if strings.Contains(s, "SUPERSECRET") && !slices.Contains(found, secretKey) {
		found = append(found, "part of the key")
	}
	return found
}

func TestStringAndFmtRedactSecrets(t *testing.T) {
	c := valid()
	c.APIKey = secretKey
	c.AuthToken = secretToken
	c.StateURL = "redis://user:" + secretPass + "@redis:6379/1"
	c.BaseURL = "https://api.byourside.ai"
	renders := map[string]string{
		"String":     c.String(),
		"%v value":   fmt.Sprintf("%v", *c),
		"%v pointer": fmt.Sprintf("%v", c),
		"%+v value":  fmt.Sprintf("%+v", *c),
		"%+v ptr":    fmt.Sprintf("%+v", c),
		"%#v value":  fmt.Sprintf("%#v", *c),
		"%#v ptr":    fmt.Sprintf("%#v", c),
		"%s":         fmt.Sprintf("%s", c),
		"%q":         fmt.Sprintf("%q", *c),
		"%d":         fmt.Sprintf("%d", *c),
		"%x":         fmt.Sprintf("%x", *c),
		"Println":    fmt.Sprintln(c, *c),
		"in a slice": fmt.Sprintf("%+v", []Config{*c}),
		"in a map":   fmt.Sprintf("%v", map[string]any{"config": c}),
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	renders["json"] = string(js)
	for name, s := range renders {
		if l := leaks(s, secretKey, secretToken, secretPass); len(l) > 0 {
			t.Errorf("%s leaks %q: %s", name, l, s)
		}
	}
	s := c.String()
	for _, want := range []string{"bys_ak_…(set)", "auth_token=(set)", "redis://user:xxxxx@redis:6379/1", "transport=stdio"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q: %s", want, s)
		}
	}
	if got := (Config{}).String(); !strings.Contains(got, "api_key=(unset)") || !strings.Contains(got, "auth_token=(unset)") {
		t.Errorf("unset secrets: %s", got)
	}
	if got := (Config{APIKey: "sk_live_notprefixed"}).String(); strings.Contains(got, "sk_live") || !strings.Contains(got, "api_key=(set)") {
		t.Errorf("a key without the prefix: %s", got)
	}
	var back map[string]any
	if err := json.Unmarshal(js, &back); err != nil || back["Transport"] != "stdio" {
		t.Errorf("JSON rendering is not a usable object: %s (%v)", js, err)
	}
}

func TestStateURLRedacted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"redis://redis:6379", "redis://redis:6379"},
		{"redis://user:" + secretPass + "@redis:6379/2", "redis://user:xxxxx@redis:6379/2"},
		{"rediss://:" + secretPass + "@redis:6380", "rediss://:xxxxx@redis:6380"},
		{"redis://" + secretPass + "@redis:6379", "redis://xxxxx@redis:6379"},
		{"redis://u:" + secretPass + "@bad host%zz", "(invalid)"},
	}
	for _, tt := range tests {
		c := &Config{StateURL: tt.in}
		if got := c.StateURLRedacted(); got != tt.want {
			t.Errorf("StateURLRedacted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateAndLoadErrorsNeverShowSecrets(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Config)
		secret string
	}{
		{"key without the prefix", func(c *Config) { c.APIKey = "sk_live_" + secretPass }, secretPass},
		{"key with a space", func(c *Config) { c.APIKey = secretKey + " x" }, secretKey},
		{"key is fine but transport is bad", func(c *Config) { c.APIKey = secretKey; c.Transport = secretKey }, secretKey},
		{"short token", func(c *Config) { c.Transport, c.AuthToken = "http", "Sh0rtSecret" }, "Sh0rtSecret"},
		{"token that is a key", func(c *Config) { c.Transport, c.AuthToken = "http", secretKey }, secretKey},
		{"token with a space", func(c *Config) { c.Transport, c.AuthToken = "http", secretToken+" x" }, secretToken},
		{"token without a key", func(c *Config) { c.APIKey, c.Transport, c.AuthToken = "", "http", secretToken }, secretToken},
		{"token with client keys", func(c *Config) { c.Transport, c.AuthToken, c.RequireClientKeys = "http", secretToken, true }, secretToken},
		{"state URL scheme", func(c *Config) { c.StateURL = "http://u:" + secretPass + "@redis:6379" }, secretPass},
		{"state URL db", func(c *Config) { c.StateURL = "redis://u:" + secretPass + "@redis:6379/x" }, secretPass},
		{"state URL unparsable", func(c *Config) { c.StateURL = "redis://u:" + secretPass + "@re dis%zz" }, secretPass},
		{"state URL password as user", func(c *Config) { c.StateURL = "redis://" + secretPass + "@:6379" }, secretPass},
		{"base URL with credentials", func(c *Config) { c.BaseURL = "https://u:" + secretPass + "@api.byourside.ai" }, secretPass},
		{"base URL with the key in the query", func(c *Config) { c.BaseURL = "https://api.byourside.ai/?key=" + secretKey }, secretKey},
		{"origin with credentials", func(c *Config) { c.AllowedOrigins = []string{"https://u:" + secretPass + "@x.example/p"} }, secretPass},
		{"transport is the token", func(c *Config) { c.AuthToken = secretToken; c.Transport = secretToken }, secretToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if msg := refusal(t, tt.mod); strings.Contains(msg, tt.secret) || strings.Contains(msg, "SUPERSECRET") {
				t.Errorf("message shows the secret: %s", msg)
			}
		})
	}

	loads := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"key as a flag value", []string{"--max-wait=" + secretKey}, nil},
		{"key as an argument", []string{secretKey}, nil},
		{"key as an unknown flag", []string{"--" + secretKey}, nil},
		{"token in a bad flag", []string{"--max-sessions=" + secretToken}, map[string]string{"BYS_MCP_AUTH_TOKEN": secretToken}},
		{"password in a bad flag", []string{"--max-wait=" + secretPass}, map[string]string{"BYS_STATE_URL": "redis://u:" + secretPass + "@r:6379"}},
		{"flag token in a bad flag", []string{"--auth-token=" + secretToken, "--max-sessions=" + secretToken}, nil},
	}
	for _, tt := range loads {
		t.Run("Load/"+tt.name, func(t *testing.T) {
			_, err := Load(tt.args, env(tt.env), nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if l := leaks(err.Error(), secretKey, secretToken, secretPass); len(l) > 0 {
				t.Errorf("message shows %q: %s", l, err)
			}
		})
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", true},
		{"127.1.2.3:80", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"LOCALHOST:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"example.com:8080", false},
		{"localhost.example.com:8080", false},
		{"127.0.0.1", false}, // no port: not a listen address
		{"", false},
	}
	for _, tt := range tests {
		if got := (&Config{Addr: tt.addr}).IsLoopbackAddr(); got != tt.want {
			t.Errorf("IsLoopbackAddr(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestLoadSandboxCommand(t *testing.T) {
	c, err := LoadSandboxCommand(nil, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := SandboxConfig{Addr: "127.0.0.1:8090", LogLevel: "info", LogFormat: "text", TimeScale: 1}
	if *c != want {
		t.Errorf("defaults = %+v, want %+v", *c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}

	e := env(map[string]string{
		"BYS_SANDBOX_ADDR":                  "0.0.0.0:9000",
		"BYS_LOG_LEVEL":                     "debug",
		"BYS_LOG_FORMAT":                    "json",
		"BYS_SANDBOX_TIME_SCALE":            "10",
		"BYS_SANDBOX_RATE_LIMIT_PER_MINUTE": "60",
	})
	c, err = LoadSandboxCommand(nil, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = SandboxConfig{Addr: "0.0.0.0:9000", LogLevel: "debug", LogFormat: "json", TimeScale: 10, RateLimitPerMinute: 60}
	if *c != want {
		t.Errorf("from env = %+v, want %+v", *c, want)
	}
	c, err = LoadSandboxCommand([]string{"--addr", "127.0.0.1:1", "--log-level=warn", "--log-format=text", "--time-scale=0.5", "--rate-limit-per-minute=5"}, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = SandboxConfig{Addr: "127.0.0.1:1", LogLevel: "warn", LogFormat: "text", TimeScale: 0.5, RateLimitPerMinute: 5}
	if *c != want {
		t.Errorf("flags over env = %+v, want %+v", *c, want)
	}

	var buf bytes.Buffer
	if _, err := LoadSandboxCommand([]string{"--help"}, e, &buf); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: err = %v", err)
	}
	for _, w := range []string{"simulator", "--addr", "BYS_SANDBOX_ADDR", "127.0.0.1:8090", "--time-scale", "--rate-limit-per-minute"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("sandbox usage lacks %q", w)
		}
	}
	if _, err := LoadSandboxCommand(nil, env(map[string]string{"BYS_SANDBOX_TIME_SCALE": "fast"}), nil); err == nil || !strings.Contains(err.Error(), "BYS_SANDBOX_TIME_SCALE") {
		t.Errorf("bad time scale: err = %v", err)
	}

	bad := []struct {
		name string
		c    SandboxConfig
		want string
	}{
		{"bad addr", SandboxConfig{Addr: "nope", LogLevel: "info", LogFormat: "text", TimeScale: 1}, "BYS_SANDBOX_ADDR"},
		{"bad level", SandboxConfig{Addr: DefaultSandboxAddr, LogLevel: "x", LogFormat: "text", TimeScale: 1}, "--log-level"},
		{"bad format", SandboxConfig{Addr: DefaultSandboxAddr, LogLevel: "info", LogFormat: "x", TimeScale: 1}, "--log-format"},
		{"zero time scale", SandboxConfig{Addr: DefaultSandboxAddr, LogLevel: "info", LogFormat: "text"}, "--time-scale"},
		{"negative rate", SandboxConfig{Addr: DefaultSandboxAddr, LogLevel: "info", LogFormat: "text", TimeScale: 1, RateLimitPerMinute: -1}, "--rate-limit-per-minute"},
	}
	for _, tt := range bad {
		if err := tt.c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Validate() = %v, want a message naming %s", tt.name, err, tt.want)
		}
	}
}

func TestDefaultStateDir(t *testing.T) {
	tests := []struct {
		name string
		goos string
		env  map[string]string
		want string
	}{
		{"linux home", "linux", map[string]string{"HOME": "/home/ann"}, "/home/ann/.local/state/bys-mcp"},
		{"XDG_STATE_HOME wins", "linux", map[string]string{"HOME": "/home/ann", "XDG_STATE_HOME": "/xdg/state"}, "/xdg/state/bys-mcp"},
		{"relative XDG_STATE_HOME is ignored", "linux", map[string]string{"HOME": "/home/ann", "XDG_STATE_HOME": "rel"}, "/home/ann/.local/state/bys-mcp"},
		{"macOS", "darwin", map[string]string{"HOME": "/Users/ann"}, "/Users/ann/Library/Application Support/bys-mcp"},
		{"windows", "windows", map[string]string{"LocalAppData": `C:\Users\ann\AppData\Local`}, `C:\Users\ann\AppData\Local` + string(filepath.Separator) + "bys-mcp"},
		{"no home: memory", "linux", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultStateDir(env(tt.env), tt.goos); got != tt.want {
				t.Errorf("DefaultStateDir = %q, want %q", got, tt.want)
			}
		})
	}
	// Load fills it in when neither the flag nor the variable is given.
	if got := mustLoad(t, nil, map[string]string{"HOME": "/home/ann", "XDG_STATE_HOME": ""}).StateDir; runtime.GOOS == "linux" && got != "/home/ann/.local/state/bys-mcp" {
		t.Errorf("Load with HOME set: StateDir = %q", got)
	}
	if got := mustLoad(t, []string{"--state-dir", "memory"}, map[string]string{"HOME": "/home/ann"}).StateDir; got != StateDirMemory {
		t.Errorf("--state-dir memory: StateDir = %q", got)
	}
}
