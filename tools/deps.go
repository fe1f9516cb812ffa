// Package tools owns the MCP tools (place_call, get_call, list_calls,
// wait_for_call, and the campaign tools place_calls, wait_for_campaign,
// cancel_campaign, list_campaigns, pause_campaign, resume_campaign and
// retry_campaign): one constructor per tool returning its definition and its
// handler, argument decoding and validation, the mapping of every failure to
// an isError result an agent can act on, and the text rendering of results.
package tools

import (
	"context"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/byourside/bys-mcp/schema"
	"github.com/sirupsen/logrus"
)

// Confirmation modes of --confirm-calls.
const (
	ConfirmAuto   = "auto"
	ConfirmAlways = "always"
	ConfirmNever  = "never"
)

// Deps is what the tool handlers need. main builds one and every tool
// constructor closes over it.
type Deps struct {
	// Client talks to the API; WithAPIKey derives the per-request client.
	Client *client.Client
	// ServerKey is the server's own BYS_API_KEY, used when a request brings
	// no key of its own. Empty when every client must bring its own.
	ServerKey string
	// People keeps the calls of the key apart per signed-in person
	// (--oauth-issuer; internal/people); nil otherwise. With it, every
	// request must name its person (tenant.WithPerson).
	People  *people.Book
	Log     logrus.FieldLogger
	Schemas *schema.Set
	Limits  schema.Limits

	Policy          safety.Policy
	Store           state.Store
	Audit           *safety.Audit
	DedupeWindow    time.Duration
	MaxCallsPerHour int
	ConfirmCalls    string
	// ConfirmStateMaxAge bounds how long a confirmation may take.
	ConfirmStateMaxAge time.Duration

	// CallingHours is the window a call may ring in at its destination
	// (callhours.Off disables); DefaultRegion (ISO 3166) is where national
	// numbers are read for a suggestion.
	CallingHours  callhours.Window
	DefaultRegion string
	// RegionalRules holds calls to the published calling rules of their
	// destination too (--calling-rules regional).
	RegionalRules bool
	// OutcomeFields asks every placed call for the reserved outcome fields
	// (--outcome-fields).
	OutcomeFields bool
	// DoNotCall is the do-not-call list (nil: none is kept).
	DoNotCall *dnc.List
	// CallsPerNumber caps the calls dialled to one number per key in
	// CallsPerNumberPeriod (--max-calls-per-number); 0 means no cap.
	CallsPerNumber       int
	CallsPerNumberPeriod time.Duration
	// Clock is the one clock of every decision by time (calling hours,
	// local times, deadlines, confirmation states, campaigns); nil is the
	// wall clock.
	Clock clock.Clock

	Poll PollSchedule
	// Follow is the process's hub of call followers, shared by every wait,
	// task, subscription and campaign; nil makes one on Poll.
	Follow *follow.Hub
	// Webhooks gives calls placed without a webhookUrl the server's own
	// (--public-url); nil: no webhooks, calls are polled.
	Webhooks Webhooks
	// RecordingLinks adds recordingLink to the results of ended calls
	// with a recording (--public-url); nil: no links.
	RecordingLinks RecordingLinks
	// ProgressInterval is the longest a wait goes without a progress
	// notification; 0 selects DefaultProgressInterval (15 s).
	ProgressInterval time.Duration
	Metrics          Metrics
	// Tasks runs task-augmented wait_for_call calls; nil disables tasks.
	Tasks TaskRunner

	// Campaigns runs place_calls' campaigns (NewCampaignManager); made on
	// first use from Store when nil.
	Campaigns     *campaign.Manager
	followOnce    sync.Once
	campaignsOnce sync.Once
}

// maxCampaignCalls is the largest campaign place_calls accepts.
func (d *Deps) maxCampaignCalls() int {
	if d.Limits.MaxCampaignCalls > 0 {
		return d.Limits.MaxCampaignCalls
	}
	return schema.DefaultMaxCampaignCalls
}

// Metrics receives what the tools count. Nil-safe through the helpers below.
type Metrics interface {
	CallPlaced()
	Refusal(token string)
}

// PollSchedule is how often wait_for_call asks the API for a call's status:
// Early for the first EarlyFor of a wait (calls change status quickly at
// first), then Late.
type PollSchedule struct {
	Early    time.Duration
	EarlyFor time.Duration
	Late     time.Duration
}

// DefaultPollSchedule sees a change within about a second for the first ten
// seconds and costs at most 30 requests a minute after that.
var DefaultPollSchedule = PollSchedule{Early: 800 * time.Millisecond, EarlyFor: 10 * time.Second, Late: 2200 * time.Millisecond}

// Next returns the delay before the next poll, elapsed into the wait.
func (p PollSchedule) Next(elapsed time.Duration) time.Duration {
	if elapsed < p.EarlyFor {
		return p.Early
	}
	return p.Late
}

// apiKey returns the key that serves this request: the client's own, else
// the server's.
func (d *Deps) apiKey(ctx context.Context) string {
	if k := tenant.KeyFrom(ctx); k != "" {
		return k
	}
	return d.ServerKey
}

// credential returns the tenant this request acts for: its key and, under
// --oauth-issuer, its person (tenant.Credential; the key alone otherwise).
func (d *Deps) credential(ctx context.Context) string {
	p, _ := tenant.PersonFrom(ctx)
	return tenant.Credential(d.apiKey(ctx), p.ID)
}

// keyFP is the fingerprint of this request's tenant, which dedupe,
// budgets, the do-not-call list, confirmations and campaigns are keyed by.
func (d *Deps) keyFP(ctx context.Context) string {
	return safety.KeyFingerprint(d.credential(ctx))
}

// clientFor returns the API client for this request's tenant, or a refusal
// when no key (or, under --oauth-issuer, no person) is available.
func (d *Deps) clientFor(ctx context.Context) (*client.Client, *toolError) {
	if d.apiKey(ctx) == "" {
		return nil, newToolError("no_api_key", nil, false,
			"no API key is available for this request: send Authorization: Bearer bys_ak_... with the request, or start the server with BYS_API_KEY set")
	}
	return d.clientForCred(d.credential(ctx))
}

// clientForCred returns the API client of a tenant credential: its key's,
// narrowed to its person's calls under --oauth-issuer.
func (d *Deps) clientForCred(cred string) (*client.Client, *toolError) {
	c, err := people.Client(d.Client, d.People, cred)
	if err != nil {
		return nil, newToolError("no_person", nil, false, "this request names no signed-in person: sign in again at the team's identity provider")
	}
	return c, nil
}

// subject is the signed-in person's name at the identity provider
// (--oauth-issuer), for audit lines; "" otherwise.
func subject(ctx context.Context) string {
	p, _ := tenant.PersonFrom(ctx)
	return p.Subject
}

func (d *Deps) refusal(token string) {
	if d.Metrics != nil {
		d.Metrics.Refusal(token)
	}
}

// followHub returns the hub of shared call followers, making one on the
// poll schedule when main gave none (tests that build Deps themselves).
// Safe for concurrent use.
func (d *Deps) followHub() *follow.Hub {
	d.followOnce.Do(func() {
		if d.Follow == nil {
			d.Follow = follow.New(follow.Options{Poll: d.Poll.Next, Log: d.Log})
		}
	})
	return d.Follow
}

// now is the deps' clock.
func (d *Deps) now() time.Time {
	return clock.Or(d.Clock).Now()
}
