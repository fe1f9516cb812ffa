// Package demo owns `bys-mcp demo`: a narrated session against the
// embedded sandbox, in one process, with a real MCP client. It shows a
// newcomer the tools, a place_call with fields, wait_for_call with each
// progress step, the outcome, and an error case.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/app"
	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/sandbox"
	"github.com/byourside/bys-mcp/tools"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sirupsen/logrus"
)

// Options tune the demo.
type Options struct {
	// TimeScale speeds the sandbox's calls up (default 4: a call takes ~3 s).
	TimeScale float64
	// Pause between narrated steps (default 400 ms; tests use 0).
	Pause   time.Duration
	NoPause bool
}

// Run narrates the session to out. It returns nil when every step worked.
func Run(ctx context.Context, out io.Writer, o Options) error {
	if o.TimeScale <= 0 {
		o.TimeScale = 4
	}
	if o.Pause == 0 && !o.NoPause {
		o.Pause = 400 * time.Millisecond
	}
	n := &narrator{out: out, pause: o.Pause}

	cfg := config.Defaults()
	cfg.Sandbox = true
	log := logrus.New()
	log.SetOutput(io.Discard)
	// Poll often enough to see every status of the sped-up call.
	poll := tools.PollSchedule{Early: time.Duration(float64(500*time.Millisecond) / o.TimeScale), EarlyFor: time.Minute, Late: time.Second}
	a, err := app.New(cfg, log, app.Options{SandboxOptions: sandbox.Options{TimeScale: o.TimeScale}, Poll: &poll})
	if err != nil {
		return err
	}
	defer a.Close()

	c, err := mcpclient.NewInProcessClient(a.Server.MCP())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		return err
	}
	var progressMu sync.Mutex
	c.OnNotification(func(note mcp.JSONRPCNotification) {
		if note.Method != "notifications/progress" {
			return
		}
		msg, _ := note.Params.AdditionalFields["message"].(string)
		progressMu.Lock()
		n.say("   … progress: %s", msg)
		progressMu.Unlock()
	})
	init := mcp.InitializeRequest{}
	init.Params.ClientInfo = mcp.Implementation{Name: "bys-mcp-demo", Version: "1"}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	res, err := c.Initialize(ctx, init)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}

	n.title("bys-mcp demo: an MCP client talks to bys-mcp, which talks to the built-in By Your Side sandbox (no key, no real calls)")
	n.say("Connected to %s %s using MCP %s.", res.ServerInfo.Name, res.ServerInfo.Version, res.ProtocolVersion)

	n.step("1. The tools it offers")
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return err
	}
	sort.Slice(tools.Tools, func(i, j int) bool { return tools.Tools[i].Name < tools.Tools[j].Name })
	for _, t := range tools.Tools {
		kind := "read-only"
		if t.Annotations.ReadOnlyHint != nil && !*t.Annotations.ReadOnlyHint {
			kind = "places a real call"
		}
		n.say("   • %-14s %s (%s)", t.Name, t.Title, kind)
	}

	n.step("2. place_call: book a table, asking for three fields back")
	args := map[string]any{
		"to":        "+14155550123",
		"objective": "Book a table for 4 at 7 PM Friday. Confirm the time and ask for the name on the booking.",
		"context":   "We have dined here before. We prefer a window seat.",
		"fields": []map[string]any{
			{"name": "booked", "type": "boolean", "description": "Did they confirm the booking?"},
			{"name": "confirmed_time", "type": "string", "description": "The time they confirmed"},
			{"name": "contact_name", "type": "string", "description": "Name given for the reservation"},
		},
	}
	pretty, _ := json.MarshalIndent(args, "   ", "  ")
	n.say("   arguments: %s", pretty)
	placed, err := callTool(ctx, c, "place_call", args, nil)
	if err != nil {
		return err
	}
	callID, _ := placed["callId"].(string)
	if callID == "" {
		return errors.New("place_call returned no callId")
	}
	n.say("   → callId %s, status %v", callID, placed["status"])

	n.step("3. wait_for_call: follow the call, with a progress notification on each status change")
	record, err := callTool(ctx, c, "wait_for_call", map[string]any{"callId": callID, "timeoutSec": 45}, mcp.ProgressToken("demo"))
	if err != nil {
		return err
	}
	progressMu.Lock()
	n.say("   → status %v (timedOut %v)", record["status"], record["timedOut"])
	progressMu.Unlock()
	if record["status"] != "completed" {
		return fmt.Errorf("the call ended %v, want completed", record["status"])
	}

	n.step("4. The outcome")
	n.say("   Summary: %v", record["summary"])
	if ex, ok := record["extracted"].(map[string]any); ok {
		keys := make([]string, 0, len(ex))
		for k := range ex {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n.say("   Extracted fields:")
		for _, k := range keys {
			v, _ := json.Marshal(ex[k])
			n.say("     %-15s %s", k, v)
		}
	}
	if tr, ok := record["transcript"].(string); ok {
		lines := strings.Split(strings.TrimSpace(tr), "\n")
		n.say("   Transcript (first lines):")
		for _, l := range lines[:min(4, len(lines))] {
			n.say("     %s", l)
		}
	}

	n.step("5. An error an agent can act on: a destination the API does not allow")
	_, err = callTool(ctx, c, "place_call", map[string]any{"to": "+33142685300", "objective": "Reserve a table in Paris"}, nil)
	var te *toolErr
	if !errors.As(err, &te) || te.token != "destination_blocked" {
		return fmt.Errorf("expected a destination_blocked tool error, got %v", err)
	}
	n.say("   → isError result, token %s:\n     %s", te.token, te.text)

	n.title("Done. Add bys-mcp to your host (see README.md), with --sandbox to try it safely, or BYS_API_KEY for real calls.")
	return nil
}

type toolErr struct{ token, text string }

func (e *toolErr) Error() string { return e.token + ": " + e.text }

func callTool(ctx context.Context, c *mcpclient.Client, name string, args map[string]any, token mcp.ProgressToken) (map[string]any, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if token != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: token}
	}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sc := map[string]any{}
	raw, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(raw, &sc)
	if res.IsError {
		text := ""
		if len(res.Content) > 0 {
			if t, ok := res.Content[0].(mcp.TextContent); ok {
				text = t.Text
			}
		}
		tok, _ := sc["error"].(string)
		return sc, &toolErr{token: tok, text: text}
	}
	return sc, nil
}

type narrator struct {
	out   io.Writer
	pause time.Duration
}

func (n *narrator) title(s string) { fmt.Fprintf(n.out, "\n== %s\n", s) }
func (n *narrator) step(s string) {
	time.Sleep(n.pause)
	fmt.Fprintf(n.out, "\n%s\n", s)
}
func (n *narrator) say(format string, a ...any) { fmt.Fprintf(n.out, format+"\n", a...) }
