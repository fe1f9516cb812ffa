package tools

import (
	"context"

	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// GetCall returns the get_call tool: one call's current record.
func GetCall(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	tool := newTool("get_call", "Get call",
		"Get the current record of one call placed with place_call: status, summary, transcript, extracted field values, recording URL, timestamps and duration. "+
			"For a long transcript, read it in parts with transcriptMaxChars and transcriptOffset (transcriptMaxChars 0 leaves it out). "+
			"Statuses queued, dialing and in_progress mean the call is still running; prefer wait_for_call to follow a running call instead of calling get_call repeatedly.",
		d.Schemas.GetCall, readOnly)
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.GetCallInput](req, "callId, transcriptMaxChars, transcriptOffset")
		if terr == nil {
			terr = validateCallID(in.CallID)
		}
		var window transcriptWindow
		if terr == nil {
			window, terr = readTranscriptWindow(in.TranscriptMaxChars, in.TranscriptOffset)
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		noteCallID(ctx, in.CallID)
		c, terr := d.clientFor(ctx)
		if terr != nil {
			return fail(ctx, terr), nil
		}
		call, err := c.GetCall(ctx, in.CallID)
		if err != nil {
			return fail(ctx, errorFromAPI(err, false)), nil
		}
		noteStatus(ctx, call.Status)
		var res *mcp.CallToolResult
		if window.set {
			rec := recordMap(call)
			res = structuredResult(rec, renderCallCut(call, window.apply(rec), d.now()))
		} else {
			res = structuredResult(rawRecord(call), renderCall(call, d.now()))
		}
		d.addRecordingLink(ctx, call, res)
		return res, nil
	}
}
