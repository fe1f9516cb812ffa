// Package app wires the process together: from a validated configuration it
// builds the logger's companions (audit, metrics), the API client (against
// the real API or the embedded sandbox), the shared state, the tools and the
// MCP server, and serves the chosen transport until it is told to stop.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/mcpserver"
	"github.com/byourside/bys-mcp/internal/metrics"
	"github.com/byourside/bys-mcp/internal/oauth"
	"github.com/byourside/bys-mcp/internal/people"
	"github.com/byourside/bys-mcp/internal/recordings"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/webhook"
	"github.com/byourside/bys-mcp/tools"
	"github.com/sirupsen/logrus"
)

// SandboxKey is the server's own key when it runs against the embedded
// sandbox; clients may still bring their own keys (their own tenants).
const SandboxKey = "bys_ak_sandbox_local"

// App is one configured server process.
type App struct {
	// Clock is the process's one clock (Options.Clock, else the wall clock).
	Clock   clock.Clock
	Config  *config.Config
	Log     *logrus.Logger
	Server  *mcpserver.Server
	Deps    *tools.Deps
	Store   state.Store
	Audit   *safety.Audit
	Metrics *metrics.Metrics
	// Campaigns runs place_calls' campaigns (nil with --read-only).
	Campaigns *campaign.Manager
	// Follow is the hub of call followers: one per (key, call) for the
	// whole process.
	Follow *follow.Hub
	// Webhooks receives the API's events (--public-url on sse and http).
	Webhooks *webhook.Service
	// Recordings makes and serves recording links (--public-url on sse
	// and http).
	Recordings *recordings.Service
	// DoNotCall is the do-not-call list (state store and operator file).
	DoNotCall *dnc.List
	// Sandbox is the embedded simulator when --sandbox is set.
	Sandbox *sandbox.Sandbox
	// OAuth is the authorization server of --oauth (nil without it).
	OAuth *oauth.Server
	// Issuer is the resource server of --oauth-issuer, which takes the
	// team's identity provider's tokens (nil without it).
	Issuer *oauth.Resource
	// People keeps the calls of the server's key apart per signed-in
	// person under --oauth-issuer (nil without it).
	People *people.Book

	// What the parts hand on to the parts after them.
	opts      Options
	client    *client.Client
	serverKey string
	poll      tools.PollSchedule
	// refused is told of the keys the API refuses (--oauth: their grants
	// are revoked at once); set once the authorization server is built.
	refused atomic.Pointer[oauth.Server]
}

// Options adjust what New builds, for tests and the demo.
type Options struct {
	// SandboxOptions configure the embedded sandbox.
	SandboxOptions sandbox.Options
	// Poll overrides wait_for_call's schedule.
	Poll *tools.PollSchedule
	// ProgressInterval overrides how often a wait sends progress at least
	// (default tools.DefaultProgressInterval).
	ProgressInterval time.Duration
	// HTTPClient overrides the API client's HTTP client.
	HTTPClient *http.Client
	// WrapTransport wraps the API client's transport (tests count requests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// FollowOptions adjusts the followers' options (tests).
	FollowOptions func(*follow.Options)
	// TaskOptions adjusts the task options (tests).
	TaskOptions func(*mcpserver.TaskOptions)
	// Campaigns tunes the campaign runners (tests: lease and scan times).
	Campaigns campaign.Options
	// Clock is the one clock of the whole process (calling hours, local
	// times, deadlines, retries, leases, follower schedules, budgets, dedupe
	// windows, tokens, the sandbox's lifecycle); nil is the wall clock.
	// Tests that fake the time set it here, for all of them.
	Clock clock.Clock
}

// New builds the app from a validated configuration: one part after the
// other, each built by its own constructor from what the parts before it
// made (parts.go). A part that fails closes what was built.
func New(cfg *config.Config, log *logrus.Logger, opts Options) (*App, error) {
	a := &App{Config: cfg, Log: log, Clock: clock.Or(opts.Clock), opts: opts}
	parts := []func() error{
		a.buildMetrics,
		a.buildClient,
		a.buildStore,
		a.buildAudit,
		a.buildDoNotCall,
		a.buildFollow,
		a.buildWebhooks,
		a.buildRecordings,
		a.buildTools,
		a.buildCampaigns,
		a.buildServer,
		a.buildOAuth,
	}
	for _, build := range parts {
		if err := build(); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

// newOAuth builds the authorization server of --oauth: its secret (the
// file, else generated into the state directory), the key check (one list
// request with the key) and the write tools of the MCP server.
func newOAuth(cfg *config.Config, log *logrus.Logger, a *App, c *client.Client, serverKey string) (*oauth.Server, error) {
	stateDir := cfg.StateDir
	if cfg.StateURL != "" {
		stateDir = "" // the secret file is required then
	}
	secret, source, err := oauth.LoadSecret(cfg.OAuthSecretFile, stateDir)
	if err != nil {
		return nil, fmt.Errorf("--oauth-secret-file: %w", err)
	}
	sandboxKey := ""
	if cfg.Sandbox {
		sandboxKey = serverKey
	}
	s, err := oauth.New(oauth.Options{
		PublicURL: cfg.PublicURL,
		Store:     a.Store,
		Secret:    secret,
		CheckKey: func(ctx context.Context, key string) error {
			_, err := c.WithAPIKey(key).ListCalls(ctx, &client.ListOptions{Limit: 1})
			var apiErr *client.APIError
			if errors.As(err, &apiErr) && (apiErr.HTTPStatus == http.StatusUnauthorized || apiErr.HTTPStatus == http.StatusForbidden) {
				return oauth.ErrKeyRefused
			}
			return err
		},
		SandboxKey:   sandboxKey,
		IsWriteTool:  a.Server.IsWriteTool,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Clock:        a.Clock,
		Log:          log,
	})
	if err != nil {
		return nil, err
	}
	fields := logrus.Fields{"issuer": s.Issuer(), "resource": s.Resource(), "secret": source}
	if source == oauth.SecretProcessMemory {
		log.WithFields(fields).Warn("oauth: sign-ins last as long as this process (no state directory keeps them)")
	} else {
		log.WithFields(fields).Info("oauth: remote hosts sign in at this server")
	}
	return s, nil
}

// newIssuer builds the resource server of --oauth-issuer: the team's
// identity provider signs people in, its tokens are checked here.
func newIssuer(cfg *config.Config, log *logrus.Logger, a *App) (*oauth.Resource, error) {
	r, err := oauth.NewResource(oauth.ResourceOptions{
		Issuer:       cfg.OAuthIssuer,
		PublicURL:    cfg.PublicURL,
		IsWriteTool:  a.Server.IsWriteTool,
		MaxBodyBytes: cfg.MaxBodyBytes,
		Clock:        a.Clock,
		Log:          log,
	})
	if err != nil {
		return nil, fmt.Errorf("--oauth-issuer: %w", err)
	}
	log.WithFields(logrus.Fields{"issuer": r.Issuer(), "resource": r.Resource()}).Info("oauth-issuer: people sign in at the team's identity provider; the server's key places their calls, each person sees their own")
	return r, nil
}

// watchRefusals is hc (nil: a client like the API client's own, which
// follows no redirect) with its transport wrapped by oauth.WatchRefusals.
func watchRefusals(hc *http.Client, onRefused func(context.Context, string)) *http.Client {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		t.IdleConnTimeout = 90 * time.Second
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Transport: t}
	}
	out := *hc
	out.Transport = oauth.WatchRefusals(hc.Transport, onRefused)
	return &out
}

// doNotCallList is the do-not-call list kept in the state store, with the
// operator's file when --do-not-call-file is set.
func doNotCallList(cfg *config.Config, log *logrus.Logger, store state.Store, c clock.Clock) (*dnc.List, error) {
	records, ok := store.(state.Records)
	if !ok {
		return nil, errors.New("the state store keeps no records, so the do-not-call list cannot be kept")
	}
	var file *dnc.File
	if cfg.DoNotCallFile != "" {
		f, err := dnc.OpenFile(cfg.DoNotCallFile)
		if err != nil {
			return nil, fmt.Errorf("--do-not-call-file: %w", err)
		}
		f.Warn = func(msg string) { log.Warn(msg) }
		file = f
	}
	return dnc.New(records, c, file), nil
}

// localStore is the state store without --state-url: the local database
// under dir (opened on first use), or memory for "" and "memory". Its health
// changes are logged once each, not once per operation.
func localStore(dir string, log *logrus.Logger, c clock.Clock) state.Store {
	if dir == "" || dir == config.StateDirMemory {
		return state.NewMemoryWithClock(c)
	}
	return state.NewFile(dir, state.FileOptions{Clock: c, OnHealth: func(err error) {
		if err != nil {
			log.WithField("state_dir", dir).Errorf("the local state database cannot be used, so placing calls is refused until it can (fail closed): %v", err)
			return
		}
		log.WithField("state_dir", dir).Info("the local state database works again")
	}})
}

// Close releases the app's resources.
func (a *App) Close() {
	if a.Campaigns != nil {
		a.Campaigns.Close()
	}
	if a.Sandbox != nil {
		a.Sandbox.Close()
	}
	if a.Follow != nil {
		a.Follow.Close()
	}
	if a.Store != nil {
		_ = a.Store.Close()
	}
	if a.Audit != nil {
		_ = a.Audit.Close()
	}
}

// Serve runs the configured transport until ctx ends (or stdin closes, for
// stdio). It returns nil on a clean stop.
func (a *App) Serve(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	switch a.Config.Transport {
	case "sse", "http":
		ln, err := net.Listen("tcp", a.Config.Addr)
		if err != nil {
			return fmt.Errorf("listening on --addr %s: %w", a.Config.Addr, err)
		}
		return a.ServeHTTP(ctx, ln)
	default:
		return a.Server.ServeStdio(ctx, stdin, stdout, nil)
	}
}

// HTTPHandler builds the HTTP handler for the configured transport.
func (a *App) HTTPHandler() *mcpserver.HTTPHandler {
	cfg := a.Config
	o := mcpserver.HTTPOptions{
		Transport:         cfg.Transport,
		Loopback:          cfg.IsLoopbackAddr(),
		AuthToken:         cfg.AuthToken,
		RequireClientKeys: cfg.RequireClientKeys,
		HasServerKey:      a.Deps.ServerKey != "" && !cfg.RequireClientKeys,
		AllowedOrigins:    cfg.AllowedOrigins,
		AllowedHosts:      cfg.AllowedHosts,
		MaxBodyBytes:      cfg.MaxBodyBytes,
		MaxSessions:       cfg.MaxSessions,
	}
	if a.Metrics != nil {
		o.Metrics = a.Metrics.Handler()
	}
	if a.Webhooks != nil {
		o.Webhooks, o.PublicHost = a.Webhooks, a.Webhooks.Host()
	}
	if a.Recordings != nil {
		o.Recordings, o.PublicHost = a.Recordings, a.Recordings.Host()
	}
	if cfg.StateURL != "" {
		o.Ready = a.Store.Ping
	}
	if cfg.RequireClientKeys {
		a.Deps.ServerKey = ""
	}
	if a.OAuth != nil {
		// Every request is signed in and served with its grant's key:
		// nothing falls back to the server's own.
		o.OAuth, o.PublicOrigin = a.OAuth, a.OAuth.Issuer()
		o.PublicHost = strings.TrimPrefix(strings.TrimPrefix(a.OAuth.Issuer(), "https://"), "http://")
		a.Deps.ServerKey = ""
	}
	if a.Issuer != nil {
		// Every request is signed in at the team's identity provider and
		// served with the server's key, for its person.
		o.OAuth, o.PublicOrigin = a.Issuer, a.Issuer.PublicOrigin()
		o.PublicHost = strings.TrimPrefix(strings.TrimPrefix(a.Issuer.PublicOrigin(), "https://"), "http://")
	}
	return a.Server.NewHTTPHandler(o)
}

// ServeHTTP serves the HTTP transport on ln until ctx ends, then drains:
// new connections stop at once, in-flight requests get a grace period, and
// waits still running after it are cancelled.
func (a *App) ServeHTTP(ctx context.Context, ln net.Listener) error {
	h := a.HTTPHandler()
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          nil,
	}
	a.Log.WithFields(logrus.Fields{"transport": a.Config.Transport, "addr": ln.Addr().String()}).Info("listening")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining in-flight requests")
	grace, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// New connections stop at once; in-flight tool calls get half the
	// grace period, then they are stopped cleanly (a wait answers with its
	// latest record, saying to call again), and then the transport closes
	// its sessions and streams.
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(grace) }()
	var err error
	select {
	case err = <-shutdown:
	case <-time.After(5 * time.Second):
		a.Server.StopToolCalls()
		time.Sleep(200 * time.Millisecond)
		_ = h.Shutdown(grace)
		err = <-shutdown
	}
	_ = h.Shutdown(grace)
	if err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
