package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/testkit"
)

const secretKey = "bys_ak_SECRETKEY123"

// TestStdioHygiene drives the stdio server through raw pipes at trace
// level, with a real-looking key in the environment: every stdout line is a
// JSON-RPC message, the key never shows on stdout or stderr, and the
// process exits 0 when stdin closes.
func TestStdioHygiene(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binPath, "--sandbox", "--log-level", "trace")
	cmd.Env = cleanEnv("BYS_API_KEY=" + secretKey)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &testkit.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	type line struct {
		raw string
		msg map[string]any
		err error
	}
	lines := make(chan line, 256)
	var all []string
	go func() {
		defer close(lines)
		r := bufio.NewReaderSize(stdout, 1<<20)
		for {
			s, err := r.ReadString('\n')
			if s != "" {
				var m map[string]any
				perr := json.Unmarshal([]byte(s), &m)
				lines <- line{raw: s, msg: m, err: perr}
			}
			if err != nil {
				if err != io.EOF {
					lines <- line{err: err}
				}
				return
			}
		}
	}()
	check := func(l line) {
		t.Helper()
		all = append(all, l.raw)
		if l.err != nil {
			t.Errorf("stdout line is not JSON: %v: %q", l.err, l.raw)
			return
		}
		if l.msg["jsonrpc"] != "2.0" {
			t.Errorf("stdout line is not a JSON-RPC 2.0 message: %q", l.raw)
		}
		if _, hasMethod := l.msg["method"]; !hasMethod {
			if _, hasID := l.msg["id"]; !hasID {
				t.Errorf("stdout line is neither a request, a notification nor a response: %q", l.raw)
			}
		}
	}
	send := func(s string) {
		t.Helper()
		if _, err := io.WriteString(stdin, s+"\n"); err != nil {
			t.Fatalf("write to stdin: %v", err)
		}
	}
	// await reads lines until the response with id arrives.
	await := func(id int) map[string]any {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stdout closed while waiting for response %d; stderr:\n%s", id, stderr.String())
				}
				check(l)
				if l.msg != nil && fmt.Sprint(l.msg["id"]) == fmt.Sprint(id) {
					if l.msg["error"] != nil {
						t.Fatalf("response %d is an error: %s", id, l.raw)
					}
					res, _ := l.msg["result"].(map[string]any)
					return res
				}
			case <-timeout:
				t.Fatalf("no response %d within 10s; stderr:\n%s", id, stderr.String())
			}
		}
	}

	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	await(1)
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	if tools, _ := await(2)["tools"].([]any); len(tools) != 11 {
		t.Errorf("tools/list: %d tools, want 11", len(tools))
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"place_call","arguments":{"to":"+14155550123","objective":"Ask whether they are open on Sunday","fields":[{"name":"open","type":"boolean"}]}}}`)
	res := await(3)
	sc, _ := res["structuredContent"].(map[string]any)
	callID, _ := sc["callId"].(string)
	if callID == "" {
		t.Fatalf("place_call: no callId in %v", res)
	}
	send(`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_call","arguments":{"callId":"` + callID + `"}}}`)
	if res := await(4); res["isError"] == true {
		t.Errorf("get_call: %v", res)
	}
	// A short wait with a progress token puts notifications on stdout too.
	send(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"_meta":{"progressToken":"p5"},"name":"wait_for_call","arguments":{"callId":"` + callID + `","timeoutSec":2}}}`)
	if res := await(5); res["isError"] == true {
		t.Errorf("wait_for_call: %v", res)
	}
	// A 2026-07-28 request on the same channel.
	send(`{"jsonrpc":"2.0","id":6,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"raw","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}}}`)
	await(6)
	send(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"get_call","arguments":{"callId":"does-not-exist"}}}`)
	await(7)

	// Closing stdin ends the process cleanly.
	_ = stdin.Close()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for l := range lines {
			check(l)
		}
	}()
	waitErr := make(chan error, 1)
	go func() { <-drained; waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Errorf("process did not exit cleanly after stdin closed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("process still running 5s after stdin closed")
		_ = cmd.Process.Kill()
		<-waitErr
	}

	out := strings.Join(all, "")
	if strings.Contains(out, "SECRETKEY123") {
		t.Errorf("the API key appears on stdout")
	}
	errOut := stderr.String()
	if strings.Contains(errOut, "SECRETKEY123") {
		t.Errorf("the API key appears on stderr at trace level:\n%s", errOut)
	}
	if !strings.Contains(out, `"notifications/progress"`) {
		t.Errorf("no progress notification on stdout")
	}
	if errOut == "" {
		t.Errorf("nothing logged on stderr at trace level")
	}
	t.Logf("%d stdout lines, %d bytes of trace logs", len(all), len(errOut))
}
