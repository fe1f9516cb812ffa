package tools

import (
	"context"
	"fmt"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/sirupsen/logrus"
)

type toolKind int

const (
	readOnly toolKind = iota
	writes
)

// newTool builds a tool definition from generated schemas and the
// annotations its kind implies.
func newTool(name, title, description string, s schema.Tool, kind toolKind) mcp.Tool {
	tool := mcp.NewToolWithRawSchema(name, description, s.Input)
	tool.Title = title
	tool.RawOutputSchema = s.Output
	tool.Annotations = mcp.ToolAnnotation{Title: title, ReadOnlyHint: mcp.ToBoolPtr(kind == readOnly), OpenWorldHint: mcp.ToBoolPtr(true)}
	if kind == readOnly {
		tool.Annotations.IdempotentHint = mcp.ToBoolPtr(true)
		tool.Annotations.DestructiveHint = mcp.ToBoolPtr(false)
	} else {
		// A placed call reaches a real person and cannot be undone: hosts
		// should treat it with the care they give destructive tools.
		tool.Annotations.IdempotentHint = mcp.ToBoolPtr(false)
		tool.Annotations.DestructiveHint = mcp.ToBoolPtr(true)
	}
	return tool
}

// Definitions returns every tool the server offers, in a stable order, for
// registration, documentation and snapshot tests.
func Definitions(d *Deps, includeWrite bool) []server.ServerTool {
	var out []server.ServerTool
	if includeWrite {
		t, h := PlaceCall(d)
		out = append(out, mustWrite(t, h))
	}
	for _, ctor := range []func(*Deps) (mcp.Tool, server.ToolHandlerFunc){WaitForCall, GetCall, ListCalls} {
		t, h := ctor(d)
		out = append(out, mustRead(t, h))
	}
	// Campaigns only where calls may be placed: --read-only withdraws all
	// three tools.
	if includeWrite {
		t, h := PlaceCalls(d)
		out = append(out, mustWrite(t, h))
		t, h = WaitForCampaign(d)
		out = append(out, mustRead(t, h))
		t, h = CancelCampaign(d)
		out = append(out, mustWrite(t, h))
	}
	// Listing campaigns reads only: --read-only keeps it.
	t, h := ListCampaigns(d)
	out = append(out, mustRead(t, h))
	// Pausing, resuming and redialling change what is dialled: withdrawn
	// by --read-only.
	if includeWrite {
		for _, ctor := range []func(*Deps) (mcp.Tool, server.ToolHandlerFunc){PauseCampaign, ResumeCampaign, RetryCampaign} {
			t, h := ctor(d)
			out = append(out, mustWrite(t, h))
		}
	}
	return out
}

// mustRead and mustWrite check a tool's annotation against how it is
// registered, so that a wrong readOnlyHint fails at start-up.
func mustRead(t mcp.Tool, h server.ToolHandlerFunc) server.ServerTool {
	if t.Annotations.ReadOnlyHint == nil || !*t.Annotations.ReadOnlyHint {
		panic(fmt.Sprintf("tool %s is registered as read-only but does not say readOnlyHint: true", t.Name))
	}
	return server.ServerTool{Tool: t, Handler: h}
}

func mustWrite(t mcp.Tool, h server.ToolHandlerFunc) server.ServerTool {
	if t.Annotations.ReadOnlyHint == nil || *t.Annotations.ReadOnlyHint {
		panic(fmt.Sprintf("tool %s is registered as writing but says readOnlyHint: true", t.Name))
	}
	return server.ServerTool{Tool: t, Handler: h}
}

// callLog collects what the one log line of a tool call says.
type callLog struct {
	callID string
	status string
	token  string
	http   int
}

type callLogKey struct{}

func logFrom(ctx context.Context) *callLog {
	l, _ := ctx.Value(callLogKey{}).(*callLog)
	return l
}

func noteCallID(ctx context.Context, id string) {
	if l := logFrom(ctx); l != nil {
		l.callID = id
	}
}

func noteStatus(ctx context.Context, status string) {
	if l := logFrom(ctx); l != nil {
		l.status = status
	}
}

// fail notes the failure for the log line and renders it.
func fail(ctx context.Context, e *toolError) *mcp.CallToolResult {
	if l := logFrom(ctx); l != nil {
		l.token = e.Token
		if e.HTTPStatus != nil {
			l.http = *e.HTTPStatus
		}
	}
	return e.result()
}

// ToolObserver receives the outcome of every tool call (for metrics).
type ToolObserver func(tool, outcome string, d time.Duration)

// LoggingMiddleware writes one log line per tool call (tool, callId,
// status, API status and token, duration), never the key, and reports the
// outcome to observe when it is not nil.
func LoggingMiddleware(log logrus.FieldLogger, observe ToolObserver, c clock.Clock) server.ToolHandlerMiddleware {
	c = clock.Or(c)
	return func(next server.ToolHandlerFunc) server.ToolHandlerFunc {
		return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			start := c.Now()
			l := &callLog{}
			ctx = context.WithValue(ctx, callLogKey{}, l)
			res, err := next(ctx, req)
			elapsed := clock.Since(c, start)
			outcome := "ok"
			switch {
			case err != nil:
				outcome = "internal_error"
			case res != nil && res.IsError:
				outcome = "error"
			case res != nil && res.NeedsInput():
				outcome = "input_required"
			}
			fields := logrus.Fields{"tool": req.Params.Name, "outcome": outcome, "duration_ms": float64(elapsed.Microseconds()) / 1000}
			if l.callID != "" {
				fields["call_id"] = l.callID
			}
			if l.status != "" {
				fields["status"] = l.status
			}
			if l.token != "" {
				fields["error"] = l.token
			}
			if l.http != 0 {
				fields["api_status"] = l.http
			}
			entry := log.WithFields(fields)
			if err != nil {
				entry.WithError(err).Error("tool call failed")
			} else {
				entry.Info("tool call")
			}
			if observe != nil {
				observe(req.Params.Name, outcome, elapsed)
			}
			return res, err
		}
	}
}
