// Package prompts owns the MCP prompts of bys-mcp: ready-made jobs
// (book_appointment, confirm_appointment, request_quote, follow_up_call)
// whose messages lead a model to a well-formed place_call (a clear
// objective, private context, typed fields to extract), then to
// wait_for_call, then to report the extracted values.
package prompts

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/text/currency"
)

// Completer supplies completions that come from the key's recent calls.
type Completer interface {
	CompleteCallID(ctx context.Context, prefix string) (*mcp.Completion, error)
	RecentDestinations(ctx context.Context, prefix string) []string
}

// Currencies are the currencies of the countries the API can call: what
// completion offers. Any ISO 4217 code is accepted.
var Currencies = []string{"USD", "CAD", "GBP", "AUD", "NZD", "ILS"}

// Languages are the language tags completion offers first; any BCP 47 tag
// (or auto) is accepted.
var Languages = []string{"auto", "en-US", "en-GB", "en-AU", "es-MX", "es-US", "fr-CA", "he-IL"}

type field struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
}

type job struct {
	prompt  mcp.Prompt
	compose func(args map[string]string) (objective, context string, fields []field, summary string)
}

func phoneArg() mcp.PromptOption {
	return mcp.WithArgument("phone", mcp.ArgumentDescription("The number to call in E.164 format, e.g. +14155550123."), mcp.RequiredArgument())
}

func languageArg() mcp.PromptOption {
	return mcp.WithArgument("language", mcp.ArgumentDescription("Language the AI caller speaks, as a BCP 47 tag such as es-MX or fr-CA, or auto to follow the person called. Optional: by default the API infers it from the number."))
}

// withOptional is ctx followed by " label: value." when value (an optional
// argument) was given.
func withOptional(ctx, label, value string) string {
	if value != "" {
		ctx += " " + label + ": " + value + "."
	}
	return ctx
}

var jobs = []job{
	{
		prompt: mcp.NewPrompt("book_appointment",
			mcp.WithPromptTitle("Book an appointment or a table"),
			mcp.WithPromptDescription("Phone a business to book a table, an appointment or a service, and report what was confirmed."),
			mcp.WithArgument("business", mcp.ArgumentDescription("Name of the business to call, e.g. Luigi's Trattoria."), mcp.RequiredArgument()),
			phoneArg(),
			mcp.WithArgument("service", mcp.ArgumentDescription("What to book: party size or service, e.g. 'table for 4' or 'haircut'."), mcp.RequiredArgument()),
			mcp.WithArgument("when", mcp.ArgumentDescription("Preferred date and time, e.g. 'Friday 7 PM'."), mcp.RequiredArgument()),
			mcp.WithArgument("name", mcp.ArgumentDescription("Name for the booking."), mcp.RequiredArgument()),
			mcp.WithArgument("constraints", mcp.ArgumentDescription("Flexibility and preferences, e.g. 'window seat; 6-8 PM is fine'. Optional.")),
			languageArg(),
		),
		compose: func(a map[string]string) (string, string, []field, string) {
			objective := fmt.Sprintf("Book %s at %s for %s, under the name %s. Confirm the exact date and time they can offer and the name on the booking.", a["service"], a["business"], a["when"], a["name"])
			ctx := withOptional("The booking is for "+a["name"]+".", "Preferences and flexibility", a["constraints"])
			return objective, ctx, []field{
				{"booked", "boolean", "Did the business confirm the booking?"},
				{"confirmed_time", "string", "The date and time they confirmed"},
				{"booking_name", "string", "Name the booking is under"},
				{"notes", "string", "Anything else they said that matters (deposit, cancellation policy, alternatives offered)"},
			}, "whether it was booked, the confirmed time and the name on the booking"
		},
	},
	{
		prompt: mcp.NewPrompt("confirm_appointment",
			mcp.WithPromptTitle("Confirm an existing appointment"),
			mcp.WithPromptDescription("Phone a business to confirm an appointment that already exists, and report whether it still stands."),
			mcp.WithArgument("business", mcp.ArgumentDescription("Name of the business, e.g. Bright Smile Dental."), mcp.RequiredArgument()),
			phoneArg(),
			mcp.WithArgument("when", mcp.ArgumentDescription("Date and time of the appointment, e.g. 'Tuesday 3 PM'."), mcp.RequiredArgument()),
			mcp.WithArgument("name", mcp.ArgumentDescription("Name the appointment is under."), mcp.RequiredArgument()),
			mcp.WithArgument("details", mcp.ArgumentDescription("What the appointment is for, or a reference number. Optional.")),
			languageArg(),
		),
		compose: func(a map[string]string) (string, string, []field, string) {
			objective := fmt.Sprintf("Confirm that the appointment at %s on %s under the name %s still stands. If it changed, find out the new time.", a["business"], a["when"], a["name"])
			ctx := withOptional("The appointment is under the name "+a["name"]+".", "Details", a["details"])
			return objective, ctx, []field{
				{"confirmed", "boolean", "Is the appointment confirmed as booked?"},
				{"appointment_time", "string", "The date and time they have on record"},
				{"changes", "string", "Any change or instruction they gave"},
			}, "whether the appointment is confirmed and the time on record"
		},
	},
	{
		prompt: mcp.NewPrompt("request_quote",
			mcp.WithPromptTitle("Request a price quote"),
			mcp.WithPromptDescription("Phone a business to ask for a price quote and report the amount and conditions."),
			mcp.WithArgument("business", mcp.ArgumentDescription("Name of the business, e.g. Ace Plumbing."), mcp.RequiredArgument()),
			phoneArg(),
			mcp.WithArgument("item", mcp.ArgumentDescription("What the quote is for, e.g. 'replace a kitchen faucet'."), mcp.RequiredArgument()),
			mcp.WithArgument("details", mcp.ArgumentDescription("Specifics that affect the price (size, address area, timing). Optional.")),
			mcp.WithArgument("currency", mcp.ArgumentDescription("Currency for the amount, as an ISO 4217 code such as "+strings.Join(Currencies, ", ")+", EUR or JPY (default USD).")),
			languageArg(),
		),
		compose: func(a map[string]string) (string, string, []field, string) {
			cur := "USD"
			if u, err := currency.ParseISO(a["currency"]); err == nil {
				cur = u.String()
			}
			objective := fmt.Sprintf("Ask %s for a price quote for: %s. Get the total price in %s, what it includes, and how soon they could do it.", a["business"], a["item"], cur)
			ctx := withOptional("We are collecting quotes and have not committed to anyone.", "Details", a["details"])
			return objective, ctx, []field{
				{"amount", "number", "Quoted total price in " + cur},
				{"includes", "string", "What the price includes"},
				{"availability", "string", "When they could do the work"},
				{"quote_valid", "boolean", "Did they give a firm quote (rather than 'it depends')?"},
			}, "the amount, what it includes and availability"
		},
	},
	{
		prompt: mcp.NewPrompt("follow_up_call",
			mcp.WithPromptTitle("Follow up on an earlier call"),
			mcp.WithPromptDescription("Place a follow-up call about an earlier call: read its record first, then call again with a new goal."),
			mcp.WithArgument("callId", mcp.ArgumentDescription("Id of the earlier call (list_calls shows recent ones)."), mcp.RequiredArgument()),
			mcp.WithArgument("goal", mcp.ArgumentDescription("What this follow-up must achieve, e.g. 'confirm the quote in writing'."), mcp.RequiredArgument()),
			mcp.WithArgument("phone", mcp.ArgumentDescription("Number to call, E.164; by default the earlier call's destination.")),
			languageArg(),
		),
	},
}

// Register adds the prompts to s.
func Register(s *server.MCPServer) {
	for _, j := range jobs {
		j := j
		s.AddPrompt(j.prompt, func(ctx context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return render(j, req.Params.Arguments)
		})
	}
}

// Names lists the prompts.
func Names() []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.prompt.Name
	}
	return out
}

// Check validates a prompts/get request's arguments: every required one
// present, and the phone, currency and language well-formed. Its error
// names the argument and says what to send; the server answers it with
// JSON-RPC -32602 (invalid params) before the prompt is rendered. An
// unknown prompt passes (the library answers it).
func Check(name string, args map[string]string) error {
	for _, j := range jobs {
		if j.prompt.Name == name {
			return check(j, args)
		}
	}
	return nil
}

func check(j job, args map[string]string) error {
	for _, a := range j.prompt.Arguments {
		if a.Required && strings.TrimSpace(args[a.Name]) == "" {
			return fmt.Errorf("argument %q of prompt %s is required: %s", a.Name, j.prompt.Name, a.Description)
		}
	}
	if p := args["phone"]; p != "" && !schema.IsE164(p) {
		return fmt.Errorf("argument \"phone\" must be an E.164 number such as +14155550123 (got %q)", p)
	}
	if c := args["currency"]; c != "" {
		if _, err := currency.ParseISO(c); err != nil {
			return fmt.Errorf("argument \"currency\" must be an ISO 4217 currency code such as USD, EUR or JPY (got %q)", c)
		}
	}
	if l := args["language"]; l != "" && !schema.IsLanguage(l) {
		return fmt.Errorf("argument \"language\" must be a BCP 47 language tag such as es-MX or fr-CA, or auto (got %q)", l)
	}
	return nil
}

func render(j job, args map[string]string) (*mcp.GetPromptResult, error) {
	if err := check(j, args); err != nil {
		return nil, err
	}
	var text string
	if j.prompt.Name == "follow_up_call" {
		text = followUpText(args)
	} else {
		objective, context, fields, summary := j.compose(args)
		callArgs := map[string]any{"to": args["phone"], "objective": objective, "context": context, "fields": fields}
		if l := args["language"]; l != "" {
			callArgs["language"] = l
		}
		body, _ := json.MarshalIndent(callArgs, "", "  ")
		text = fmt.Sprintf("Use the bys-mcp tools to make this phone call for me.\n\n"+
			"1. Check the details below with me if anything is unclear, then call place_call once with exactly these arguments (context stays private: it is never read out to the person called):\n\n%s\n\n"+
			"2. Call wait_for_call with the callId it returns; if it comes back with timedOut: true, call wait_for_call again until the call has ended.\n"+
			"3. Report %s from the record's extracted values and summary. If the status is no_answer, voicemail, declined or failed, say so plainly and ask me before calling again.\n"+
			"Never place the call twice: if place_call reports that a call may or may not have been placed, check list_calls first.",
			string(body), summary)
	}
	return &mcp.GetPromptResult{
		Description: j.prompt.Description,
		Messages:    []mcp.PromptMessage{mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(text))},
	}, nil
}

func followUpText(a map[string]string) string {
	to := "the same number as the earlier call (its to field)"
	if a["phone"] != "" {
		to = a["phone"]
	}
	lang := "language: the earlier call's language if its record has one, else leave it out; "
	if a["language"] != "" {
		lang = fmt.Sprintf("language: %q; ", a["language"])
	}
	return fmt.Sprintf("Use the bys-mcp tools to follow up on call %s.\n\n"+
		"1. Call get_call with callId %q and read its summary, extracted values and transcript.\n"+
		"2. Call place_call once: to %s; objective: a clear goal that achieves \"%s\" and refers to what was agreed in the earlier call; context: the relevant facts from the earlier call (private, never read out); %sfields: the values you need back, each with name and type string, boolean or number (include a boolean field achieved for whether the goal was met).\n"+
		"3. Call wait_for_call with the new callId (again if it times out) and report the extracted values and summary, comparing them with the earlier call.\n"+
		"Never place the call twice: if place_call reports that a call may or may not have been placed, check list_calls first.",
		a["callId"], a["callId"], to, a["goal"], lang)
}

// declares reports whether the prompt named prompt has the argument arg.
func declares(prompt, arg string) bool {
	for _, j := range jobs {
		if j.prompt.Name != prompt {
			continue
		}
		for _, a := range j.prompt.Arguments {
			if a.Name == arg {
				return true
			}
		}
	}
	return false
}

// Completions completes prompt arguments: currency from its fixed set,
// callId and phone from the key's recent calls.
type Completions struct{ Recent Completer }

// CompletePromptArgument implements server.PromptCompletionProvider.
func (c Completions) CompletePromptArgument(ctx context.Context, prompt string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	values := []string{}
	if !declares(prompt, arg.Name) {
		return &mcp.Completion{Values: values}, nil
	}
	switch arg.Name {
	case "currency":
		for _, cur := range Currencies {
			if strings.HasPrefix(cur, strings.ToUpper(arg.Value)) {
				values = append(values, cur)
			}
		}
	case "language":
		for _, l := range Languages {
			if strings.HasPrefix(strings.ToLower(l), strings.ToLower(arg.Value)) {
				values = append(values, l)
			}
		}
	case "callId":
		if c.Recent != nil {
			return c.Recent.CompleteCallID(ctx, arg.Value)
		}
	case "phone":
		if c.Recent != nil {
			values = c.Recent.RecentDestinations(ctx, arg.Value)
		}
	}
	return &mcp.Completion{Values: values, Total: len(values)}, nil
}
