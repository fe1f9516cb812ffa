package tools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/mark3labs/mcp-go/mcp"
)

// recordMap is the call record as the API returned it, every field kept,
// with the reserved outcome fields moved from extracted to outcome.
func recordMap(c *client.Call) map[string]any {
	c = outcome.Present(c)
	m, err := c.Fields()
	if err != nil || m == nil {
		m = map[string]any{"id": c.ID, "status": c.Status}
	}
	return m
}

// rawRecord is the call record as the API sent it (the reserved outcome
// fields moved from extracted to outcome), for results that hand it on.
func rawRecord(c *client.Call) any {
	c = outcome.Present(c)
	if raw := bytes.TrimSpace(c.Raw); len(raw) > 0 && raw[0] == '{' {
		return json.RawMessage(raw)
	}
	return recordMap(c)
}

// renderCall is the short text rendering of a call record for hosts that
// show text only: status, summary, extracted values, then the transcript.
func renderCall(c *client.Call, now time.Time) string { return renderCallCut(c, nil, now) }

// renderCallCut is renderCall with the transcript window that was asked for
// (nil: none). now is the server's time (a callback asked for is judged
// against it).
func renderCallCut(c *client.Call, cut *transcriptCut, now time.Time) string {
	o := outcome.Of(c.Extracted)
	c = outcome.Present(c)
	var b strings.Builder
	fmt.Fprintf(&b, "Call %s: %s", c.ID, c.Status)
	if c.To != "" {
		fmt.Fprintf(&b, " (to %s)", c.To)
	}
	b.WriteByte('\n')
	if c.DurationSec != nil {
		fmt.Fprintf(&b, "Duration: %gs\n", *c.DurationSec)
	}
	if c.Error != nil && *c.Error != "" {
		fmt.Fprintf(&b, "Error: %s\n", *c.Error)
	}
	if c.Summary != nil && *c.Summary != "" {
		fmt.Fprintf(&b, "Summary: %s\n", *c.Summary)
	}
	if len(c.Extracted) > 0 {
		b.WriteString("Extracted:\n")
		keys := make([]string, 0, len(c.Extracted))
		for k := range c.Extracted {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, _ := json.Marshal(c.Extracted[k])
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	if line := outcomeLine(o, c.To, now); line != "" {
		b.WriteString(line + "\n")
	}
	if c.RecordingURL != nil && *c.RecordingURL != "" {
		fmt.Fprintf(&b, "Recording: %s\n", *c.RecordingURL)
	}
	writeTranscript(&b, c, cut)
	return strings.TrimRight(b.String(), "\n")
}

// structuredResult is a successful result: structured content plus its text.
func structuredResult(structured any, text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.NewTextContent(text)},
		StructuredContent: structured,
	}
}

// outcomeLine says what the outcome questions obtained from a call to to,
// for the text rendering ("" when nothing was).
func outcomeLine(o outcome.Outcome, to string, now time.Time) string {
	var parts []string
	if o.Reached != nil {
		parts = append(parts, "reached "+*o.Reached)
	}
	if outcome.AskedNotToBeCalled(o) {
		parts = append(parts, "the person asked not to be called again (the server keeps such numbers on its do-not-call list: do not call them again)")
	}
	if o.CallbackAt != nil {
		parts = append(parts, callbackWords(*o.CallbackAt, to, now))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Outcome: " + strings.Join(parts, "; ")
}
