package testkit

import (
	"fmt"
	"net/http"
	"os/exec"
	"time"
)

// SandboxProcess is `bys-mcp sandbox` running as a child of the test
// process, on a loopback port of its own.
type SandboxProcess struct {
	URL    string      // http://127.0.0.1:PORT
	Stderr *SyncBuffer // what it wrote on stderr

	cmd  *exec.Cmd
	done chan struct{}
}

// StartSandboxProcess runs the sandbox subcommand of the binary bin at
// timeScale, with a rate limit no test reaches (100,000 requests a minute)
// and CleanEnv's environment, and returns once its API answers (401 to an
// unauthenticated GET /v1/agent/calls, within 10 s). A port taken in the
// meantime is tried again on another, three times in all. Stop ends it.
func StartSandboxProcess(bin, timeScale string) (*SandboxProcess, error) {
	var lastErr error
	for range 3 {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		p := &SandboxProcess{URL: "http://" + addr, Stderr: &SyncBuffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(bin, "sandbox", "--addr", addr, "--time-scale", timeScale, "--rate-limit-per-minute", "100000")
		p.cmd.Env = CleanEnv()
		p.cmd.Stderr = p.Stderr
		if err := p.cmd.Start(); err != nil {
			return nil, err
		}
		go func() { _ = p.cmd.Wait(); close(p.done) }()
		if lastErr = p.waitReady(10 * time.Second); lastErr == nil {
			return p, nil
		}
		p.Stop()
	}
	return nil, fmt.Errorf("standalone sandbox did not start: %v", lastErr)
}

func (p *SandboxProcess) waitReady(d time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(30 * time.Millisecond) {
		select {
		case <-p.done:
			return fmt.Errorf("the sandbox exited early; stderr: %s", p.Stderr.String())
		default:
		}
		if resp, err := c.Get(p.URL + "/v1/agent/calls"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
	}
	return fmt.Errorf("no 401 from %s/v1/agent/calls within %s", p.URL, d)
}

// Stop kills the sandbox and waits until it has ended.
func (p *SandboxProcess) Stop() {
	_ = p.cmd.Process.Kill()
	<-p.done
}
