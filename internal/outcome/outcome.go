// Package outcome owns the reserved outcome fields: the three questions the
// server adds to every call it places (did the person ask not to be called
// again, did they ask to be called back and when, who answered), how they
// are asked of the API's extractor, and how a call record is shown with
// them taken out of extracted and put into outcome.
package outcome

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/numbering"
	"github.com/byourside/bys-mcp/schema"
)

// Prefix starts every reserved field name; agents may not use it.
const Prefix = "bys_"

// Names of the reserved fields, in the order they are asked.
const (
	DoNotCall  = "bys_do_not_call"
	CallbackAt = "bys_callback_at"
	Reached    = "bys_reached"
)

// MaxFields is the API's limit on fields per call.
const MaxFields = 20

// Reached values.
var ReachedValues = []string{"person", "voicemail", "phone_menu", "wrong_number", "nobody"}

// fields are the reserved questions, written for an extractor that reads
// the transcript: each says what to answer and what to answer when the
// conversation does not say.
var fields = []client.Field{
	{Name: DoNotCall, Type: "boolean", Description: "True if the person who answered asked not to be called again, asked to be removed or taken off a calling list, or said to stop calling; false otherwise."},
	{Name: CallbackAt, Type: "string", Description: "If the person asked to be called back at a particular time, that local date and time as YYYY-MM-DDTHH:MM (24-hour clock, the person's own time zone); an empty string if they did not ask for a callback."},
	{Name: Reached, Type: "string", Description: "Who or what answered the call, exactly one of: person (a human spoke), voicemail (an answering machine or voicemail greeting), phone_menu (an automated menu or IVR only), wrong_number (a human said this is the wrong number or the wrong person), nobody (no answer or silence)."},
}

// Fields returns the fields to send for a call whose agent asked for
// agent: the agent's fields, then as many reserved ones as fit within the
// API's 20. With on false it returns agent unchanged.
func Fields(agent []client.Field, on bool) []client.Field {
	room := MaxFields - len(agent)
	if !on || room <= 0 {
		return agent
	}
	out := make([]client.Field, 0, len(agent)+min(room, len(fields)))
	out = append(out, agent...)
	return append(out, fields[:min(room, len(fields))]...)
}

// IsReserved reports whether an agent's field name is reserved.
func IsReserved(name string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(name)), Prefix)
}

// Outcome is what the reserved fields obtained; each is nil when the call
// did not obtain it.
type Outcome = schema.CallOutcome

// CallbackLayout is the form of callbackAt: a local date and time.
const CallbackLayout = "2006-01-02T15:04"

// Of reads the outcome from a record's extracted values. Values of the
// wrong type or form (an extractor's guess) count as not obtained.
func Of(extracted map[string]any) Outcome {
	var o Outcome
	if v, ok := extracted[DoNotCall].(bool); ok {
		o.DoNotCall = &v
	}
	if v, ok := extracted[CallbackAt].(string); ok {
		v = strings.TrimSpace(v)
		if _, err := time.Parse(CallbackLayout, v); err == nil {
			o.CallbackAt = &v
		}
	}
	if v, ok := extracted[Reached].(string); ok {
		v = strings.ToLower(strings.TrimSpace(v))
		for _, r := range ReachedValues {
			if v == r {
				o.Reached = &v
			}
		}
	}
	return o
}

// CallbackTime is the instant a callbackAt (a local date and time,
// CallbackLayout) names for the person at the number to: read in the
// number's time zone, the first when its area spans several. ok is false
// when callbackAt is malformed or the number's zone is not known. A local
// time that a daylight-saving change skips or repeats is read as Go's
// time.Date reads it.
func CallbackTime(callbackAt, to string) (at time.Time, loc *time.Location, ok bool) {
	zones := numbering.TimeZones(strings.TrimPrefix(to, "+"))
	if len(zones) == 0 {
		return time.Time{}, nil, false
	}
	loc, err := callhours.LoadZone(zones[0])
	if err != nil {
		return time.Time{}, nil, false
	}
	at, err = time.ParseInLocation(CallbackLayout, strings.TrimSpace(callbackAt), loc)
	if err != nil {
		return time.Time{}, nil, false
	}
	return at, loc, true
}

// AskedNotToBeCalled reports whether o is a do-not-call request.
func AskedNotToBeCalled(o Outcome) bool { return o.DoNotCall != nil && *o.DoNotCall }

// Agent returns extracted without the reserved fields (nil stays nil).
func Agent(extracted map[string]any) map[string]any {
	if extracted == nil {
		return nil
	}
	out := make(map[string]any, len(extracted))
	for k, v := range extracted {
		if !IsReserved(k) {
			out[k] = v
		}
	}
	return out
}

// Present returns the call as results show it: extracted without the
// reserved fields, and outcome added to the record (every other field as
// the API sent it). c is not changed.
func Present(c *client.Call) *client.Call {
	if c == nil {
		return nil
	}
	out := *c
	o := Of(c.Extracted)
	out.Extracted = Agent(c.Extracted)
	raw := bytes.TrimSpace(c.Raw)
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil || m == nil {
		return &out // no record as sent: Fields builds it from the typed call
	}
	// The agent's values stay as the API sent them (numbers, escapes).
	var ex map[string]json.RawMessage
	if v, ok := m["extracted"]; ok && json.Unmarshal(v, &ex) == nil && ex != nil {
		for k := range ex {
			if IsReserved(k) {
				delete(ex, k)
			}
		}
		if b, err := marshal(ex); err == nil {
			m["extracted"] = b
		}
	}
	if b, err := marshal(o); err == nil {
		m["outcome"] = b
	}
	if b, err := marshal(m); err == nil {
		out.Raw = b
	}
	return &out
}

// marshal encodes v without escaping HTML characters, as the API sent
// them.
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
