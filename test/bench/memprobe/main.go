// Command memprobe measures bys-mcp's memory for scripts/bench, reading the
// server process's /proc/PID/status (Linux):
//
//	memprobe -bin ./bys-mcp -mode calls    -n 10000  # peak RSS (VmHWM) after n get_call over stdio and over Streamable HTTP
//	memprobe -bin ./bys-mcp -mode sessions -n 1000   # RSS per idle Streamable HTTP session, per session with its GET stream, per SSE session
//
// Every server runs with --sandbox on a loopback address. Output lines start
// with MEM for the script.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const initParams = `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"memprobe","version":"1"}}`

var bin string

func main() {
	flag.StringVar(&bin, "bin", "./bys-mcp", "bys-mcp binary")
	mode := flag.String("mode", "calls", "calls or sessions")
	n := flag.Int("n", 0, "tool calls (calls) or sessions (sessions); default 10000 / 1000")
	flag.Parse()
	var err error
	switch *mode {
	case "calls":
		if *n == 0 {
			*n = 10000
		}
		err = calls(*n)
	case "sessions":
		if *n == 0 {
			*n = 1000
		}
		err = sessions(*n)
	default:
		err = fmt.Errorf("unknown -mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "memprobe:", err)
		os.Exit(1)
	}
}

// status returns a field of /proc/pid/status in kB.
func status(pid int, field string) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return -1
}

// ---- calls ----

func calls(n int) error {
	if err := stdioCalls(n); err != nil {
		return err
	}
	return httpCalls(n)
}

func stdioCalls(n int) error {
	cmd := exec.Command(bin, "--sandbox")
	cmd.Env = append(os.Environ(), "BYS_STATE_DIR=memory")
	cmd.Stderr = io.Discard
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { in.Close(); _ = cmd.Wait() }()
	out := bufio.NewReaderSize(outp, 1<<20)
	id := 0
	call := func(method, params string) (string, error) {
		id++
		fmt.Fprintf(in, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`+"\n", id, method, params)
		want := fmt.Sprintf(`"id":%d,`, id)
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				return "", err
			}
			if strings.Contains(line, want) {
				return line, nil
			}
		}
	}
	if _, err := call("initialize", initParams); err != nil {
		return err
	}
	fmt.Fprintln(in, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	callID, err := place(func(p string) (string, error) { return call("tools/call", p) })
	if err != nil {
		return err
	}
	start := status(cmd.Process.Pid, "VmRSS")
	p := fmt.Sprintf(`{"name":"get_call","arguments":{"callId":%q}}`, callID)
	for i := 0; i < n; i++ {
		line, err := call("tools/call", p)
		if err != nil {
			return err
		}
		if strings.Contains(line, `"isError":true`) {
			return fmt.Errorf("get_call: %.200s", line)
		}
	}
	pid := cmd.Process.Pid
	fmt.Printf("MEM stdio_calls n=%d start_rss_kb=%d rss_kb=%d peak_rss_kb=%d\n", n, start, status(pid, "VmRSS"), status(pid, "VmHWM"))
	return nil
}

// place places one call with place_call and returns its id.
func place(call func(params string) (string, error)) (string, error) {
	line, err := call(`{"name":"place_call","arguments":{"to":"+14155550123","objective":"Memory benchmark call"}}`)
	if err != nil {
		return "", err
	}
	i := strings.Index(line, `callId\":\"`)
	if i < 0 {
		i = strings.Index(line, `"callId":"`)
		if i < 0 {
			return "", fmt.Errorf("place_call: no callId in %.300s", line)
		}
		rest := line[i+len(`"callId":"`):]
		return rest[:strings.IndexByte(rest, '"')], nil
	}
	rest := line[i+len(`callId\":\"`):]
	return rest[:strings.Index(rest, `\"`)], nil
}

// server starts bys-mcp --sandbox on a free loopback port with transport t.
func server(t string, extra ...string) (*exec.Cmd, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"--sandbox", "--transport", t, "--addr", addr, "--log-level", "warn"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "BYS_STATE_DIR=memory")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	base := "http://" + addr
	for i := 0; i < 200; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd, base, nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, "", fmt.Errorf("%s server did not come up", t)
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

var hc = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4096
	t.MaxIdleConnsPerHost = 4096
	t.MaxConnsPerHost = 0
	return &http.Client{Transport: t}
}()

var rpcID atomic.Int64

// post sends a JSON-RPC request to url (Streamable HTTP or the SSE message
// endpoint) and returns the response headers and body.
func post(url, sid, method, params string) (http.Header, []byte, error) {
	var body string
	if params == "" {
		body = fmt.Sprintf(`{"jsonrpc":"2.0","method":%q}`, method)
	} else {
		body = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, rpcID.Add(1), method, params)
	}
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sid != "" {
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("%s: HTTP %d %.200s", method, resp.StatusCode, raw)
	}
	return resp.Header, raw, err
}

func initSession(url string) (string, error) {
	h, body, err := post(url, "", "initialize", initParams)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(body, []byte(`"result"`)) {
		return "", fmt.Errorf("initialize: %.200s", body)
	}
	sid := h.Get("Mcp-Session-Id")
	_, _, err = post(url, sid, "notifications/initialized", "")
	return sid, err
}

func httpCalls(n int) error {
	cmd, base, err := server("http")
	if err != nil {
		return err
	}
	defer stop(cmd)
	url := base + "/mcp"
	const clients = 32
	sids := make([]string, clients)
	for i := range sids {
		if sids[i], err = initSession(url); err != nil {
			return err
		}
	}
	callID, err := place(func(p string) (string, error) {
		_, b, err := post(url, sids[0], "tools/call", p)
		return string(b), err
	})
	if err != nil {
		return err
	}
	p := fmt.Sprintf(`{"name":"get_call","arguments":{"callId":%q}}`, callID)
	start := status(cmd.Process.Pid, "VmRSS")
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, sid := range sids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if _, b, err := post(url, sid, "tools/call", p); err != nil || bytes.Contains(b, []byte(`"isError":true`)) {
					firstErr.CompareAndSwap(nil, fmt.Errorf("get_call: %v %.200s", err, b))
					return
				}
			}
		}()
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		return e
	}
	pid := cmd.Process.Pid
	fmt.Printf("MEM http_calls n=%d clients=%d start_rss_kb=%d rss_kb=%d peak_rss_kb=%d\n", n, clients, start, status(pid, "VmRSS"), status(pid, "VmHWM"))
	return nil
}

// ---- sessions ----

func sessions(n int) error {
	max := strconv.Itoa(n + 100)
	for _, kind := range []string{"http", "http+stream", "sse"} {
		t := "http"
		if kind == "sse" {
			t = "sse"
		}
		cmd, base, err := server(t, "--max-sessions", max)
		if err != nil {
			return err
		}
		err = holdSessions(kind, cmd.Process.Pid, base, n)
		stop(cmd)
		if err != nil {
			return err
		}
	}
	return nil
}

func holdSessions(kind string, pid int, base string, n int) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bodies []io.Closer
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	open := func() error {
		switch kind {
		case "http", "http+stream":
			sid, err := initSession(base + "/mcp")
			if err != nil || kind == "http" {
				return err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/mcp", nil)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 {
				resp.Body.Close()
				return fmt.Errorf("GET /mcp: HTTP %d", resp.StatusCode)
			}
			bodies = append(bodies, resp.Body)
			return nil
		default: // sse
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sse", nil)
			req.Header.Set("Accept", "text/event-stream")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			bodies = append(bodies, resp.Body)
			r := bufio.NewReader(resp.Body)
			var endpoint string
			for endpoint == "" {
				line, err := r.ReadString('\n')
				if err != nil {
					return fmt.Errorf("GET /sse: %v", err)
				}
				if d, ok := strings.CutPrefix(line, "data:"); ok {
					endpoint = strings.TrimSpace(d)
				}
			}
			if !strings.HasPrefix(endpoint, "http") {
				endpoint = base + endpoint
			}
			// The answer to initialize arrives on the stream; the POST is 202.
			if _, _, err := post(endpoint, "", "initialize", initParams); err != nil {
				return err
			}
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return fmt.Errorf("SSE initialize: %v", err)
				}
				if strings.Contains(line, `"result"`) {
					break
				}
			}
			_, _, err = post(endpoint, "", "notifications/initialized", "")
			return err
		}
	}
	// Warm up: the first sessions initialise what every later one shares.
	for i := 0; i < 10; i++ {
		if err := open(); err != nil {
			return err
		}
	}
	time.Sleep(300 * time.Millisecond)
	before := status(pid, "VmRSS")
	for i := 0; i < n; i++ {
		if err := open(); err != nil {
			return fmt.Errorf("%s session %d: %v", kind, i, err)
		}
	}
	time.Sleep(time.Second)
	after := status(pid, "VmRSS")
	fmt.Printf("MEM sessions kind=%s n=%d rss_before_kb=%d rss_after_kb=%d per_session_kb=%.1f\n", kind, n, before, after, float64(after-before)/float64(n))
	return nil
}
