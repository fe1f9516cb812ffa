// Package schema owns what agents see of each tool's shape: the Go types of
// every tool's input and output, and the JSON Schemas generated from them once
// at start-up with invopop/jsonschema (inline, no $ref, no $schema).
package schema

// Bounds on what the server accepts from a model and forwards to the API.
// They are part of the input schemas, so a model sees them before it calls.
const (
	MaxObjectiveLen   = 4000
	MaxContextLen     = 8000
	MaxFields         = 20
	MaxFieldNameLen   = 64
	MaxFieldDescLen   = 500
	MaxWebhookURLLen  = 2048
	MaxCallIDLen      = 128
	MaxLanguageLen    = 35
	MaxVoiceLen       = 64
	DefaultListLimit  = 20
	MaxListLimit      = 100
	DefaultWaitSec    = 45
	E164Pattern       = `^\+[1-9][0-9]{6,14}$`
	CallIDPattern     = `^[A-Za-z0-9_-]{1,128}$`
	FieldNamePattern  = `^[A-Za-z_][A-Za-z0-9_]{0,63}$`
	WebhookURLPattern = `^https://`
)

// Terminal statuses of a call, in the API's words.
var TerminalStatuses = []string{"completed", "no_answer", "voicemail", "declined", "failed"}

// FieldSpec is one structured field to extract from the call's transcript.
type FieldSpec struct {
	Name        string `json:"name" jsonschema:"minLength=1,maxLength=64,pattern=^[A-Za-z_][A-Za-z0-9_]{0\\,63}$" jsonschema_description:"Key under which the value appears in the call record's extracted object, e.g. booked or confirmed_time. Letters, digits and underscores; unique within the call."`
	Type        string `json:"type,omitempty" jsonschema:"enum=string,enum=boolean,enum=number" jsonschema_description:"Type of the extracted value: string (default), boolean or number. A value the conversation did not cover comes back as null."`
	Description string `json:"description,omitempty" jsonschema:"maxLength=500" jsonschema_description:"What the value means, in plain words, e.g. 'Did they confirm the booking?'. Helps the extraction."`
}

// PlaceCallInput is the input of place_call.
type PlaceCallInput struct {
	To             string      `json:"to" jsonschema:"pattern=^\\+[1-9][0-9]{6\\,14}$" jsonschema_description:"Destination phone number in E.164 format: a plus sign, the country code and the number, no spaces, e.g. +14155550123."`
	Objective      string      `json:"objective" jsonschema:"minLength=1,maxLength=4000" jsonschema_description:"What the AI caller must accomplish, as one clear goal in plain text, e.g. 'Book a table for 4 at 7 PM Friday and ask for the name on the booking.'"`
	Context        string      `json:"context,omitempty" jsonschema:"maxLength=8000" jsonschema_description:"Background the AI caller should know (preferences, names, constraints). Never read out to the person called."`
	Fields         []FieldSpec `json:"fields,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Up to 20 values to extract from the conversation once the call ends; they appear in the call record's extracted object."`
	WebhookURL     string      `json:"webhookUrl,omitempty" jsonschema:"maxLength=2048,pattern=^https://" jsonschema_description:"Optional https URL that receives signed webhook events about the call."`
	CallerID       string      `json:"callerId,omitempty" jsonschema:"pattern=^\\+[1-9][0-9]{6\\,14}$" jsonschema_description:"Optional caller ID in E.164 format; must be a number on the account. Leave it out to use the account's default number."`
	Language       string      `json:"language,omitempty" jsonschema:"minLength=1,maxLength=35" jsonschema_description:"Optional language the AI caller speaks, as a BCP 47 tag such as es-MX, fr or en-GB, or auto to let it follow the person called. Leave it out to let the API infer it from the number."`
	Voice          string      `json:"voice,omitempty" jsonschema:"minLength=1,maxLength=64" jsonschema_description:"Optional name of the AI caller's voice, e.g. Kore. Leave it out for the account's default voice."`
	AllowDuplicate bool        `json:"allowDuplicate,omitempty" jsonschema_description:"Set true only to dial again on purpose when an identical call was placed in the last few minutes; otherwise the earlier call is returned with deduplicated: true."`
}

// PlaceCallOutput is the successful result of place_call.
type PlaceCallOutput struct {
	CallID       string `json:"callId" jsonschema_description:"Id of the call; pass it to wait_for_call or get_call."`
	Status       string `json:"status" jsonschema_description:"Status right after placing, normally queued."`
	Deduplicated bool   `json:"deduplicated" jsonschema_description:"True when an identical call placed moments ago was returned instead of dialing again."`
}

// GetCallInput is the input of get_call.
type GetCallInput struct {
	CallID string `json:"callId" jsonschema:"minLength=1,maxLength=128,pattern=^[A-Za-z0-9_-]{1\\,128}$" jsonschema_description:"Id of the call as returned by place_call or list_calls, e.g. f47ac10b-58cc-4372-a567-0e02b2c3d479."`
}

// ListCallsInput is the input of list_calls.
type ListCallsInput struct {
	Limit int `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100,default=20" jsonschema_description:"How many of the most recent calls to return, 1 to 100 (default 20)."`
}

// WaitForCallInput is the input of wait_for_call.
type WaitForCallInput struct {
	CallID     string `json:"callId" jsonschema:"minLength=1,maxLength=128,pattern=^[A-Za-z0-9_-]{1\\,128}$" jsonschema_description:"Id of the call to wait for, as returned by place_call."`
	TimeoutSec int    `json:"timeoutSec,omitempty" jsonschema:"minimum=1,maximum=300,default=45" jsonschema_description:"Seconds to wait at most before returning the latest record with timedOut: true (default 45). Call again to keep waiting."`
}

// CallRecord is a call as the API returns it. The API adds fields over time;
// the output schemas admit them, and get_call hands them on unchanged.
type CallRecord struct {
	ID           string         `json:"id" jsonschema_description:"The call id."`
	Status       string         `json:"status" jsonschema_description:"queued, dialing or in_progress while the call runs; completed, no_answer, voicemail, declined or failed once it has ended."`
	To           string         `json:"to,omitempty" jsonschema_description:"Destination number (E.164)."`
	Objective    string         `json:"objective,omitempty" jsonschema_description:"The objective given when the call was placed."`
	Summary      *string        `json:"summary,omitempty" jsonschema:"nullable" jsonschema_description:"Plain-English summary of the call; set once completed."`
	Transcript   *string        `json:"transcript,omitempty" jsonschema:"nullable" jsonschema_description:"Full transcript of the conversation."`
	Extracted    map[string]any `json:"extracted,omitempty" jsonschema:"nullable" jsonschema_description:"Extracted field values keyed by field name; null for a field the conversation did not cover."`
	RecordingURL *string        `json:"recordingUrl,omitempty" jsonschema:"nullable" jsonschema_description:"Authenticated URL of the call recording."`
	StartedAt    *string        `json:"startedAt,omitempty" jsonschema:"nullable" jsonschema_description:"ISO 8601 time the call was answered."`
	EndedAt      *string        `json:"endedAt,omitempty" jsonschema:"nullable" jsonschema_description:"ISO 8601 time the call ended."`
	DurationSec  *float64       `json:"durationSec,omitempty" jsonschema:"nullable" jsonschema_description:"Call duration in seconds."`
	Error        *string        `json:"error,omitempty" jsonschema:"nullable" jsonschema_description:"Error token on failed calls (or, on an isError result, the token of what went wrong)."`
}

// WaitForCallOutput is the result of wait_for_call: the record plus whether
// the wait ended before the call did.
type WaitForCallOutput struct {
	CallRecord
	TimedOut bool   `json:"timedOut" jsonschema_description:"True when timeoutSec passed before the call ended; the record is the latest seen. Call wait_for_call again to keep waiting."`
	Hint     string `json:"hint,omitempty" jsonschema_description:"What to do next."`
}

// ListCallsOutput is the result of list_calls.
type ListCallsOutput struct {
	Calls []CallRecord `json:"calls" jsonschema_description:"Recent calls, most recent first."`
}

// ErrorOutput is the structuredContent of every isError result.
type ErrorOutput struct {
	Error      string `json:"error" jsonschema_description:"Token naming what went wrong, e.g. destination_blocked, rate_limited, invalid_argument, not_found."`
	HTTPStatus *int   `json:"httpStatus" jsonschema:"nullable" jsonschema_description:"HTTP status of the API's answer, or null when the API was not asked or did not answer."`
	Retryable  bool   `json:"retryable" jsonschema_description:"Whether the same request may succeed if retried later."`
	Hint       string `json:"hint" jsonschema_description:"One sentence on what to do next."`
}
