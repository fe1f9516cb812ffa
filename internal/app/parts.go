package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/inproc"
	"github.com/byourside/bys-mcp/internal/mcpserver"
	"github.com/byourside/bys-mcp/internal/metrics"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/recordings"
	"github.com/byourside/bys-mcp/internal/resources"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/webhook"
	"github.com/byourside/bys-mcp/schema"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/server"
)

// The parts of the process, in the order New builds them. Each sets its
// fields of the App and reads those of the parts before it.

func (a *App) httpMode() bool { return a.Config.Transport == "sse" || a.Config.Transport == "http" }

// buildMetrics: Prometheus metrics, for the HTTP transports only.
func (a *App) buildMetrics() error {
	if a.httpMode() {
		a.Metrics = metrics.New()
	}
	return nil
}

// buildClient: the API client, against the real API or the embedded
// sandbox (served in process, without a socket).
func (a *App) buildClient() error {
	cfg, opts := a.Config, a.opts
	co := client.Options{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Timeout: cfg.RequestTimeout, HTTPClient: opts.HTTPClient, Clock: a.Clock}
	a.serverKey = cfg.APIKey
	if cfg.Sandbox {
		sbOpts := opts.SandboxOptions
		if sbOpts.Clock == nil {
			sbOpts.Clock = a.Clock
		}
		a.Sandbox = sandbox.New(sbOpts)
		co.BaseURL = "http://sandbox.invalid"
		co.HTTPClient = &http.Client{Transport: inproc.Transport{Handler: a.Sandbox}}
		if a.serverKey == "" {
			a.serverKey = SandboxKey
		}
		co.APIKey = a.serverKey
	}
	if a.Metrics != nil {
		co.Observer = a.Metrics.APIRequest
	}
	if opts.WrapTransport != nil {
		var base http.RoundTripper = http.DefaultTransport
		if co.HTTPClient != nil && co.HTTPClient.Transport != nil {
			base = co.HTTPClient.Transport
		}
		co.HTTPClient = &http.Client{Transport: opts.WrapTransport(base)}
	}
	if cfg.OAuth {
		// A 401 from the API revokes the grants of the key at once.
		co.HTTPClient = watchRefusals(co.HTTPClient, func(ctx context.Context, key string) {
			if s := a.refused.Load(); s != nil {
				s.KeyRefused(ctx, key)
			}
		})
	}
	c, err := client.New(co)
	a.client = c
	return err
}

// buildStore: the state store, Redis with --state-url, else the local
// database (or memory).
func (a *App) buildStore() error {
	if a.Config.StateURL == "" {
		a.Store = localStore(a.Config.StateDir, a.Log, a.Clock)
		return nil
	}
	rs, err := state.NewRedis(context.Background(), a.Config.StateURL, state.RedisOptions{})
	if err != nil {
		return fmt.Errorf("--state-url: %w", err)
	}
	a.Store = rs
	return nil
}

// buildAudit: the audit trail (--audit-log).
func (a *App) buildAudit() error {
	audit, err := safety.NewAudit(a.Log, a.Config.AuditLog)
	if err != nil {
		return fmt.Errorf("--audit-log: %w", err)
	}
	audit.Clock = a.Clock
	a.Audit = audit
	return nil
}

// buildDoNotCall: the do-not-call list in the store, with the operator's
// file.
func (a *App) buildDoNotCall() error {
	l, err := doNotCallList(a.Config, a.Log, a.Store, a.Clock)
	if err != nil {
		return err
	}
	if a.Metrics != nil {
		l.OnAdd = func(e dnc.Entry) { a.Metrics.DoNotCallListed(e.Source) }
	}
	l.Once = a.Store.UseOnce // replicas that see one call end report its listing once
	a.DoNotCall = l
	return nil
}

// buildFollow: the hub of call followers, one per (key, call), shared by
// replicas on one Redis.
func (a *App) buildFollow() error {
	a.poll = tools.DefaultPollSchedule
	if a.opts.Poll != nil {
		a.poll = *a.opts.Poll
	}
	o := follow.Options{Poll: a.poll.Next, Log: a.Log, Clock: a.Clock}
	if a.Metrics != nil {
		o.Active = a.Metrics.FollowersActive
	}
	if a.Config.StateURL != "" {
		if shared, ok := a.Store.(follow.Shared); ok {
			o.Shared = shared
		}
	}
	// Calls seen ended teach the do-not-call list (a.Deps is built before
	// any call is followed).
	o.Ended = func(keyFP string, call *client.Call) { _ = a.Deps.NoteOutcome(keyFP, call) } // a failure is retried before the number is dialled again
	if a.opts.FollowOptions != nil {
		a.opts.FollowOptions(&o)
	}
	a.Follow = follow.New(o)
	return nil
}

// buildWebhooks: the receiver of the API's events (--public-url on sse and
// http).
func (a *App) buildWebhooks() error {
	if a.Config.PublicURL == "" || !a.httpMode() {
		return nil
	}
	o := webhook.Options{PublicURL: a.Config.PublicURL, Hub: a.Follow, Log: a.Log, Clock: a.Clock}
	if a.Config.StateURL != "" {
		if shared, ok := a.Store.(webhook.Shared); ok {
			o.Shared = shared
		}
	}
	if a.Metrics != nil {
		o.Observe = a.Metrics.WebhookEvent
	}
	wh, err := webhook.New(o)
	if err != nil {
		return fmt.Errorf("--public-url: %w", err)
	}
	a.Webhooks = wh
	return nil
}

// buildRecordings: links a person can open to hear a recording
// (--public-url on sse and http).
func (a *App) buildRecordings() error {
	if a.Config.PublicURL == "" || !a.httpMode() {
		return nil
	}
	store, ok := a.Store.(recordings.Store)
	if !ok {
		return errors.New("the state store keeps no records, so recording links cannot be kept")
	}
	rec, err := recordings.New(recordings.Options{PublicURL: a.Config.PublicURL, Client: a.client, Store: store, Clock: a.Clock, Log: a.Log})
	if err != nil {
		return fmt.Errorf("--public-url: %w", err)
	}
	a.Recordings = rec
	return nil
}

// buildTools: what every tool needs (schemas, policy, safety state, the
// clock, the followers).
func (a *App) buildTools() error {
	cfg := a.Config
	limits := schema.Limits{MaxWaitSec: int(cfg.MaxWait / time.Second), MaxListLimit: cfg.MaxListLimit, MaxCampaignCalls: cfg.MaxCampaignCalls}
	schemas, err := schema.Load(limits)
	if err != nil {
		return err
	}
	hours, err := callhours.Parse(cfg.CallingHours, cfg.CallingDays)
	if err != nil {
		return err
	}
	a.Deps = &tools.Deps{
		Client:               a.client,
		ServerKey:            a.serverKey,
		Log:                  a.Log,
		Schemas:              schemas,
		Limits:               limits,
		Policy:               safety.Policy{Allow: cfg.AllowDestinations, Deny: cfg.DenyDestinations},
		Store:                a.Store,
		Audit:                a.Audit,
		DedupeWindow:         cfg.DedupeWindow,
		MaxCallsPerHour:      cfg.MaxCallsPerHour,
		ConfirmCalls:         cfg.ConfirmCalls,
		CallingHours:         hours,
		DefaultRegion:        cfg.DefaultRegion,
		Clock:                a.Clock,
		OutcomeFields:        cfg.OutcomeFields,
		RegionalRules:        cfg.CallingRules == config.CallingRulesRegional,
		DoNotCall:            a.DoNotCall,
		CallsPerNumber:       cfg.CallsPerNumber,
		CallsPerNumberPeriod: cfg.CallsPerNumberPeriod,
		Poll:                 a.poll,
		Follow:               a.Follow,
		ProgressInterval:     a.opts.ProgressInterval,
	}
	if a.Webhooks != nil {
		a.Deps.Webhooks = a.Webhooks
	}
	if a.Recordings != nil {
		a.Deps.RecordingLinks = a.Recordings
	}
	if a.Metrics != nil {
		a.Deps.Metrics = a.Metrics
	}
	if cfg.OAuthIssuer != "" {
		records, ok := a.Store.(state.Records)
		if !ok {
			return errors.New("the state store keeps no records, so whose calls are whose cannot be kept")
		}
		a.People = people.New(records, a.Log)
		a.Deps.People = a.People
	}
	return nil
}

// buildCampaigns: the campaign runners, where calls may be placed; they
// also continue the campaigns a stopped process left in the store.
func (a *App) buildCampaigns() error {
	if a.Config.ReadOnly {
		return nil
	}
	records, ok := a.Store.(state.Records)
	if !ok {
		return errors.New("the state store keeps no campaign records")
	}
	a.Campaigns = tools.NewCampaignManager(a.Deps, records, a.opts.Campaigns)
	a.Deps.Campaigns = a.Campaigns
	a.Campaigns.Start()
	return nil
}

// buildServer: the MCP server with its tools, resources, prompts and
// tasks.
func (a *App) buildServer() error {
	resDeps := resources.Deps{Client: a.client, ServerKey: a.serverKey, People: a.People, Log: a.Log, Poll: a.poll.Next, Follow: a.Follow, RecordingLinks: a.Recordings != nil}
	if a.Campaigns != nil {
		resDeps.Campaigns = a.Campaigns
	}
	taskOpts := &mcpserver.TaskOptions{MaxTTL: a.Config.TaskMaxTTL}
	if a.opts.TaskOptions != nil {
		a.opts.TaskOptions(taskOpts)
	}
	var observe tools.ToolObserver
	if a.Metrics != nil {
		observe = a.Metrics.ToolCall
	}
	a.Server = mcpserver.New(mcpserver.Options{
		Resources:     resources.New(resDeps),
		Tasks:         taskOpts,
		Version:       client.Version,
		Deps:          a.Deps,
		ReadOnly:      a.Config.ReadOnly,
		Log:           a.Log,
		ToolObserver:  observe,
		ServerOptions: []server.ServerOption{server.WithElicitation()},
		ReplicaID:     a.Config.ReplicaID,
	})
	return nil
}

// buildOAuth: the authorization server of --oauth, or the resource server
// of --oauth-issuer, last: they need the store, the API client and the MCP
// server's write tools.
func (a *App) buildOAuth() error {
	if a.Config.OAuthIssuer != "" {
		r, err := newIssuer(a.Config, a.Log, a)
		a.Issuer = r
		return err
	}
	if !a.Config.OAuth {
		return nil
	}
	s, err := newOAuth(a.Config, a.Log, a, a.client, a.serverKey)
	if err != nil {
		return err
	}
	a.OAuth = s
	a.refused.Store(s)
	return nil
}
