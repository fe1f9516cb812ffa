// Package redistest starts a throw-away redis-server for tests (no mocks). It
// is used by the state package's tests and by multi-replica end-to-end tests.
//
//	srv := redistest.Start(t) // skips the test if redis-server is not installed
//	store, _ := state.NewRedis(ctx, srv.URL, state.RedisOptions{})
//	srv.Stop()  // Redis goes away (same port kept)
//	srv.Start() // and comes back, empty, on the same port
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a redis-server child process listening on 127.0.0.1:Port.
type Server struct {
	URL  string // redis://127.0.0.1:<port>/0
	Addr string // 127.0.0.1:<port>
	Port int

	t   testing.TB
	bin string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	paused bool
}

// Binary returns the path of redis-server, or "" when it is not installed.
func Binary() string {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return ""
}

// Start launches redis-server on a free port of 127.0.0.1 and waits until it
// answers PING. The server is killed by t.Cleanup. If no redis-server binary
// exists the test is skipped.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		if os.Getenv("BYS_REQUIRE_REDIS") != "" {
			t.Fatal("redistest: redis-server not found but BYS_REQUIRE_REDIS is set (CI must install it: apt-get install -y redis-server)")
		}
		t.Skip("redistest: redis-server not found in PATH or /usr/bin (install it: apt-get install -y redis-server)")
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		s := &Server{
			t:    t,
			bin:  bin,
			Port: port,
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		}
		s.URL = "redis://" + s.Addr + "/0"
		if lastErr = s.start(); lastErr == nil {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redistest: could not start redis-server: %v", lastErr)
	return nil
}

// StartURL is Start for callers that only need the URL and a stop function.
func StartURL(t testing.TB) (url string, stop func()) {
	t.Helper()
	s := Start(t)
	return s.URL, s.Stop
}

// Start (re)starts the server on the same port after Stop. It is a no-op if it
// is running. The restarted server is empty (no persistence).
func (s *Server) Start() {
	s.t.Helper()
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The port may still be held briefly after a kill.
		if err = s.start(); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("redistest: restart on port %d: %v", s.Port, err)
	}
}

// Restart stops then starts the server on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// Stop kills the server (SIGKILL) and waits for it to exit. Safe to call twice.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done, s.paused = nil, nil, false
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Pause freezes the server (SIGSTOP): connections stay open but nothing is
// answered, like a hung Redis. Resume undoes it; Stop also works while paused.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && !s.paused {
		_ = s.cmd.Process.Signal(syscall.SIGSTOP)
		s.paused = true
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.paused {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
		s.paused = false
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return nil
	}
	out := &bytes.Buffer{}
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.Port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--loglevel", "warning",
	)
	cmd.Stdout = &lockedWriter{w: out}
	cmd.Stderr = cmd.Stdout
	cmd.Dir = os.TempDir()
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited early: %s", cmd.Stdout.(*lockedWriter).String())
		default:
		}
		if ping(s.Addr) == nil {
			s.cmd, s.done = cmd, done
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server on %s did not answer PING within 5s", s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
