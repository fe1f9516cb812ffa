// Package deploy_test runs the deployment of deploy/ as a team would copy
// it: the static binary (CGO_ENABLED=0) as two replicas with the unit's
// command line and the example environment file, on one redis-server,
// behind Debian's caddy with deploy/Caddyfile (only its name, ports and
// CA changed: tls internal on loopback), and signs a person in through the
// proxy end to end with the official Go SDK's client auth.
//
// The tests skip when caddy is not installed, except under CI (CI set),
// where .ci/run installs it and a missing caddy fails them.
package deploy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
)

// binPath is the static bys-mcp binary TestMain builds.
var binPath string

// root is the module root (deploy/ is read from there).
var root string

func TestMain(m *testing.M) {
	var err error
	if root, err = testkit.ModuleRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
	// The binary a minimal container would hold: built with CGO_ENABLED=0.
	bin, err := testkit.Binary("", "CGO_ENABLED=0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		testkit.RemoveBinary()
		os.Exit(1)
	}
	binPath = bin
	code := m.Run()
	testkit.RemoveBinary()
	os.Exit(code)
}

// inCI reports whether the tests run under CI, where every tool they need
// is installed by .ci/run and a missing one is a failure.
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

// tool finds a program on PATH or in /usr/bin and /usr/sbin; when it is
// missing the test skips, or fails under CI.
func tool(t *testing.T, name, install string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && !fi.IsDir() {
			return filepath.Join(dir, name)
		}
	}
	if inCI() {
		t.Fatalf("%s is not installed, and CI is set: .ci/run must install it (%s)", name, install)
	}
	t.Skipf("%s is not installed (%s)", name, install)
	return ""
}

// proc is a child process of the test: a replica or caddy.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stderr *testkit.SyncBuffer
	done   chan struct{}
}

// start runs bin with args and env; it is killed when the test ends, and
// its stderr is shown when the test failed.
func start(t *testing.T, name, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), stderr: &testkit.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.stderr.String())
		}
	})
	return p
}

// kill ends the process at once (SIGKILL: a replica that dies) and waits.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// waitFor polls ok every 100 ms until it holds or d passes; it fails the
// test with what when the process exited first or the time ran out.
func (p *proc) waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before %s:\n%s", p.name, what, p.stderr.String())
		default:
		}
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %s within %s", p.name, what, d)
		}
	}
}

// systemdSpecifier matches the specifiers of a unit file: %i, %S, %L...
var systemdSpecifier = regexp.MustCompile(`%[A-Za-z%]`)

// unitCommand reads deploy/bys-mcp@.service and returns the command line
// of its ExecStart and its Environment= entries for instance (the port),
// as systemd would run them: %i is the instance, %S and %L the state and
// logs roots (here under dir), ${CREDENTIALS_DIRECTORY} the directory of
// the credential files (credDir), the binary the one under test.
func unitCommand(t *testing.T, instance, dir, credDir string) (args, env []string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "bys-mcp@.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.ReplaceAll(string(raw), "\\\n", " ")
	expand := func(s string) string {
		s = strings.NewReplacer("%i", instance, "%S", filepath.Join(dir, "lib"), "%L", filepath.Join(dir, "log"),
			"${CREDENTIALS_DIRECTORY}", credDir).Replace(s)
		if m := systemdSpecifier.FindString(s); m != "" {
			t.Fatalf("deploy/bys-mcp@.service uses the specifier %s, which this test does not expand: add it here", m)
		}
		return s
	}
	var exec string
	for _, line := range strings.Split(unit, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "ExecStart="):
			exec = expand(strings.TrimPrefix(line, "ExecStart="))
		case strings.HasPrefix(line, "Environment="):
			env = append(env, expand(strings.TrimPrefix(line, "Environment=")))
		case strings.HasPrefix(line, "StateDirectory=") || strings.HasPrefix(line, "LogsDirectory="):
			key, sub, _ := strings.Cut(line, "=")
			base := map[string]string{"StateDirectory": "lib", "LogsDirectory": "log"}[key]
			// systemd makes these directories (mode 0700) before starting.
			if err := os.MkdirAll(filepath.Join(dir, base, expand(sub)), 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	fields := strings.Fields(exec)
	if len(fields) == 0 || fields[0] != "/usr/local/bin/bys-mcp" {
		t.Fatalf("deploy/bys-mcp@.service: ExecStart %q does not start /usr/local/bin/bys-mcp", exec)
	}
	return fields[1:], env
}

// envFile reads deploy/bys-mcp.env as systemd's EnvironmentFile= does
// (KEY=VALUE lines; # comments), with set replacing or adding entries.
func envFile(t *testing.T, set map[string]string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "deploy", "bys-mcp.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			t.Fatalf("deploy/bys-mcp.env: %q is not KEY=VALUE", line)
		}
		if !strings.HasPrefix(k, "BYS_") {
			t.Fatalf("deploy/bys-mcp.env sets %s, which bys-mcp does not read", k)
		}
		if k == "BYS_API_KEY" {
			t.Fatal("deploy/bys-mcp.env sets BYS_API_KEY: under --oauth every person brings their own key")
		}
		if r, ok := set[k]; ok {
			v = r
		}
		seen[k] = true
		env = append(env, k+"="+v)
	}
	for k, v := range set {
		if !seen[k] {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// caddyfileForTest is deploy/Caddyfile with only what a loopback test must
// change: global options (no admin endpoint, no system trust store, no
// port 80), the site's name and port (bound to loopback, tls internal),
// and the replicas' ports (8181 and 8182).
func caddyfileForTest(t *testing.T, name, port, portA, portB, httpPort string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	must := func(old, new string) {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("deploy/Caddyfile no longer holds %q: update this test", old)
		}
		s = strings.Replace(s, old, new, 1)
	}
	must("\n{\n", "\n{\n\tadmin off\n\tskip_install_trust\n\tauto_https disable_redirects\n\thttp_port "+httpPort+"\n")
	must("\nmcp.example.com {\n", "\n"+name+":"+port+" {\n\tbind 127.0.0.1\n\ttls internal\n")
	for _, p := range []string{"127.0.0.1:8181", "127.0.0.1:8182", "bys-8181-*", "bys-8182-*"} {
		if !strings.Contains(s, p) {
			t.Fatalf("deploy/Caddyfile no longer holds %q: update this test", p)
		}
	}
	// One pass, so that a port holding "8182" is not replaced again.
	return strings.NewReplacer("8181", portA, "8182", portB).Replace(s)
}

// proxyTransport reaches name (any port) at 127.0.0.1 and trusts only the
// root certificate in rootPEM: a client of the public URL, without DNS.
func proxyTransport(t *testing.T, name string, rootPEM []byte) *http.Transport {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(rootPEM) {
		t.Fatal("caddy's root certificate does not parse")
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != name {
			return nil, fmt.Errorf("this test reaches only %s, not %s", name, addr)
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	return tr
}

// get fetches url with c and header, and returns the status, headers and
// body.
func get(t *testing.T, c *http.Client, url string, header http.Header) (int, http.Header, string) {
	t.Helper()
	return do(t, c, http.MethodGet, url, header, "")
}

func do(t *testing.T, c *http.Client, method, url string, header http.Header, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		if strings.EqualFold(k, "Host") {
			req.Host = vs[0]
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, string(b)
}
