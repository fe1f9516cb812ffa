// Package schema owns what agents see of each tool's shape: the Go types of
// every tool's input and output, and the JSON Schemas generated from them
// (inline, no $ref, no $schema) by package schemagen with invopop/jsonschema.
// The server serves a generated copy (defaults_gen.go): it does not reflect
// at start-up, and does not link the reflection.
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
	MaxVoicemailLen   = 500
	DefaultListLimit  = 20
	MaxListLimit      = 100
	DefaultWaitSec    = 45
	E164Pattern       = `^\+[1-9][0-9]{6,14}$`
	CallIDPattern     = `^[A-Za-z0-9_-]{1,128}$`
	FieldNamePattern  = `^[A-Za-z_][A-Za-z0-9_]{0,63}$`
	WebhookURLPattern = `^https://`
)

// What the AI caller does when it reaches voicemail (voicemail argument).
const (
	VoicemailLeaveMessage = "leave_message"
	VoicemailHangUp       = "hang_up"
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
	To             string      `json:"to" jsonschema:"minLength=1,maxLength=64" jsonschema_description:"Destination phone number in E.164 format: a plus sign, the country code and the number, no spaces, e.g. +14155550123. A number in another form is not dialled: the refusal (invalid_number) suggests its E.164 form."`
	Objective      string      `json:"objective" jsonschema:"minLength=1,maxLength=4000" jsonschema_description:"What the AI caller must accomplish, as one clear goal in plain text, e.g. 'Book a table for 4 at 7 PM Friday and ask for the name on the booking.'"`
	Context        string      `json:"context,omitempty" jsonschema:"maxLength=8000" jsonschema_description:"Background the AI caller should know (preferences, names, constraints). Never read out to the person called."`
	Fields         []FieldSpec `json:"fields,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Up to 20 values to extract from the conversation once the call ends; they appear in the call record's extracted object."`
	WebhookURL     string      `json:"webhookUrl,omitempty" jsonschema:"maxLength=2048,pattern=^https://" jsonschema_description:"Optional https URL that receives signed webhook events about the call."`
	CallerID       string      `json:"callerId,omitempty" jsonschema:"pattern=^\\+[1-9][0-9]{6\\,14}$" jsonschema_description:"Optional caller ID in E.164 format; must be a number on the account. Leave it out to use the account's default number."`
	Language       string      `json:"language,omitempty" jsonschema:"minLength=1,maxLength=35" jsonschema_description:"Optional language the AI caller speaks, as a BCP 47 tag such as es-MX, fr or en-GB, or auto to let it follow the person called. Leave it out to let the API infer it from the number."`
	Voice          string      `json:"voice,omitempty" jsonschema:"minLength=1,maxLength=64" jsonschema_description:"Optional name of the AI caller's voice, e.g. Kore. Leave it out for the account's default voice."`
	AllowDuplicate bool        `json:"allowDuplicate,omitempty" jsonschema_description:"Set true only to dial again on purpose when an identical call was placed in the last few minutes; otherwise the earlier call is returned with deduplicated: true."`
	NotBefore      string      `json:"notBefore,omitempty" jsonschema:"format=date-time" jsonschema_description:"Optional RFC 3339 time, in the future and at most 7 days ahead, e.g. 2026-06-18T10:00:00-07:00, to place the call later: nothing is dialled now; the call is kept and dialled then, still through every check at that moment (do-not-call, lists, dedupe, calling hours, calls per number, budget), waiting for calling hours to open until 24 hours after notBefore. The result is {scheduled: true, campaignId, notBefore}: follow it with wait_for_campaign, cancel it with cancel_campaign."`

	// What the AI caller does on reaching voicemail.
	Voicemail        string `json:"voicemail,omitempty" jsonschema:"enum=leave_message,enum=hang_up" jsonschema_description:"What the AI caller does if it reaches voicemail: leave_message (give the message in voicemailMessage) or hang_up (hang up without a message). Leave it out to let the AI caller decide."`
	VoicemailMessage string `json:"voicemailMessage,omitempty" jsonschema:"minLength=1,maxLength=500" jsonschema_description:"With voicemail: leave_message, the message to leave, at most 500 characters, e.g. 'Hi, this is Sam's assistant about Friday's booking; please call back on 415 555 0100.' Only with leave_message."`
}

// PlaceCallOutput is the successful result of place_call.
type PlaceCallOutput struct {
	CallID       string `json:"callId" jsonschema_description:"Id of the call; pass it to wait_for_call or get_call."`
	Status       string `json:"status" jsonschema_description:"Status right after placing, normally queued."`
	Deduplicated bool   `json:"deduplicated" jsonschema_description:"True when an identical call placed moments ago was returned instead of dialing again."`
	// Destination is where and when the call rings.
	Destination *Destination `json:"destination,omitempty" jsonschema_description:"Where the call rings and what time it is there."`
	Warnings    []string     `json:"warnings,omitempty" jsonschema_description:"Things to tell the user, e.g. that the number lies in no range the numbering plan lists as in use (the call was still placed)."`
	// The refusal fields: present on isError results of place_call only.
	Suggestion string `json:"suggestion,omitempty" jsonschema_description:"On an invalid_number refusal: the E.164 form the input most likely means (never dialled on its own; confirm it with the user and call again with it)."`
	TimeZone   string `json:"timeZone,omitempty" jsonschema_description:"On an outside_calling_hours refusal: the destination's IANA time zone that is outside calling hours."`
	LocalTime  string `json:"localTime,omitempty" jsonschema:"format=date-time" jsonschema_description:"On an outside_calling_hours refusal: the time now at the destination (RFC 3339, in timeZone)."`
	OpensAt    string `json:"opensAt,omitempty" jsonschema:"format=date-time" jsonschema_description:"On an outside_calling_hours refusal: when calling hours next open at the destination (RFC 3339, in timeZone); on a number_call_limit refusal: when the number may be dialled again (RFC 3339)."`
	Rule       string `json:"rule,omitempty" jsonschema_description:"On an outside_calling_hours refusal under --calling-rules regional: the published rule that refused, e.g. Florida (Fla. Stat. § 501.616(6)(a))."`
	// The later-call fields: present on results of place_call with
	// notBefore only (ScheduledCallOutput).
	Scheduled  bool   `json:"scheduled,omitempty" jsonschema_description:"True when the call was scheduled with notBefore: nothing was dialled yet, and there is no callId until it is; follow it with wait_for_campaign and campaignId."`
	CampaignID string `json:"campaignId,omitempty" jsonschema_description:"With scheduled: the id of the campaign of one that holds the call; pass it to wait_for_campaign to follow it, or to cancel_campaign to cancel it before it is dialled."`
	NotBefore  string `json:"notBefore,omitempty" jsonschema:"format=date-time" jsonschema_description:"With scheduled: the RFC 3339 time before which the call is not dialled."`
}

// ScheduledCallOutput is the successful result of place_call with
// notBefore: a later call, kept as a campaign of one.
type ScheduledCallOutput struct {
	Scheduled   bool         `json:"scheduled" jsonschema_description:"Always true: nothing was dialled yet."`
	CampaignID  string       `json:"campaignId" jsonschema_description:"Id of the campaign of one that holds the call."`
	NotBefore   string       `json:"notBefore" jsonschema:"format=date-time" jsonschema_description:"RFC 3339 time before which the call is not dialled."`
	Destination *Destination `json:"destination,omitempty" jsonschema_description:"Where the call will ring and what time it is there now."`
	Warnings    []string     `json:"warnings,omitempty" jsonschema_description:"Things to tell the user."`
}

// Destination is what the numbering plan says about a call's destination.
type Destination struct {
	Region     string `json:"region,omitempty" jsonschema_description:"ISO 3166 region of the number (001 for non-geographic codes such as +800)."`
	TimeZone   string `json:"timeZone,omitempty" jsonschema_description:"IANA time zone where the number rings (the first one when its area spans several)."`
	LocalTime  string `json:"localTime,omitempty" jsonschema:"format=date-time" jsonschema_description:"The time now at the destination, RFC 3339 in timeZone."`
	NumberType string `json:"numberType,omitempty" jsonschema_description:"The number's type when known: fixed_line, mobile, fixed_line_or_mobile, toll_free, premium_rate, shared_cost, voip, personal_number, pager, uan or voicemail."`
}

// GetCallInput is the input of get_call.
type GetCallInput struct {
	CallID             string `json:"callId" jsonschema:"minLength=1,maxLength=128,pattern=^[A-Za-z0-9_-]{1\\,128}$" jsonschema_description:"Id of the call as returned by place_call or list_calls, e.g. f47ac10b-58cc-4372-a567-0e02b2c3d479."`
	TranscriptMaxChars *int   `json:"transcriptMaxChars,omitempty" jsonschema:"minimum=0" jsonschema_description:"At most this many characters of the transcript (Unicode code points), from transcriptOffset; 0 leaves the transcript out. Leave it out for the whole transcript."`
	TranscriptOffset   *int   `json:"transcriptOffset,omitempty" jsonschema:"minimum=0,default=0" jsonschema_description:"Character (Unicode code point) of the transcript to start from, default 0; pass the transcriptNextOffset of an earlier result to read on."`
}

// ListCallsInput is the input of list_calls.
type ListCallsInput struct {
	Limit int `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100,default=20" jsonschema_description:"How many of the most recent calls to return, 1 to 100 (default 20)."`
}

// WaitForCallInput is the input of wait_for_call.
type WaitForCallInput struct {
	CallID             string `json:"callId" jsonschema:"minLength=1,maxLength=128,pattern=^[A-Za-z0-9_-]{1\\,128}$" jsonschema_description:"Id of the call to wait for, as returned by place_call."`
	TimeoutSec         int    `json:"timeoutSec,omitempty" jsonschema:"minimum=1,maximum=300,default=45" jsonschema_description:"Seconds to wait at most before returning the latest record with timedOut: true (default 45). Call again to keep waiting."`
	TranscriptMaxChars *int   `json:"transcriptMaxChars,omitempty" jsonschema:"minimum=0" jsonschema_description:"At most this many characters of the transcript (Unicode code points), from transcriptOffset; 0 leaves the transcript out. Leave it out for the whole transcript."`
	TranscriptOffset   *int   `json:"transcriptOffset,omitempty" jsonschema:"minimum=0,default=0" jsonschema_description:"Character (Unicode code point) of the transcript to start from, default 0; pass the transcriptNextOffset of an earlier result to read on."`
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
	Outcome      *CallOutcome   `json:"outcome,omitempty" jsonschema_description:"What the server's own outcome questions obtained from the call (each null when not obtained)."`
	// RecordingLink is added by get_call and wait_for_call for an ended
	// call with a recording when the server has a --public-url.
	RecordingLink string `json:"recordingLink,omitempty" jsonschema:"format=uri" jsonschema_description:"A link a person can open for 1 hour to listen to the recording, without a key (servers with a public URL, for ended calls with a recording). The audio is also the resource bys://calls/{callId}/recording."`
}

// CallOutcome is what the reserved outcome fields obtained from a call.
type CallOutcome struct {
	DoNotCall  *bool   `json:"doNotCall" jsonschema:"nullable" jsonschema_description:"True when the person asked not to be called again (the number is then on this key's do-not-call list)."`
	CallbackAt *string `json:"callbackAt" jsonschema:"nullable" jsonschema_description:"The local date and time (YYYY-MM-DDTHH:MM, the person's own zone) the person asked to be called back at."`
	Reached    *string `json:"reached" jsonschema:"nullable" jsonschema_description:"Who answered: person, voicemail, phone_menu, wrong_number or nobody."`
}

// TranscriptWindow is added to a call record (get_call, wait_for_call) when
// transcriptMaxChars or transcriptOffset cut its transcript.
type TranscriptWindow struct {
	TranscriptTotalChars *int `json:"transcriptTotalChars,omitempty" jsonschema_description:"Present when the transcript was cut (transcriptOffset above 0, or more remains): its whole length in characters (Unicode code points)."`
	TranscriptNextOffset *int `json:"transcriptNextOffset,omitempty" jsonschema:"nullable" jsonschema_description:"Present when the transcript was cut: the transcriptOffset that reads on from this part, or null when nothing remains."`
}

// GetCallOutput is the result of get_call: the record, with the transcript
// window's facts when it was cut.
type GetCallOutput struct {
	CallRecord
	TranscriptWindow
}

// WaitForCallOutput is the result of wait_for_call: the record plus whether
// the wait ended before the call did.
type WaitForCallOutput struct {
	CallRecord
	TranscriptWindow
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

// Bounds of the campaign tools.
const (
	DefaultMaxCampaignCalls   = 50
	MaxCampaignConcurrency    = 5
	DefaultCampaignConcurrent = 3
	MaxCampaignRetries        = 2
	DefaultRetryAfterMin      = 30
	MinRetryAfterMin          = 10
	MaxRetryAfterMin          = 1440
	MaxLabelLen               = 100
	MaxCampaignNameLen        = 200
	CampaignIDPattern         = `^cmp_[a-f0-9]{16,64}$`
)

// Item states of a campaign.
const (
	ItemPending   = "pending"
	ItemScheduled = "scheduled"
	ItemPaused    = "paused"
	ItemDialing   = "dialing"
	ItemInCall    = "in_call"
	ItemEnded     = "ended"
	ItemRefused   = "refused"
	ItemCancelled = "cancelled"
	ItemExpired   = "expired"
)

// ItemStates lists every item state, in the order of an item's life.
var ItemStates = []string{ItemPending, ItemScheduled, ItemPaused, ItemDialing, ItemInCall, ItemEnded, ItemRefused, ItemCancelled, ItemExpired}

// Campaign statuses.
const (
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCompleted = "completed"
	CampaignCancelled = "cancelled"
	CampaignExpired   = "expired"
)

// CampaignCallInput is one item of place_calls.
type CampaignCallInput struct {
	To        string      `json:"to" jsonschema:"pattern=^\\+[1-9][0-9]{6\\,14}$" jsonschema_description:"Destination phone number in E.164 format, e.g. +14155550123. Each number appears once per objective."`
	Objective string      `json:"objective,omitempty" jsonschema:"minLength=1,maxLength=4000" jsonschema_description:"What the AI caller must accomplish on this call; leave it out to use the campaign's objective."`
	Context   string      `json:"context,omitempty" jsonschema:"maxLength=8000" jsonschema_description:"Background for this call only (never read out); leave it out to use the campaign's context."`
	Fields    []FieldSpec `json:"fields,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Values to extract from this call; leave it out to use the campaign's fields."`
	Label     string      `json:"label,omitempty" jsonschema:"maxLength=100" jsonschema_description:"A name for this call in the results table, e.g. the business or person called."`
	Language  string      `json:"language,omitempty" jsonschema:"minLength=1,maxLength=35" jsonschema_description:"Optional BCP 47 language tag of the AI caller for this call, or auto."`
	Voice     string      `json:"voice,omitempty" jsonschema:"minLength=1,maxLength=64" jsonschema_description:"Optional voice name of the AI caller for this call."`
	NotBefore string      `json:"notBefore,omitempty" jsonschema:"format=date-time" jsonschema_description:"Optional RFC 3339 time before which this call is not dialled (in the future, at most 7 days ahead, before the deadline); it waits scheduled until then. Replaces the campaign's notBefore."`

	// What the AI caller does on reaching voicemail.
	Voicemail        string `json:"voicemail,omitempty" jsonschema:"enum=leave_message,enum=hang_up" jsonschema_description:"What to do on reaching voicemail on this call: leave_message (with voicemailMessage) or hang_up; when given (or voicemailMessage is), replaces the campaign's voicemail and voicemailMessage."`
	VoicemailMessage string `json:"voicemailMessage,omitempty" jsonschema:"minLength=1,maxLength=500" jsonschema_description:"With voicemail: leave_message, the message to leave on this call, at most 500 characters."`
}

// PlaceCallsInput is the input of place_calls.
type PlaceCallsInput struct {
	Calls         []CampaignCallInput `json:"calls" jsonschema:"minItems=1,maxItems=50" jsonschema_description:"The calls to place, 1 to 50; each is {to, objective?, context?, fields?, label?, language?, voice?, voicemail?, voicemailMessage?, notBefore?}, and what it leaves out comes from the campaign's objective, context, fields, voicemail and notBefore."`
	Objective     string              `json:"objective,omitempty" jsonschema:"minLength=1,maxLength=4000" jsonschema_description:"Objective of every call that has none of its own; required unless every call has one."`
	Context       string              `json:"context,omitempty" jsonschema:"maxLength=8000" jsonschema_description:"Background for every call that has none of its own (never read out)."`
	Fields        []FieldSpec         `json:"fields,omitempty" jsonschema:"maxItems=20" jsonschema_description:"Values to extract from every call that has no fields of its own; they become the columns of the results table."`
	Concurrency   int                 `json:"concurrency,omitempty" jsonschema:"minimum=1,maximum=5,default=3" jsonschema_description:"At most this many calls of the campaign ring at once, 1 to 5 (default 3)."`
	Retries       int                 `json:"retries,omitempty" jsonschema:"minimum=0,maximum=2,default=0" jsonschema_description:"How many times to redial a call that ended with a status in retryOn (default no_answer or failed), 0 to 2 (default 0); redials stay inside calling hours."`
	RetryOn       []string            `json:"retryOn,omitempty" jsonschema:"minItems=1,enum=no_answer,enum=failed,enum=voicemail,default=no_answer,default=failed" jsonschema_description:"The call statuses that retries redials: any of no_answer, failed and voicemail (default no_answer and failed)."`
	RetryAfterMin int                 `json:"retryAfterMin,omitempty" jsonschema:"minimum=10,maximum=1440,default=30" jsonschema_description:"Minutes between a call's end and its redial, at least 10 (default 30)."`
	Deadline      string              `json:"deadline,omitempty" jsonschema:"format=date-time" jsonschema_description:"RFC 3339 time after which nothing more is dialled (default 24 hours from now, at most 7 days); calls whose calling hours do not open before it end expired."`
	Name          string              `json:"name,omitempty" jsonschema:"maxLength=200" jsonschema_description:"A name for the campaign, e.g. 'Water heater quotes'."`
	NotBefore     string              `json:"notBefore,omitempty" jsonschema:"format=date-time" jsonschema_description:"Optional RFC 3339 time before which no call of the campaign is dialled (in the future, at most 7 days ahead); the calls wait scheduled until then. A call's own notBefore wins. Without a deadline, the deadline is 24 hours after the latest notBefore."`
	Callbacks     *bool               `json:"callbacks,omitempty" jsonschema:"default=true" jsonschema_description:"When true (the default), a call whose person asked to be called back at a later time (outcome.callbackAt, their local time) is dialled again then, through every check, if that is before the deadline; false turns this off."`

	// What the AI caller does on reaching voicemail.
	Voicemail        string `json:"voicemail,omitempty" jsonschema:"enum=leave_message,enum=hang_up" jsonschema_description:"What the AI caller does on reaching voicemail, for every call that says nothing of its own: leave_message (with voicemailMessage) or hang_up."`
	VoicemailMessage string `json:"voicemailMessage,omitempty" jsonschema:"minLength=1,maxLength=500" jsonschema_description:"With voicemail: leave_message, the message to leave, at most 500 characters."`
}

// Statuses that place_calls' retryOn may list, and its default.
var (
	RetryOnStatuses = []string{"no_answer", "failed", "voicemail"}
	DefaultRetryOn  = []string{"no_answer", "failed"}
)

// CampaignIDInput is the input of cancel_campaign, pause_campaign and
// resume_campaign.
type CampaignIDInput struct {
	CampaignID string `json:"campaignId" jsonschema:"minLength=1,maxLength=68,pattern=^cmp_[a-f0-9]{16\\,64}$" jsonschema_description:"Id of the campaign, as returned by place_calls, place_call with notBefore, or list_campaigns."`
}

// Statuses that retry_campaign may redial, and its default: calls that did
// not reach anyone (a declined call is not redialled).
var RetryCampaignStatuses = []string{"no_answer", "voicemail", "failed"}

// RetryCampaignInput is the input of retry_campaign.
type RetryCampaignInput struct {
	CampaignID string   `json:"campaignId" jsonschema:"minLength=1,maxLength=68,pattern=^cmp_[a-f0-9]{16\\,64}$" jsonschema_description:"Id of the campaign, as returned by place_calls, place_call with notBefore, or list_campaigns."`
	Statuses   []string `json:"statuses,omitempty" jsonschema:"minItems=1,enum=no_answer,enum=voicemail,enum=failed,default=no_answer,default=voicemail,default=failed" jsonschema_description:"Redial the calls of the campaign that ended with these statuses: any of no_answer, voicemail and failed (default all three)."`
}

// ListCampaignsInput is the input of list_campaigns.
type ListCampaignsInput struct {
	Limit int `json:"limit,omitempty" jsonschema:"minimum=1,maximum=100,default=20" jsonschema_description:"How many of the most recent campaigns to return, 1 to 100 (default 20)."`
}

// CampaignSummary is one campaign in list_campaigns: the campaign without
// its items.
type CampaignSummary struct {
	CampaignID string         `json:"campaignId" jsonschema_description:"Id of the campaign; pass it to wait_for_campaign, pause_campaign, resume_campaign, retry_campaign or cancel_campaign."`
	Name       string         `json:"name,omitempty" jsonschema_description:"The campaign's name."`
	Status     string         `json:"status" jsonschema:"enum=running,enum=paused,enum=completed,enum=cancelled,enum=expired" jsonschema_description:"running, paused, completed, cancelled or expired."`
	CreatedAt  string         `json:"createdAt" jsonschema_description:"RFC 3339 time the campaign was created."`
	Deadline   string         `json:"deadline" jsonschema_description:"RFC 3339 time after which nothing more is dialled."`
	Total      int            `json:"total" jsonschema_description:"Number of calls in the campaign."`
	Counts     map[string]int `json:"counts" jsonschema_description:"Number of calls in each state."`
}

// ListCampaignsOutput is the result of list_campaigns.
type ListCampaignsOutput struct {
	Campaigns []CampaignSummary `json:"campaigns" jsonschema_description:"The key's campaigns, newest first."`
}

// WaitForCampaignInput is the input of wait_for_campaign.
type WaitForCampaignInput struct {
	CampaignID string `json:"campaignId" jsonschema:"minLength=1,maxLength=68,pattern=^cmp_[a-f0-9]{16\\,64}$" jsonschema_description:"Id of the campaign to wait for, as returned by place_calls (or by place_call with notBefore, for a later call)."`
	TimeoutSec *int   `json:"timeoutSec,omitempty" jsonschema:"minimum=0,maximum=300,default=45" jsonschema_description:"Seconds to wait at most (default 45; 0 answers at once) before returning the latest state with timedOut: true. Call again to keep waiting."`
}

// CampaignItem is one call of a campaign.
type CampaignItem struct {
	Index     int            `json:"index" jsonschema_description:"Position of the call in place_calls' calls, from 0."`
	Label     string         `json:"label,omitempty" jsonschema_description:"The label given to the call."`
	To        string         `json:"to" jsonschema_description:"Destination number (E.164)."`
	State     string         `json:"state" jsonschema:"enum=pending,enum=scheduled,enum=paused,enum=dialing,enum=in_call,enum=ended,enum=refused,enum=cancelled,enum=expired" jsonschema_description:"pending (waiting its turn), scheduled (not dialled before notBefore: a later call, a callback the person asked for, calling hours, calls per number or retry spacing), paused (not dialled while the campaign is paused), dialing, in_call, ended (status says how), refused (error and hint say why), cancelled or expired (its window did not open before the deadline)."`
	CallID    string         `json:"callId,omitempty" jsonschema_description:"Id of the call once placed (get_call, wait_for_call)."`
	Attempts  int            `json:"attempts" jsonschema_description:"How many times the number was dialled."`
	NotBefore string         `json:"notBefore,omitempty" jsonschema_description:"RFC 3339 time before which the call will not be dialled (a later call, a callback, calling hours, calls per number or retry spacing)."`
	Status    string         `json:"status,omitempty" jsonschema_description:"The call's status: terminal (completed, no_answer, voicemail, declined, failed) once ended."`
	Summary   string         `json:"summary,omitempty" jsonschema_description:"Summary of the call once completed."`
	Extracted map[string]any `json:"extracted,omitempty" jsonschema_description:"Extracted field values of the call, keyed by field name."`
	Outcome   *CallOutcome   `json:"outcome,omitempty" jsonschema_description:"What the server's own outcome questions obtained from the call once ended."`
	Error     string         `json:"error,omitempty" jsonschema_description:"Why the call was refused (or failed): a token such as invalid_number, do_not_call, destination_not_allowed, number_call_limit, call_budget_exceeded or an API token."`
	Hint      string         `json:"hint,omitempty" jsonschema_description:"What the refusal means, in one sentence."`
}

// CampaignOutput is a campaign, as place_calls, wait_for_campaign and
// cancel_campaign return it.
type CampaignOutput struct {
	CampaignID string         `json:"campaignId" jsonschema_description:"Id of the campaign; pass it to wait_for_campaign or cancel_campaign."`
	Name       string         `json:"name,omitempty" jsonschema_description:"The campaign's name."`
	Status     string         `json:"status" jsonschema:"enum=running,enum=paused,enum=completed,enum=cancelled,enum=expired" jsonschema_description:"running, paused (pause_campaign: nothing more is dialled until resume_campaign), completed (every call ended), cancelled or expired (the deadline passed before every call could be dialled)."`
	CreatedAt  string         `json:"createdAt" jsonschema_description:"RFC 3339 time the campaign was created."`
	Deadline   string         `json:"deadline" jsonschema_description:"RFC 3339 time after which nothing more is dialled."`
	Total      int            `json:"total" jsonschema_description:"Number of calls in the campaign."`
	Counts     map[string]int `json:"counts" jsonschema_description:"Number of calls in each state."`
	Items      []CampaignItem `json:"items" jsonschema_description:"The calls, in the order given."`
	TimedOut   bool           `json:"timedOut,omitempty" jsonschema_description:"True when wait_for_campaign's timeoutSec passed before every call ended; call it again to keep waiting."`
}
