package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// ListCalls returns the list_calls tool: the most recent calls of this key.
func ListCalls(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	maxLimit := d.Limits.MaxListLimit
	tool := newTool("list_calls", "List recent calls",
		"List the most recent calls placed with this API key, most recent first, with their status and summary. "+
			"Use it to find a call id, or to check whether a call was already placed before placing it again (for example after place_call reported that a call may or may not have been placed).",
		d.Schemas.ListCalls, readOnly)
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.ListCallsInput](req, "limit")
		if terr != nil {
			return fail(ctx, terr), nil
		}
		limit := in.Limit
		if v, given := req.GetArguments()["limit"]; !given || v == nil { // null counts as left out, as for place_call
			limit = min(schema.DefaultListLimit, maxLimit)
		}
		if limit < 1 || limit > maxLimit {
			return fail(ctx, invalidArgument("argument \"limit\" must be between 1 and %d (got %d)", maxLimit, limit)), nil
		}
		c, terr := d.clientFor(ctx)
		if terr != nil {
			return fail(ctx, terr), nil
		}
		calls, err := c.ListCalls(ctx, &client.ListOptions{Limit: limit})
		if err != nil {
			return fail(ctx, errorFromAPI(err, false)), nil
		}
		if len(calls) > limit {
			calls = calls[:limit]
		}
		records := make([]any, len(calls))
		var b strings.Builder
		fmt.Fprintf(&b, "%d recent call(s), most recent first:", len(calls))
		for i, call := range calls {
			records[i] = rawRecord(call)
			fmt.Fprintf(&b, "\n- %s %s to %s", call.ID, call.Status, call.To)
			if call.Summary != nil && *call.Summary != "" {
				fmt.Fprintf(&b, ": %s", truncate(*call.Summary, 160))
			}
		}
		return structuredResult(map[string]any{"calls": records}, b.String()), nil
	}
}
