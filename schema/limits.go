package schema

import (
	"encoding/json"
	"fmt"
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
	calls["description"] = fmt.Sprintf("The calls to place, 1 to %d; each is {to, objective?, context?, fields?, label?, language?, voice?, voicemail?, voicemailMessage?, notBefore?}, and what it leaves out comes from the campaign's objective, context, fields, voicemail and notBefore.", l.MaxCampaignCalls)
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

// ApplyLimits writes l (normalized: zero values take the defaults) into the
// input schemas that show a limit: list_calls, wait_for_call, place_calls
// and wait_for_campaign.
func (s *Set) ApplyLimits(l Limits) error {
	l = l.normalized()
	var err error
	if s.ListCalls.Input, err = patched(s.ListCalls.Input, func(in map[string]any) { patchListCalls(in, l) }); err != nil {
		return err
	}
	if s.WaitForCall.Input, err = patched(s.WaitForCall.Input, func(in map[string]any) { patchWaitForCall(in, l) }); err != nil {
		return err
	}
	if s.PlaceCalls.Input, err = patched(s.PlaceCalls.Input, func(in map[string]any) { patchPlaceCalls(in, l) }); err != nil {
		return err
	}
	if s.WaitForCampaign.Input, err = patched(s.WaitForCampaign.Input, func(in map[string]any) { patchWaitForCampaign(in, l) }); err != nil {
		return err
	}
	return nil
}

func patched(raw json.RawMessage, patch func(map[string]any)) (json.RawMessage, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	patch(m)
	return json.Marshal(m)
}
