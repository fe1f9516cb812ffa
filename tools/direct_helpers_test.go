package tools_test

import (
	"context"
	"io"
	"net/http"
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

// directDeps builds tools.Deps against a real HTTP server running the
// sandbox behind an API recorder (which keeps every request), for calling
// tool handlers directly.
func directDeps(t *testing.T) (*tools.Deps, *testkit.APIRecorder) {
	t.Helper()
	return directDepsWith(t, sandbox.New(sandbox.Options{TimeScale: 50}))
}

// directDepsWith is directDeps in front of another API handler.
func directDepsWith(t *testing.T, api http.Handler) (*tools.Deps, *testkit.APIRecorder) {
	t.Helper()
	rec := &testkit.APIRecorder{Keep: true}
	srv := testkit.HandlerServer(t, rec.Handler(api))
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
