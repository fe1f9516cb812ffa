package tools

import (
	"context"
	"fmt"

	"github.com/byourside/bys-mcp/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// RecordingLinks makes the links a person can open to listen to an ended
// call's recording (--public-url). Nil when the server has no public URL.
type RecordingLinks interface {
	// Link returns a fresh link to the recording of call, placed with
	// apiKey; "" when the call has not ended or has no recording.
	Link(ctx context.Context, apiKey string, call *client.Call) (string, error)
}

// addRecordingLink adds recordingLink to the result of an ended call with a
// recording, when the server makes links: to the structured record, and a
// line saying what it is to the text. A link that cannot be made (the
// state store is down) leaves the result as it is.
func (d *Deps) addRecordingLink(ctx context.Context, call *client.Call, res *mcp.CallToolResult) {
	if d.RecordingLinks == nil || res == nil || res.IsError {
		return
	}
	link, err := d.RecordingLinks.Link(ctx, d.apiKey(ctx), call)
	if err != nil {
		d.Log.WithError(err).WithField("callId", call.ID).Warn("could not make a recording link; the result goes without one")
		return
	}
	if link == "" {
		return
	}
	rec, ok := res.StructuredContent.(map[string]any)
	if !ok {
		// The record as the API sent it (get_call): the same fields as a map.
		rec = recordMap(call)
		res.StructuredContent = rec
	}
	rec["recordingLink"] = link
	line := fmt.Sprintf("\nRecording: a person can listen at %s for the next hour, without a key (the audio is also the resource bys://calls/%s/recording).", link, call.ID)
	for i, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			tc.Text += line
			res.Content[i] = tc
			return
		}
	}
}
