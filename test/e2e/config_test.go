package e2e_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/testkit"
)

// TestBadConfig: a bad configuration exits non-zero at start-up with one
// line on stderr that says what to fix.
func TestBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		env   []string
		names []string // what the line must mention
	}{
		{"unknown transport", []string{"--sandbox", "--transport", "carrier-pigeon"}, nil, []string{"--transport"}},
		{"unknown transport from env", []string{"--sandbox"}, []string{"BYS_MCP_TRANSPORT=smoke"}, []string{"transport"}},
		{"missing key", nil, nil, []string{"BYS_API_KEY"}},
		{"malformed base URL", []string{"--base-url", "not a url"}, []string{"BYS_API_KEY=bys_ak_e2e"}, []string{"base-url"}},
		{"plain http to a remote API", []string{"--base-url", "http://api.example.com"}, []string{"BYS_API_KEY=bys_ak_e2e"}, []string{"base-url"}},
		{"auth token and client keys together", []string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:" + testkit.FreePort(t), "--auth-token", "e2e-shared-secret-0123456789", "--require-client-keys"}, nil, []string{"--auth-token", "--require-client-keys"}},
		{"calling hours not HH:MM", []string{"--sandbox", "--calling-hours", "8am-9pm"}, nil, []string{"--calling-hours", "BYS_CALLING_HOURS"}},
		{"calling hours from env", []string{"--sandbox"}, []string{"BYS_CALLING_HOURS=25:00-26:00"}, []string{"--calling-hours"}},
		{"calling days", []string{"--sandbox", "--calling-days", "weekdays"}, nil, []string{"--calling-days", "BYS_CALLING_DAYS"}},
		{"default region", []string{"--sandbox", "--default-region", "XX"}, nil, []string{"--default-region", "BYS_DEFAULT_REGION"}},
		{"short auth token", []string{"--sandbox", "--transport", "http", "--addr", "127.0.0.1:" + testkit.FreePort(t), "--auth-token", "short"}, nil, []string{"--auth-token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stderr := runQuick(t, exec.Command(binPath, c.args...), c.env...)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero; stderr: %q", stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || lines[0] == "" {
				t.Errorf("stderr has %d lines, want exactly one: %q", len(lines), stderr)
			}
			for _, n := range c.names {
				if !strings.Contains(stderr, n) {
					t.Errorf("stderr does not name %s: %q", n, stderr)
				}
			}
		})
	}
}
