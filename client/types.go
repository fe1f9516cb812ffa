package client

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Field is one structured field to extract from the transcript.
type Field struct {
	Name string `json:"name"`
	// Type is "string" (the API's default), "boolean" or "number".
	Type        string `json:"type,omitempty"`
	Description string `json:"description,omitempty"`
}

// PlaceCallRequest is the body of POST /v1/agent/calls. Empty optional
// fields are left out of the JSON.
type PlaceCallRequest struct {
	To         string  `json:"to"`
	Objective  string  `json:"objective"`
	Context    string  `json:"context,omitempty"`
	Fields     []Field `json:"fields,omitempty"`
	WebhookURL string  `json:"webhookUrl,omitempty"`
	CallerID   string  `json:"callerId,omitempty"`
	// Language is a BCP 47 tag or "auto"; Voice a voice name. Both are
	// sent unchanged and left out when empty.
	Language string `json:"language,omitempty"`
	Voice    string `json:"voice,omitempty"`
}

// PlaceCallResponse is the answer to POST /v1/agent/calls.
type PlaceCallResponse struct {
	CallID string `json:"callId"`
	Status string `json:"status"`
}

// Call statuses.
const (
	StatusQueued     = "queued"
	StatusDialing    = "dialing"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusNoAnswer   = "no_answer"
	StatusVoicemail  = "voicemail"
	StatusDeclined   = "declined"
	StatusFailed     = "failed"
)

// IsTerminalStatus reports whether s is one of the five final statuses:
// completed, no_answer, voicemail, declined, failed.
func IsTerminalStatus(s string) bool {
	switch s {
	case StatusCompleted, StatusNoAnswer, StatusVoicemail, StatusDeclined, StatusFailed:
		return true
	}
	return false
}

// Call is a call record. It keeps every field the API returned, including
// unknown ones: UnmarshalJSON stores the raw object in Raw, and MarshalJSON
// returns Raw unchanged when set (otherwise it marshals the typed fields).
// Changing typed fields of a decoded Call therefore does not change its JSON;
// use Fields to build a modified copy.
type Call struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	To           string          `json:"to"`
	Objective    string          `json:"objective"`
	Summary      *string         `json:"summary"`
	Transcript   *string         `json:"transcript"`
	Extracted    map[string]any  `json:"extracted"`
	RecordingURL *string         `json:"recordingUrl"`
	StartedAt    *string         `json:"startedAt"`
	EndedAt      *string         `json:"endedAt"`
	DurationSec  *float64        `json:"durationSec"`
	Error        *string         `json:"error"`
	Raw          json.RawMessage `json:"-"`
}

// callFields has Call's fields without its methods.
type callFields Call

// UnmarshalJSON decodes the typed fields and keeps a copy of data in Raw.
// A JSON null leaves c unchanged.
func (c *Call) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return nil
	}
	var f callFields
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	*c = Call(f)
	c.Raw = bytes.Clone(data)
	return nil
}

// MarshalJSON returns Raw when set, otherwise the typed fields (absent
// nullable fields as null).
func (c Call) MarshalJSON() ([]byte, error) {
	if len(c.Raw) > 0 {
		return c.Raw, nil
	}
	return json.Marshal(callFields(c))
}

// Terminal reports whether the call has reached a final status.
func (c *Call) Terminal() bool { return c != nil && IsTerminalStatus(c.Status) }

// Fields returns the whole record as a generic map (from Raw when set,
// otherwise from the typed fields), for passing through unchanged, unknown
// fields included. The map is a fresh copy the caller may modify.
func (c *Call) Fields() (map[string]any, error) {
	if c == nil {
		return nil, errors.New("bys api: nil call")
	}
	b, err := c.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("bys api: call record is not a JSON object")
	}
	return m, nil
}
