package tools_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/schema"
	"github.com/byourside/bys-mcp/schema/schemagen"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sirupsen/logrus"
)

// apiRecorder sits in front of the sandbox and records what reaches the API.
type apiRecorder struct {
	next http.Handler

	mu    sync.Mutex
	posts []map[string]json.RawMessage
	gets  atomic.Int64
}

func (r *apiRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost {
		body, _ := io.ReadAll(req.Body)
		var m map[string]json.RawMessage
		_ = json.Unmarshal(body, &m)
		r.mu.Lock()
		r.posts = append(r.posts, m)
		r.mu.Unlock()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if req.Method == http.MethodGet {
		r.gets.Add(1)
	}
	r.next.ServeHTTP(w, req)
}

func (r *apiRecorder) lastPost(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.posts) == 0 {
		t.Fatal("no POST reached the API")
	}
	return r.posts[len(r.posts)-1]
}

// directDeps builds tools.Deps against a real HTTP server running the
// sandbox behind an apiRecorder, for calling tool handlers directly.
func directDeps(t *testing.T) (*tools.Deps, *apiRecorder) {
	t.Helper()
	return directDepsWith(t, sandbox.New(sandbox.Options{TimeScale: 50}))
}

// directDepsWith is directDeps in front of another API handler.
func directDepsWith(t *testing.T, api http.Handler) (*tools.Deps, *apiRecorder) {
	t.Helper()
	rec := &apiRecorder{next: api}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := client.New(client.Options{BaseURL: srv.URL, APIKey: "bys_ak_direct_default", Timeout: 5 * time.Second, RetryBaseDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	limits := schema.Limits{MaxWaitSec: 300, MaxListLimit: 100}
	schemas, err := schemagen.Generate(limits)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	store := state.NewMemory()
	t.Cleanup(func() { _ = store.Close() })
	return &tools.Deps{
		Client:       c,
		ServerKey:    "bys_ak_direct_default",
		Log:          log,
		Schemas:      schemas,
		Limits:       limits,
		Store:        store,
		DedupeWindow: 10 * time.Minute,
		ConfirmCalls: tools.ConfirmNever,
		Poll:         *testkit.FastPoll(),
	}, rec
}

// callDirect runs a tool handler with arguments.
func callDirect(t *testing.T, ctx context.Context, h func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error), args map[string]any) *mcp.CallToolResult {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Arguments = args
	res, err := h(ctx, req)
	if err != nil {
		t.Fatalf("handler returned a Go error: %v", err)
	}
	return res
}
