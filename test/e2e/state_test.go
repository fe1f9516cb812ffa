package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// stdioOn starts the binary over stdio against the API at baseURL, with
// key and the state directory dir, and connects a go-sdk client.
func stdioOn(t *testing.T, ctx context.Context, baseURL, key, dir string, args ...string) (*mcp.ClientSession, *exec.Cmd, *testkit.SyncBuffer) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = cleanEnv("BYS_API_KEY="+key, "BYS_BASE_URL="+baseURL, "BYS_STATE_DIR="+dir)
	stderr := &testkit.SyncBuffer{}
	cmd.Stderr = stderr
	c := mcp.NewClient(&mcp.Implementation{Name: "bys-mcp-e2e", Version: "1.0.0"}, nil)
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 2 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs, cmd, stderr
}

func TestRestartOnTheSameStateDirKeepsDedupe(t *testing.T) {
	t.Parallel()
	api := testkit.SandboxServer(t, sandbox.Options{TimeScale: 20})
	dir := t.TempDir()
	key := "bys_ak_e2e_restart"
	args := map[string]any{"to": "+14155550123", "objective": "Ask whether they are open on Sunday."}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	first, cmd, _ := stdioOn(t, ctx, api.URL, key, dir)
	res, err := first.CallTool(ctx, &mcp.CallToolParams{Name: "place_call", Arguments: args})
	if err != nil || res.IsError {
		t.Fatalf("place_call: %v %v", err, res)
	}
	placed := res.StructuredContent.(map[string]any)
	if placed["deduplicated"] == true {
		t.Fatalf("first call deduplicated: %v", placed)
	}
	// The process dies without any chance to clean up.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Close()
	if _, err := os.Stat(filepath.Join(dir, state.FileName)); err != nil {
		t.Fatalf("no database under --state-dir: %v", err)
	}

	second, _, stderr := stdioOn(t, ctx, api.URL, key, dir)
	res, err = second.CallTool(ctx, &mcp.CallToolParams{Name: "place_call", Arguments: args})
	if err != nil || res.IsError {
		t.Fatalf("place_call after restart: %v %v\n%s", err, res, stderr.String())
	}
	again := res.StructuredContent.(map[string]any)
	if again["deduplicated"] != true || again["callId"] != placed["callId"] {
		t.Fatalf("after restart: %v, want deduplicated: true with callId %v", again, placed["callId"])
	}
}

func TestCorruptStateDatabaseRefusesCallsInOneLogLine(t *testing.T) {
	t.Parallel()
	api := testkit.SandboxServer(t, sandbox.Options{TimeScale: 20})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, state.FileName), []byte("this is not a database, it is a corrupt file of some length"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs, _, stderr := stdioOn(t, ctx, api.URL, "bys_ak_e2e_corrupt", dir)
	for i := range 3 {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "place_call", Arguments: map[string]any{
			"to": "+14155550123", "objective": fmt.Sprintf("Ask about opening hours (%d).", i), "allowDuplicate": i == 2,
		}})
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := res.StructuredContent.(map[string]any)
		if !res.IsError || sc["error"] != "state_unavailable" {
			t.Fatalf("place_call %d on a corrupt database: %v, want state_unavailable", i, sc)
		}
	}
	// A campaign is refused the same way, before anything is dialled.
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "place_calls", Arguments: map[string]any{
		"objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+14155550123"}, map[string]any{"to": "+14155550124"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ := res.StructuredContent.(map[string]any); !res.IsError || sc["error"] != "state_unavailable" {
		t.Fatalf("place_calls on a corrupt database: %v, want state_unavailable", sc)
	}
	// Read tools keep working.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_calls", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("list_calls: %v %v", err, res)
	}
	if calls, _ := res.StructuredContent.(map[string]any)["calls"].([]any); len(calls) != 0 {
		t.Fatalf("%d calls were placed on a corrupt database", len(calls))
	}
	_ = cs.Close()
	if n := countLines(stderr.String(), "the local state database cannot be used"); n != 1 {
		t.Fatalf("%d log lines about the database, want 1:\n%s", n, stderr.String())
	}
}

func countLines(s, sub string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}
