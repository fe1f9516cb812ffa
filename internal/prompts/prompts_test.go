package prompts_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/prompts"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

func newApp(t *testing.T, adjust func(*config.Config)) *app.App {
	t.Helper()
	return testkit.SandboxApp(t, adjust, testkit.QuietLogger(), app.Options{SandboxOptions: sandbox.Options{TimeScale: 20}, Poll: testkit.FastPoll()})
}

func connect(t *testing.T, a *app.App, opts []mcpclient.ClientOption) *mcpclient.Client {
	t.Helper()
	return testkit.InProcessClient(t, a, "prompts-test", "", opts...)
}

func getPrompt(c *mcpclient.Client, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	req := mcp.GetPromptRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return c.GetPrompt(context.Background(), req)
}

func promptText(t *testing.T, res *mcp.GetPromptResult) string {
	t.Helper()
	if len(res.Messages) != 1 || res.Messages[0].Role != mcp.RoleUser {
		t.Fatalf("messages = %+v, want one user message", res.Messages)
	}
	tc, ok := mcp.AsTextContent(res.Messages[0].Content)
	if !ok {
		t.Fatalf("message content is not text: %#v", res.Messages[0].Content)
	}
	return tc.Text
}

// callArgs extracts the place_call arguments JSON from a prompt's text.
func callArgs(t *testing.T, text string) map[string]any {
	t.Helper()
	start := strings.Index(text, "{")
	end := strings.Index(text, "\n}")
	if start < 0 || end < start {
		t.Fatalf("no arguments JSON in %q", text)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text[start:end+2]), &m); err != nil {
		t.Fatalf("arguments JSON: %v: %s", err, text[start:end+2])
	}
	return m
}

var jobs = map[string]map[string]string{
	"book_appointment":    {"business": "Luigi's Trattoria", "phone": "+14155550123", "service": "table for 4", "when": "Friday 7 PM", "name": "Ada Lovelace", "constraints": "window seat"},
	"confirm_appointment": {"business": "Bright Smile Dental", "phone": "+14155550123", "when": "Tuesday 3 PM", "name": "Ada Lovelace", "details": "cleaning"},
	"request_quote":       {"business": "Ace Plumbing", "phone": "+14155550123", "item": "replace a kitchen faucet", "details": "two-storey house", "currency": "GBP"},
}

func TestPromptsListHasTheFourPromptsWithDescribedArguments(t *testing.T) {
	a := newApp(t, nil)
	required := map[string][]string{
		"book_appointment":    {"business", "phone", "service", "when", "name"},
		"confirm_appointment": {"business", "phone", "when", "name"},
		"request_quote":       {"business", "phone", "item"},
		"follow_up_call":      {"callId", "goal"},
	}
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			c := connect(t, a, era.Opts)
			res, err := c.ListPrompts(context.Background(), mcp.ListPromptsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range res.Prompts {
				names = append(names, p.Name)
				if p.Description == "" {
					t.Errorf("%s has no description", p.Name)
				}
				var req []string
				for _, arg := range p.Arguments {
					if arg.Description == "" {
						t.Errorf("%s.%s has no description", p.Name, arg.Name)
					}
					if arg.Required {
						req = append(req, arg.Name)
					}
				}
				slices.Sort(req)
				want := slices.Clone(required[p.Name])
				slices.Sort(want)
				if !slices.Equal(req, want) {
					t.Errorf("%s required arguments = %v, want %v", p.Name, req, want)
				}
			}
			slices.Sort(names)
			want := slices.Clone(prompts.Names())
			slices.Sort(want)
			if !slices.Equal(names, want) || len(names) != 4 {
				t.Errorf("prompts = %v, want %v", names, want)
			}
		})
	}
}

func TestPromptsLeadToAWellFormedPlaceCallThenWaitForCall(t *testing.T) {
	a := newApp(t, nil)
	for _, era := range testkit.Eras {
		for name, args := range jobs {
			t.Run(era.Name+"/"+name, func(t *testing.T) {
				c := connect(t, a, era.Opts)
				res, err := getPrompt(c, name, args)
				if err != nil {
					t.Fatal(err)
				}
				text := promptText(t, res)
				iPlace, iWait := strings.Index(text, "place_call"), strings.Index(text, "wait_for_call")
				if iPlace < 0 || iWait < 0 || iWait < iPlace {
					t.Errorf("the text should lead to place_call, then wait_for_call: %q", text)
				}
				call := callArgs(t, text)
				if call["to"] != args["phone"] {
					t.Errorf("to = %v, want %s", call["to"], args["phone"])
				}
				if obj, _ := call["objective"].(string); !strings.Contains(obj, args["business"]) {
					t.Errorf("objective does not name the business: %q", obj)
				}
				if ctx, _ := call["context"].(string); ctx == "" {
					t.Errorf("no context")
				}
				fields, _ := call["fields"].([]any)
				if len(fields) == 0 {
					t.Fatalf("no fields to extract: %v", call)
				}
				for _, f := range fields {
					m, _ := f.(map[string]any)
					if m["name"] == "" || !slices.Contains([]any{"string", "boolean", "number"}, m["type"]) {
						t.Errorf("field %v lacks a name or a valid type", m)
					}
				}
				if name == "request_quote" && !strings.Contains(call["objective"].(string), "GBP") {
					t.Errorf("the quote objective does not use the currency: %v", call["objective"])
				}
				// The arguments are accepted by place_call as they are.
				req := mcp.CallToolRequest{}
				req.Params.Name = "place_call"
				req.Params.Arguments = call
				out, err := c.CallTool(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				if out.IsError {
					t.Errorf("place_call refused the prompt's arguments: %+v", out.Content)
				}
			})
		}
	}
}

func TestFollowUpPromptReadsTheEarlierCallFirst(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a, nil)
	res, err := getPrompt(c, "follow_up_call", map[string]string{"callId": "call_123", "goal": "confirm the quote in writing"})
	if err != nil {
		t.Fatal(err)
	}
	text := promptText(t, res)
	iGet, iPlace, iWait := strings.Index(text, "get_call"), strings.Index(text, "place_call"), strings.Index(text, "wait_for_call")
	if iGet < 0 || iPlace < iGet || iWait < iPlace {
		t.Errorf("want get_call, then place_call, then wait_for_call: %q", text)
	}
	for _, want := range []string{"call_123", "confirm the quote in writing", "the same number"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q: %q", want, text)
		}
	}
	res, err = getPrompt(c, "follow_up_call", map[string]string{"callId": "call_123", "goal": "x", "phone": "+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(promptText(t, res), "+14155550199") {
		t.Errorf("the given phone is not used")
	}
}

func TestPromptArgumentsAreChecked(t *testing.T) {
	a := newApp(t, nil)
	for _, era := range testkit.Eras {
		c := connect(t, a, era.Opts)
		for name, args := range jobs {
			for _, missing := range []string{"business", "phone"} {
				partial := map[string]string{}
				for k, v := range args {
					if k != missing {
						partial[k] = v
					}
				}
				if _, err := getPrompt(c, name, partial); err == nil || !strings.Contains(err.Error(), missing) {
					t.Errorf("%s %s without %s: error %v, want one naming it", era.Name, name, missing, err)
				}
			}
			bad := map[string]string{}
			for k, v := range args {
				bad[k] = v
			}
			bad["phone"] = "415 555 0123"
			if _, err := getPrompt(c, name, bad); err == nil || !strings.Contains(err.Error(), "phone") {
				t.Errorf("%s %s with a bad phone: error %v", era.Name, name, err)
			}
		}
		quote := map[string]string{}
		for k, v := range jobs["request_quote"] {
			quote[k] = v
		}
		for _, cur := range []string{"EUR", "JPY", "chf"} {
			quote["currency"] = cur
			res, err := getPrompt(c, "request_quote", quote)
			if err != nil {
				t.Errorf("request_quote in %s: %v", cur, err)
				continue
			}
			if text := promptText(t, res); !strings.Contains(text, strings.ToUpper(cur)) {
				t.Errorf("request_quote in %s does not use it: %s", cur, text)
			}
		}
		for _, cur := range []string{"EURO", "ZZZ", "dollars"} {
			quote["currency"] = cur
			if _, err := getPrompt(c, "request_quote", quote); err == nil || !strings.Contains(err.Error(), `"currency"`) {
				t.Errorf("request_quote in %q: error %v, want one naming currency", cur, err)
			}
		}
		if _, err := getPrompt(c, "follow_up_call", map[string]string{"goal": "x"}); err == nil {
			t.Errorf("follow_up_call without callId succeeded")
		}
		if _, err := getPrompt(c, "no_such_prompt", nil); err == nil {
			t.Errorf("an unknown prompt succeeded")
		}
	}
}

func complete(t *testing.T, c *mcpclient.Client, prompt, arg, value string) []string {
	t.Helper()
	req := mcp.CompleteRequest{}
	req.Params.Ref = mcp.PromptReference{Type: "ref/prompt", Name: prompt}
	req.Params.Argument.Name = arg
	req.Params.Argument.Value = value
	res, err := c.Complete(context.Background(), req)
	if err != nil {
		t.Fatalf("complete %s.%s=%q: %v", prompt, arg, value, err)
	}
	return res.Completion.Values
}

func TestPromptArgumentCompletion(t *testing.T) {
	a := newApp(t, nil)
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			c := connect(t, a, era.Opts)
			if got := complete(t, c, "request_quote", "currency", ""); !slices.Equal(got, prompts.Currencies) {
				t.Errorf("currency completions = %v, want %v", got, prompts.Currencies)
			}
			if got := complete(t, c, "request_quote", "currency", "g"); !slices.Equal(got, []string{"GBP"}) {
				t.Errorf("currency completions of g = %v, want [GBP]", got)
			}
			if got := complete(t, c, "request_quote", "currency", "EU"); len(got) != 0 {
				t.Errorf("currency completions of EU = %v, want none", got)
			}
			req := mcp.CallToolRequest{}
			req.Params.Name = "place_call"
			req.Params.Arguments = map[string]any{"to": "+14155550177", "objective": "Completion test " + era.Name + "."}
			out, err := c.CallTool(context.Background(), req)
			if err != nil || out.IsError {
				t.Fatalf("place_call: %v %+v", err, out)
			}
			raw, _ := json.Marshal(out.StructuredContent)
			var placed struct{ CallID string }
			_ = json.Unmarshal(raw, &placed)
			if got := complete(t, c, "follow_up_call", "callId", placed.CallID[:6]); !slices.Contains(got, placed.CallID) {
				t.Errorf("callId completions = %v, want %s", got, placed.CallID)
			}
			if got := complete(t, c, "follow_up_call", "phone", "+1415555017"); !slices.Contains(got, "+14155550177") {
				t.Errorf("phone completions = %v, want the recent destination", got)
			}
			if got := complete(t, c, "book_appointment", "business", "Lu"); len(got) != 0 {
				t.Errorf("business completions = %v, want none (no fixed set)", got)
			}
		})
	}
}

func TestReadOnlyWithdrawsPlaceCallAndEveryPrompt(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.ReadOnly = true })
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			c := connect(t, a, era.Opts)
			if caps := c.GetServerCapabilities(); caps.Prompts != nil {
				t.Errorf("a read-only server declares prompts: %+v", caps.Prompts)
			}
			if res, err := c.ListPrompts(context.Background(), mcp.ListPromptsRequest{}); err == nil && len(res.Prompts) != 0 {
				t.Errorf("a read-only server lists prompts: %+v", res.Prompts)
			}
			for name, args := range jobs {
				if _, err := getPrompt(c, name, args); err == nil {
					t.Errorf("a read-only server serves %s", name)
				}
			}
			lt, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tool := range lt.Tools {
				if tool.Name == "place_call" {
					t.Errorf("a read-only server offers place_call")
				}
			}
			if len(lt.Tools) != 4 {
				t.Errorf("read-only tools = %d, want get_call, list_calls, wait_for_call, list_campaigns", len(lt.Tools))
			}
		})
	}
}

// Over Streamable HTTP with the official Go SDK client: list and get a
// prompt, complete an argument.
func TestPromptsOverStreamableHTTPWithTheOfficialSDK(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.Transport = "http" })
	ctx, s := testkit.SDKSession(t, a, "prompts-sdk-test", 20*time.Second)
	lp, err := s.ListPrompts(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lp.Prompts) != 4 {
		t.Errorf("prompts/list has %d prompts, want 4", len(lp.Prompts))
	}
	gp, err := s.GetPrompt(ctx, &sdk.GetPromptParams{Name: "book_appointment", Arguments: jobs["book_appointment"]})
	if err != nil {
		t.Fatal(err)
	}
	if len(gp.Messages) != 1 {
		t.Fatalf("messages = %+v", gp.Messages)
	}
	tc, ok := gp.Messages[0].Content.(*sdk.TextContent)
	if !ok || !strings.Contains(tc.Text, "place_call") || !strings.Contains(tc.Text, `"fields"`) || !strings.Contains(tc.Text, "wait_for_call") {
		t.Errorf("prompt message = %#v", gp.Messages[0].Content)
	}
	if _, err := s.GetPrompt(ctx, &sdk.GetPromptParams{Name: "book_appointment", Arguments: map[string]string{"business": "x"}}); err == nil {
		t.Errorf("prompts/get without the required arguments succeeded")
	}
	comp, err := s.Complete(ctx, &sdk.CompleteParams{
		Ref:      &sdk.CompleteReference{Type: "ref/prompt", Name: "request_quote"},
		Argument: sdk.CompleteParamsArgument{Name: "currency", Value: "N"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(comp.Completion.Values, []string{"NZD"}) {
		t.Errorf("currency completion of N = %v, want [NZD]", comp.Completion.Values)
	}
}

// Completion answers only the arguments a prompt declares.
func TestCompletionOnlyForDeclaredArguments(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a, nil)
	if got := complete(t, c, "book_appointment", "currency", ""); len(got) != 0 {
		t.Errorf("book_appointment has no currency argument, but completion offers %v", got)
	}
	if got := complete(t, c, "book_appointment", "callId", ""); len(got) != 0 {
		t.Errorf("book_appointment has no callId argument, but completion offers %v", got)
	}
}

// A currency accepted in lower case is written in its canonical form.
func TestRequestQuoteNormalisesTheCurrency(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a, nil)
	args := map[string]string{}
	for k, v := range jobs["request_quote"] {
		args[k] = v
	}
	args["currency"] = "gbp"
	res, err := getPrompt(c, "request_quote", args)
	if err != nil {
		t.Fatal(err)
	}
	text := promptText(t, res)
	if strings.Contains(text, "gbp") || !strings.Contains(text, "GBP") {
		t.Errorf("the currency is not written as GBP: %q", text)
	}
}

// Every prompt offers a language; a given one reaches place_call's
// arguments unchanged, a malformed one is refused naming the argument.
func TestPromptsPassALanguageOnToPlaceCall(t *testing.T) {
	a := newApp(t, nil)
	c := connect(t, a, nil)
	for name, base := range jobs {
		args := map[string]string{}
		for k, v := range base {
			args[k] = v
		}
		res, err := getPrompt(c, name, args)
		if err != nil {
			t.Fatal(err)
		}
		if call := callArgs(t, promptText(t, res)); call["language"] != nil {
			t.Errorf("%s without a language sets language %v", name, call["language"])
		}
		args["language"] = "es-MX"
		if res, err = getPrompt(c, name, args); err != nil {
			t.Fatal(err)
		}
		if call := callArgs(t, promptText(t, res)); call["language"] != "es-MX" {
			t.Errorf("%s with language es-MX: place_call arguments %v", name, call)
		}
		args["language"] = "spanish please"
		if _, err := getPrompt(c, name, args); err == nil || !strings.Contains(err.Error(), `"language"`) {
			t.Errorf("%s with language %q: error %v, want one naming language", name, args["language"], err)
		}
	}
	res, err := getPrompt(c, "follow_up_call", map[string]string{"callId": "abc", "goal": "confirm", "language": "fr-CA"})
	if err != nil {
		t.Fatal(err)
	}
	if text := promptText(t, res); !strings.Contains(text, `"fr-CA"`) {
		t.Errorf("follow_up_call does not pass the language on: %s", text)
	}
	if got := complete(t, c, "request_quote", "language", "es"); !slices.Equal(got, []string{"es-MX", "es-US"}) {
		t.Errorf("language completions of es = %v", got)
	}
}
