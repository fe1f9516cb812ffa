package schema

import (
	"encoding/json"
	"fmt"

	"github.com/invopop/jsonschema"
)

// Limits are the operator-set bounds that appear in the schemas.
type Limits struct {
	MaxWaitSec       int // wait_for_call and wait_for_campaign timeoutSec maximum
	MaxListLimit     int // list_calls limit maximum
	MaxCampaignCalls int // place_calls calls maximum
}

// Tool holds one tool's generated input and output schemas as JSON.
type Tool struct {
	Input  json.RawMessage
	Output json.RawMessage
}

// Set is the schemas of every tool, generated once.
type Set struct {
	PlaceCall       Tool
	GetCall         Tool
	ListCalls       Tool
	WaitForCall     Tool
	PlaceCalls      Tool
	WaitForCampaign Tool
	CancelCampaign  Tool
	ListCampaigns   Tool
	PauseCampaign   Tool
	ResumeCampaign  Tool
	RetryCampaign   Tool
}

// DefaultLimits are the limits of a server started without --max-wait or
// --max-list-limit.
var DefaultLimits = Limits{MaxWaitSec: 300, MaxListLimit: MaxListLimit, MaxCampaignCalls: DefaultMaxCampaignCalls}

func (l Limits) normalized() Limits {
	if l.MaxWaitSec < 1 {
		l.MaxWaitSec = DefaultLimits.MaxWaitSec
	}
	if l.MaxListLimit < 1 || l.MaxListLimit > MaxListLimit {
		l.MaxListLimit = MaxListLimit
	}
	if l.MaxCampaignCalls < 1 {
		l.MaxCampaignCalls = DefaultMaxCampaignCalls
	}
	return l
}

// Generate builds every tool's schemas by reflecting the Go types. Start-up
// uses Load, which serves the same schemas from a generated copy; a test
// keeps the two equal (`go generate ./schema` refreshes the copy).
func Generate(l Limits) (*Set, error) {
	l = l.normalized()
	var set Set
	var err error
	build := func(in, out any, patch func(in map[string]any)) Tool {
		if err != nil {
			return Tool{}
		}
		var t Tool
		inMap := reflectMap(in, false)
		if patch != nil {
			patch(inMap)
		}
		if t.Input, err = json.Marshal(inMap); err != nil {
			return Tool{}
		}
		t.Output, err = json.Marshal(outputSchema(reflectMap(out, true)))
		return t
	}
	set.PlaceCall = build(PlaceCallInput{}, PlaceCallOutput{}, nil)
	set.GetCall = build(GetCallInput{}, GetCallOutput{}, nil)
	set.ListCalls = build(ListCallsInput{}, ListCallsOutput{}, func(in map[string]any) { patchListCalls(in, l) })
	set.WaitForCall = build(WaitForCallInput{}, WaitForCallOutput{}, func(in map[string]any) { patchWaitForCall(in, l) })
	set.PlaceCalls = build(PlaceCallsInput{}, CampaignOutput{}, func(in map[string]any) { patchPlaceCalls(in, l) })
	set.WaitForCampaign = build(WaitForCampaignInput{}, CampaignOutput{}, func(in map[string]any) { patchWaitForCampaign(in, l) })
	set.CancelCampaign = build(CampaignIDInput{}, CampaignOutput{}, nil)
	set.ListCampaigns = build(ListCampaignsInput{}, ListCampaignsOutput{}, nil)
	set.PauseCampaign = build(CampaignIDInput{}, CampaignOutput{}, nil)
	set.ResumeCampaign = build(CampaignIDInput{}, CampaignOutput{}, nil)
	set.RetryCampaign = build(RetryCampaignInput{}, CampaignOutput{}, nil)
	if err != nil {
		return nil, fmt.Errorf("generating tool schemas: %w", err)
	}
	return &set, nil
}

// patchListCalls writes the operator's list limit into list_calls' input.
func patchListCalls(in map[string]any, l Limits) {
	limit := property(in, "limit")
	limit["maximum"] = l.MaxListLimit
	limit["description"] = fmt.Sprintf("How many of the most recent calls to return, 1 to %d (default %d).", l.MaxListLimit, min(DefaultListLimit, l.MaxListLimit))
	limit["default"] = min(DefaultListLimit, l.MaxListLimit)
}

// patchWaitForCall writes the operator's maximum wait into wait_for_call's
// input.
func patchWaitForCall(in map[string]any, l Limits) {
	timeout := property(in, "timeoutSec")
	timeout["maximum"] = l.MaxWaitSec
	def := min(DefaultWaitSec, l.MaxWaitSec)
	timeout["default"] = def
	timeout["description"] = fmt.Sprintf("Seconds to wait at most, 1 to %d (default %d); if the call has not ended by then the latest record comes back with timedOut: true, and you can call again to keep waiting.", l.MaxWaitSec, def)
}

// patchPlaceCalls writes the operator's campaign size into place_calls'
// input.
func patchPlaceCalls(in map[string]any, l Limits) {
	calls := property(in, "calls")
	calls["maxItems"] = l.MaxCampaignCalls
	calls["description"] = fmt.Sprintf("The calls to place, 1 to %d; each is {to, objective?, context?, fields?, label?, language?, voice?, voicemail?, voicemailMessage?}, and what it leaves out comes from the campaign's objective, context, fields and voicemail.", l.MaxCampaignCalls)
}

// patchWaitForCampaign writes the operator's maximum wait into
// wait_for_campaign's input.
func patchWaitForCampaign(in map[string]any, l Limits) {
	timeout := property(in, "timeoutSec")
	timeout["maximum"] = l.MaxWaitSec
	def := min(DefaultWaitSec, l.MaxWaitSec)
	timeout["default"] = def
	timeout["description"] = fmt.Sprintf("Seconds to wait at most, 0 to %d (default %d; 0 answers at once); if calls are still running by then the latest state comes back with timedOut: true, and you can call again to keep waiting.", l.MaxWaitSec, def)
}

func property(schema map[string]any, name string) map[string]any {
	return schema["properties"].(map[string]any)[name].(map[string]any)
}

// reflectMap reflects v into an inline schema and returns it as a generic
// map, with nullable properties written as type: [T, "null"].
func reflectMap(v any, openObjects bool) map[string]any {
	r := jsonschema.Reflector{
		DoNotReference:            true,
		ExpandedStruct:            true,
		Anonymous:                 true,
		AllowAdditionalProperties: openObjects,
	}
	s := r.Reflect(v)
	s.Version = ""
	raw, err := json.Marshal(s)
	if err != nil {
		panic(err) // the types are fixed: a failure is a programming error
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	normalize(m)
	return m
}

// normalize rewrites invopop's nullable form (oneOf [X, {type: null}]) as
// X with type [T, "null"], the form hosts and validators understand best,
// and drops the empty schemas invopop emits for free-form maps.
func normalize(node any) {
	switch n := node.(type) {
	case map[string]any:
		if one, ok := n["oneOf"].([]any); ok && len(one) == 2 {
			if null, ok := one[1].(map[string]any); ok && null["type"] == "null" {
				if inner, ok := one[0].(map[string]any); ok {
					delete(n, "oneOf")
					for k, v := range inner {
						n[k] = v
					}
					if t, ok := n["type"].(string); ok {
						n["type"] = []any{t, "null"}
					}
				}
			}
		}
		for _, v := range n {
			normalize(v)
		}
	case []any:
		for _, v := range n {
			normalize(v)
		}
	}
}

// outputSchema turns a success schema into one that also admits the error
// shape of isError results: the success properties plus error, httpStatus,
// retryable and hint, with anyOf choosing between the two required sets.
func outputSchema(success map[string]any) map[string]any {
	errShape := reflectMap(ErrorOutput{}, true)
	props := success["properties"].(map[string]any)
	for name, p := range errShape["properties"].(map[string]any) {
		if name == "error" {
			if existing, ok := props[name]; ok {
				// The call record's own error (a token or null) and the error
				// token of an isError result share the name and the type.
				existing.(map[string]any)["description"] = "On an isError result, the token naming what went wrong (e.g. destination_blocked, rate_limited, invalid_argument); on a call record, the error token of a failed call, or null."
				continue
			}
		}
		props[name] = p
	}
	required := success["required"]
	delete(success, "required")
	success["anyOf"] = []any{
		map[string]any{"required": required},
		map[string]any{"required": errShape["required"]},
	}
	delete(success, "additionalProperties")
	return success
}
