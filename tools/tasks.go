package tools

import (
	"context"
	"errors"

	"github.com/mark3labs/mcp-go/mcp"
)

// TaskRunner runs a task-augmented wait_for_call (MCP 2025-11-25 Tasks).
// Attach returns the context the task's work runs under (detached from the
// tools/call request, ended by tasks/cancel or the task's TTL) and a
// release func, or a *TaskError refusal.
type TaskRunner interface {
	Attach(ctx context.Context, req mcp.CallToolRequest) (context.Context, func(), error)
}

// ErrServerStopping is the cause with which the server ends running tool
// calls when it shuts down.
var ErrServerStopping = errors.New("the server is shutting down")

// TaskError is a TaskRunner's refusal, shown to the agent as an isError
// result.
type TaskError struct{ Token, Hint string }

func (e *TaskError) Error() string { return e.Token + ": " + e.Hint }

// attachTask runs the rest of a tool call as the task req asks for: it
// returns the task's context and release func, or else what the tool
// answers (an isError result for a *TaskError refusal, or the Go error).
func (d *Deps) attachTask(ctx context.Context, req mcp.CallToolRequest) (context.Context, func(), *mcp.CallToolResult, error) {
	taskCtx, release, err := d.Tasks.Attach(ctx, req)
	if err != nil {
		var te *TaskError
		if errors.As(err, &te) {
			return nil, nil, fail(ctx, newToolError(te.Token, nil, true, te.Hint)), nil
		}
		return nil, nil, nil, err
	}
	return taskCtx, release, nil, nil
}
