// Package demo owns `bys-mcp demo`: a narrated session against the
// embedded sandbox, in one process, with a real MCP client. It shows a
// newcomer the tools, a place_call with fields, wait_for_call with each
// progress step, the outcome, an error case, a three-call campaign ending
// in its results table, a call scheduled a few seconds ahead (notBefore)
// and the campaign's unanswered call dialled again (retry_campaign).
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

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/sandbox"
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
	// Calling hours are on, with a window chosen for the demo so that it
	// works at any hour: open now in Los Angeles (where the demo's calls
	// ring), so closed in Sydney, 17 to 19 hours ahead.
	cfg.CallingHours = demoWindow(clock.Real.Now())
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
			kind = "places real calls"
			if t.Annotations.IdempotentHint != nil && *t.Annotations.IdempotentHint {
				kind = "changes what is dialled"
			}
		}
		n.say("   • %-17s %s (%s)", t.Name, t.Title, kind)
	}

	var te *toolErr
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
	if dest, ok := placed["destination"].(map[string]any); ok {
		n.say("   → rings in %v (%v), local time there %v", dest["region"], dest["timeZone"], dest["localTime"])
	}

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

	n.step("5. A number in national form is not dialled: the server suggests its E.164 form")
	_, err = callTool(ctx, c, "place_call", map[string]any{"to": "(415) 555-0123", "objective": "Ask for the opening hours"}, nil)
	if !errors.As(err, &te) || te.token != "invalid_number" {
		return fmt.Errorf("expected an invalid_number tool error, got %v", err)
	}
	n.say("   → isError result, token %s, nothing sent to the API:\n     %s", te.token, te.text)

	n.step(fmt.Sprintf("6. Calling hours (%s at the destination, a window chosen for the demo): a call to Sydney now is outside it", cfg.CallingHours))
	sc, err := callTool(ctx, c, "place_call", map[string]any{"to": "+61291234567", "objective": "Ask for the opening hours"}, nil)
	if !errors.As(err, &te) || te.token != "outside_calling_hours" {
		return fmt.Errorf("expected an outside_calling_hours tool error, got %v", err)
	}
	n.say("   → isError result, token %s (timeZone %v, opensAt %v):\n     %s", te.token, sc["timeZone"], sc["opensAt"], te.text)

	n.step("7. An error from the API an agent can act on: a premium-rate destination it does not allow")
	_, err = callTool(ctx, c, "place_call", map[string]any{"to": "+19005550123", "objective": "Enter the prize draw"}, nil)
	if !errors.As(err, &te) || te.token != "destination_blocked" {
		return fmt.Errorf("expected a destination_blocked tool error, got %v", err)
	}
	n.say("   → isError result, token %s:\n     %s", te.token, te.text)

	n.step("8. place_calls: a campaign of three calls, at most two at once, for one results table")
	campaignArgs := map[string]any{
		"name":        "Water heater quotes",
		"objective":   "Ask for a quote to replace a 50-gallon gas water heater this week.",
		"fields":      []map[string]any{{"name": "price", "type": "number", "description": "Quoted price in USD"}, {"name": "available", "type": "boolean", "description": "Can they do it this week?"}},
		"concurrency": 2,
		"calls": []map[string]any{
			{"to": "+14155550123", "label": "Ace Plumbing"},
			{"to": "+14155550001", "label": "Bay Pipes"},
			{"to": "+14155550005", "label": "City Drains"},
		},
	}
	pretty, _ = json.MarshalIndent(campaignArgs, "   ", "  ")
	n.say("   arguments: %s", pretty)
	started, err := callTool(ctx, c, "place_calls", campaignArgs, nil)
	if err != nil {
		return err
	}
	campaignID, _ := started["campaignId"].(string)
	if campaignID == "" {
		return errors.New("place_calls returned no campaignId")
	}
	n.say("   → campaignId %s, status %v, %v calls", campaignID, started["status"], started["total"])
	n.say("   wait_for_campaign follows it (progress = calls ended of calls):")
	done, text, err := callToolText(ctx, c, "wait_for_campaign", map[string]any{"campaignId": campaignID, "timeoutSec": 60}, mcp.ProgressToken("demo-campaign"))
	if err != nil {
		return err
	}
	if done["status"] != "completed" {
		return fmt.Errorf("the campaign ended %v, want completed", done["status"])
	}
	progressMu.Lock()
	n.say("   → the results, as the agent reads them back:")
	for _, l := range strings.Split(text, "\n") {
		n.say("     %s", l)
	}
	progressMu.Unlock()

	n.step("9. place_call with notBefore: a call for later, kept as a campaign of one and dialled at its time")
	notBefore := a.Clock.Now().Add(3 * time.Second).Format(time.RFC3339)
	laterArgs := map[string]any{"to": "+14155550124", "objective": "Confirm the booking for Friday at 7 PM.", "notBefore": notBefore}
	pretty, _ = json.MarshalIndent(laterArgs, "   ", "  ")
	n.say("   arguments: %s", pretty)
	later, laterText, err := callToolText(ctx, c, "place_call", laterArgs, nil)
	if err != nil {
		return err
	}
	laterID, _ := later["campaignId"].(string)
	if later["scheduled"] != true || laterID == "" {
		return fmt.Errorf("place_call with notBefore returned %v, want scheduled with a campaignId", later)
	}
	n.say("   → scheduled %v, campaignId %s, notBefore %v; nothing dialled yet:\n     %s", later["scheduled"], laterID, later["notBefore"], laterText)
	n.say("   wait_for_campaign follows it until it is dialled and ends:")
	laterDone, laterTable, err := callToolText(ctx, c, "wait_for_campaign", map[string]any{"campaignId": laterID, "timeoutSec": 60}, mcp.ProgressToken("demo-later"))
	if err != nil {
		return err
	}
	if laterDone["status"] != "completed" {
		return fmt.Errorf("the later call's campaign ended %v, want completed", laterDone["status"])
	}
	progressMu.Lock()
	for _, l := range strings.Split(laterTable, "\n") {
		n.say("     %s", l)
	}
	progressMu.Unlock()

	n.step("10. retry_campaign: dial again the campaign's call that was not answered (Bay Pipes)")
	retried, retryText, err := callToolText(ctx, c, "retry_campaign", map[string]any{"campaignId": campaignID, "statuses": []string{"no_answer"}}, nil)
	if err != nil {
		return err
	}
	n.say("   → %s", firstLine(retryText))
	if retried["status"] != "running" {
		return fmt.Errorf("retry_campaign left the campaign %v, want running", retried["status"])
	}
	again, againText, err := callToolText(ctx, c, "wait_for_campaign", map[string]any{"campaignId": campaignID, "timeoutSec": 60}, nil)
	if err != nil {
		return err
	}
	if again["status"] != "completed" {
		return fmt.Errorf("the retried campaign ended %v, want completed", again["status"])
	}
	for _, it := range asItems(again) {
		if it["to"] == "+14155550001" && it["attempts"] != float64(2) {
			return fmt.Errorf("Bay Pipes was dialled %v times, want 2", it["attempts"])
		}
	}
	n.say("   → the results after the redial (Bay Pipes dialled twice; this sandbox number never answers):")
	for _, l := range strings.Split(againText, "\n") {
		n.say("     %s", l)
	}

	n.title("Done. Add bys-mcp to your host (see README.md), with --sandbox to try it safely, or BYS_API_KEY for real calls.")
	return nil
}

// demoWindow is a three-hour calling window around now in Los Angeles,
// starting an hour ago (it may cross midnight).
func demoWindow(now time.Time) string {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		return "off"
	}
	start := now.In(la).Add(-time.Hour)
	end := start.Add(3 * time.Hour)
	return fmt.Sprintf("%02d:%02d-%02d:%02d", start.Hour(), start.Minute(), end.Hour(), end.Minute())
}

// firstLine is s up to its first line break.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// asItems is a campaign's items as maps.
func asItems(campaign map[string]any) []map[string]any {
	raw, _ := campaign["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

type toolErr struct{ token, text string }

func (e *toolErr) Error() string { return e.token + ": " + e.text }

func callTool(ctx context.Context, c *mcpclient.Client, name string, args map[string]any, token mcp.ProgressToken) (map[string]any, error) {
	sc, _, err := callToolText(ctx, c, name, args, token)
	return sc, err
}

// callToolText is callTool that also returns the result's text.
func callToolText(ctx context.Context, c *mcpclient.Client, name string, args map[string]any, token mcp.ProgressToken) (map[string]any, string, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	if token != nil {
		req.Params.Meta = &mcp.Meta{ProgressToken: token}
	}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", name, err)
	}
	sc := map[string]any{}
	raw, _ := json.Marshal(res.StructuredContent)
	_ = json.Unmarshal(raw, &sc)
	text := ""
	if len(res.Content) > 0 {
		if t, ok := res.Content[0].(mcp.TextContent); ok {
			text = t.Text
		}
	}
	if res.IsError {
		tok, _ := sc["error"].(string)
		return sc, text, &toolErr{token: tok, text: text}
	}
	return sc, text, nil
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
