// Package resources owns the MCP resources of bys-mcp: call records as
// bys://calls/{callId} (JSON, the record get_call returns), their
// transcripts as bys://calls/{callId}/transcript (text) and recordings as
// bys://calls/{callId}/recording (an audio blob), campaigns as
// bys://campaigns/{campaignId} (JSON) and .../results.csv, the per-key list of
// recent calls, completion of call ids, and subscriptions that send
// notifications/resources/updated when a subscribed call changes status (or
// a subscribed campaign changes)
// (resources/subscribe for 2025-11-25 clients, subscriptions/listen for
// 2026-07-28 clients).
package resources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/outcome"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/tenant"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/sirupsen/logrus"
)

// URI scheme and templates.
const (
	Prefix             = "bys://calls/"
	RecordTemplate     = "bys://calls/{callId}"
	TranscriptTemplate = "bys://calls/{callId}/transcript"
	// ListLimit bounds resources/list and completions.
	ListLimit = 20
)

// Deps is what the resources need.
type Deps struct {
	Client    *client.Client
	ServerKey string
	// People keeps the calls of the key apart per signed-in person
	// (--oauth-issuer; internal/people): every read goes through the
	// person's client, so another person's call is not found. Nil
	// otherwise.
	People *people.Book
	Log    logrus.FieldLogger
	// Poll is the delay between status checks of a subscribed call, given
	// how long it has been watched (wait_for_call's schedule).
	Poll func(elapsed time.Duration) time.Duration
	// Follow is the process's hub of call followers (shared with the
	// tools); nil makes one on Poll.
	Follow *follow.Hub
	// Campaigns, when set, serves bys://campaigns/{campaignId} and its
	// results.csv (not with --read-only).
	Campaigns CampaignSource
	// RecordingLinks says that results carry a recordingLink
	// (--public-url), for the advice given about a recording too large for
	// bys://calls/{callId}/recording.
	RecordingLinks bool
}

// Resources serves the call resources of one server.
type Resources struct {
	deps    Deps
	watches *watcher
}

// New returns the resources; Register adds them to a server.
func New(d Deps) *Resources {
	if d.Follow == nil {
		d.Follow = follow.New(follow.Options{Poll: d.Poll, Log: d.Log})
	}
	r := &Resources{deps: d}
	r.watches = newWatcher(r)
	return r
}

// ServerOptions are the options the resources need on the server.
func ServerOptions() []server.ServerOption {
	return []server.ServerOption{
		server.WithResourceCapabilities(true, false),
		server.WithCompletions(),
	}
}

// Register adds the templates, the recent-calls listing, completion and
// subscription tracking to s. hooks must be the server's hooks.
func (r *Resources) Register(s *server.MCPServer, hooks *server.Hooks) {
	s.AddResourceTemplate(mcp.NewResourceTemplate(RecordTemplate, "Call record",
		mcp.WithTemplateDescription("A call placed through By Your Side, as JSON: the same record get_call returns (status, summary, transcript, extracted fields, timestamps)."),
		mcp.WithTemplateMIMEType("application/json"),
	), r.readRecord)
	s.AddResourceTemplate(mcp.NewResourceTemplate(TranscriptTemplate, "Call transcript",
		mcp.WithTemplateDescription("The transcript of a call as plain text, after a short header (destination masked, status, duration, summary)."),
		mcp.WithTemplateMIMEType("text/plain"),
	), r.readTranscript)
	r.registerRecording(s)
	r.registerCampaigns(s)
	hooks.AddAfterListResources(r.listRecent)
	hooks.AddAfterSubscribe(r.watches.subscribeLegacy)
	hooks.AddAfterUnsubscribe(r.watches.unsubscribeLegacy)
	hooks.AddOnUnregisterSession(r.watches.sessionGone)
	hooks.AddBeforeSubscriptionsListen(r.watches.listen)
}

// key returns this request's tenant credential (tenant.Credential): its
// key and, under --oauth-issuer, its person; "" when there is no key.
func (r *Resources) key(ctx context.Context) string {
	k := tenant.KeyFrom(ctx)
	if k == "" {
		k = r.deps.ServerKey
	}
	if k == "" {
		return ""
	}
	p, _ := tenant.PersonFrom(ctx)
	return tenant.Credential(k, p.ID)
}

func (r *Resources) clientFor(ctx context.Context) (*client.Client, error) {
	return r.clientForKey(r.key(ctx))
}

// clientForKey returns the API client of a tenant credential, narrowed to
// its person's calls under --oauth-issuer.
func (r *Resources) clientForKey(cred string) (*client.Client, error) {
	if cred == "" {
		return nil, errors.New("no API key is available for this request: send Authorization: Bearer bys_ak_... or start the server with BYS_API_KEY")
	}
	return people.Client(r.deps.Client, r.deps.People, cred)
}

// ParseURI returns the call id of a bys://calls/ URI and whether it names
// the transcript.
func ParseURI(uri string) (callID string, transcript bool, ok bool) {
	return parseURI(uri, Prefix, "/transcript", func(id string) bool { return id != "" && !strings.ContainsAny(id, "/?#") })
}

// parseURI returns the id that uri names under prefix and whether uri ends
// with suffix (which is not part of the id); ok is false when uri is not
// under prefix or valid refuses the id.
func parseURI(uri, prefix, suffix string, valid func(id string) bool) (id string, suffixed bool, ok bool) {
	rest, found := strings.CutPrefix(uri, prefix)
	if !found {
		return "", false, false
	}
	if cut, yes := strings.CutSuffix(rest, suffix); yes {
		rest, suffixed = cut, true
	}
	if !valid(rest) {
		return "", false, false
	}
	return rest, suffixed, true
}

func (r *Resources) fetch(ctx context.Context, uri string) (*client.Call, error) {
	id, _, ok := ParseURI(uri)
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a call URI; use bys://calls/{callId}", server.ErrResourceNotFound, uri)
	}
	c, err := r.clientFor(ctx)
	if err != nil {
		return nil, err
	}
	call, err := c.GetCall(ctx, id)
	if err != nil {
		if client.IsNotFound(err) {
			return nil, fmt.Errorf("%w: no call %s exists for this API key (list_calls shows recent calls)", server.ErrResourceNotFound, id)
		}
		return nil, fmt.Errorf("reading call %s: %s", id, describe(err))
	}
	return call, nil
}

func describe(err error) string {
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("the API answered %d %s", apiErr.HTTPStatus, apiErr.Token)
	}
	var tErr *client.TransportError
	if errors.As(err, &tErr) {
		return "the API did not answer (" + tErr.Token + "); retry shortly"
	}
	return err.Error()
}

func (r *Resources) readRecord(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	call, err := r.fetch(ctx, req.Params.URI)
	if err != nil {
		return nil, err
	}
	fields, err := outcome.Present(call).Fields()
	if err != nil {
		return nil, err
	}
	body, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		return nil, err
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/json", Text: string(body)}}, nil
}

func (r *Resources) readTranscript(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	call, err := r.fetch(ctx, req.Params.URI)
	if err != nil {
		return nil, err
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: TranscriptText(call)}}, nil
}

// TranscriptText renders a call's transcript with a short header.
func TranscriptText(call *client.Call) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Call %s to %s\nStatus: %s\n", call.ID, safety.MaskNumber(call.To), call.Status)
	if call.DurationSec != nil {
		fmt.Fprintf(&b, "Duration: %gs\n", *call.DurationSec)
	}
	if call.Summary != nil && *call.Summary != "" {
		fmt.Fprintf(&b, "Summary: %s\n", *call.Summary)
	}
	b.WriteString("\n")
	if call.Transcript != nil && *call.Transcript != "" {
		b.WriteString(*call.Transcript)
		b.WriteString("\n")
	} else {
		b.WriteString("(no transcript yet)\n")
	}
	return b.String()
}

// listRecent fills resources/list with the most recent calls of this
// request's key.
func (r *Resources) listRecent(ctx context.Context, _ any, _ *mcp.ListResourcesRequest, result *mcp.ListResourcesResult) {
	calls, err := r.recent(ctx)
	if err != nil {
		r.deps.Log.WithError(err).Debug("resources/list: could not list recent calls")
		return
	}
	for _, call := range calls {
		name := fmt.Sprintf("Call to %s (%s)", safety.MaskNumber(call.To), call.Status)
		res := mcp.NewResource(Prefix+call.ID, name,
			mcp.WithResourceDescription(truncate(call.Objective, 200)),
			mcp.WithMIMEType("application/json"))
		result.Resources = append(result.Resources, res)
	}
}

func (r *Resources) recent(ctx context.Context) ([]*client.Call, error) {
	c, err := r.clientFor(ctx)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.ListCalls(ctx, &client.ListOptions{Limit: ListLimit})
}

// CompleteResourceArgument completes callId from the key's recent calls.
func (r *Resources) CompleteResourceArgument(ctx context.Context, uri string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	if arg.Name != "callId" || (uri != RecordTemplate && uri != TranscriptTemplate && uri != RecordingTemplate) {
		return &mcp.Completion{Values: []string{}}, nil
	}
	return r.CompleteCallID(ctx, arg.Value)
}

// CompleteCallID lists recent call ids that start with prefix.
func (r *Resources) CompleteCallID(ctx context.Context, prefix string) (*mcp.Completion, error) {
	calls, err := r.recent(ctx)
	if err != nil {
		return &mcp.Completion{Values: []string{}}, nil
	}
	values := []string{}
	for _, c := range calls {
		if strings.HasPrefix(c.ID, prefix) {
			values = append(values, c.ID)
		}
	}
	return &mcp.Completion{Values: values, Total: len(values)}, nil
}

// RecentDestinations lists the distinct destinations of recent calls that
// start with prefix (for prompt argument completion).
func (r *Resources) RecentDestinations(ctx context.Context, prefix string) []string {
	calls, err := r.recent(ctx)
	values := []string{}
	if err != nil {
		return values
	}
	seen := map[string]bool{}
	for _, c := range calls {
		if !seen[c.To] && strings.HasPrefix(c.To, prefix) {
			seen[c.To] = true
			values = append(values, c.To)
		}
	}
	return values
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
