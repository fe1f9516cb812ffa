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
