// Package config owns bys-mcp's start-up configuration: the command-line
// flags, the environment variables that back them, their defaults, and the
// checks that turn a bad configuration into one clear sentence before the
// server starts.
//
// Values come from a flag given on the command line, else from its
// environment variable when that is set to a non-empty value, else from the
// default. The API key is read from BYS_API_KEY only, so that it never shows
// in the process list. Every other package receives the values it needs from
// main; none of them reads the environment itself.
//
// Secrets (the API key, the shared auth token and the state URL's password)
// never appear in what this package prints or returns: String, fmt's verbs,
// JSON encoding, and every error message redact them.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
)

// Environment variable names. Each flag's variable is listed in Usage.
const (
	EnvAPIKey = "BYS_API_KEY"
)

// Defaults, as listed in the interface contract.
const (
	DefaultTransport        = "stdio"
	DefaultAddr             = "127.0.0.1:8080"
	DefaultBaseURL          = "https://api.byourside.ai"
	DefaultLogLevel         = "info"
	DefaultLogFormat        = "text"
	DefaultMaxWait          = 5 * time.Minute
	DefaultMaxListLimit     = 100
	DefaultMaxCampaignCalls = 50
	DefaultDedupeWindow     = 10 * time.Minute
	DefaultRegion           = "US"
	DefaultConfirmCalls     = "auto"
	DefaultTaskMaxTTL       = 30 * time.Minute
	DefaultRequestTimeout   = 15 * time.Second
	DefaultMaxBodyBytes     = 1 << 20
	DefaultMaxSessions      = 1000
	// DefaultMaxCallsPerNumber is --max-calls-per-number's default: three
	// calls to one number per key in 24 hours (as Florida and Oklahoma
	// allow on one subject).
	DefaultMaxCallsPerNumber = "3/24h"
	// APIKeyPrefix is how every By Your Side agent key starts.
	APIKeyPrefix = "bys_ak_"
)

// Transports accepted by --transport.
const (
	TransportStdio = "stdio"
	TransportSSE   = "sse"
	TransportHTTP  = "http"
)

// Modes accepted by --calling-rules.
const (
	CallingRulesWindow   = "window"
	CallingRulesRegional = "regional"
)

// Modes accepted by --confirm-calls.
const (
	ConfirmAuto   = "auto"
	ConfirmAlways = "always"
	ConfirmNever  = "never"
)

// Config is the whole start-up configuration of the bys-mcp server.
//
// Its String, GoString, Format and MarshalJSON methods redact the secrets,
// so a Config (or a *Config) can be logged as it is.
type Config struct {
	Transport string // --transport / BYS_MCP_TRANSPORT: stdio, sse or http
	Addr      string // --addr / BYS_MCP_ADDR: listen address for sse and http
	BaseURL   string // --base-url / BYS_BASE_URL: By Your Side API base URL
	APIKey    string // BYS_API_KEY only (never a flag): the server's agent key, bys_ak_...
	Sandbox   bool   // --sandbox / BYS_SANDBOX: serve against the embedded simulator
	LogLevel  string // --log-level / BYS_LOG_LEVEL: a logrus level name, lower case
	LogFormat string // --log-format / BYS_LOG_FORMAT: text or json

	AuthToken         string   // --auth-token / BYS_MCP_AUTH_TOKEN: shared bearer secret for HTTP clients
	RequireClientKeys bool     // --require-client-keys / BYS_MCP_REQUIRE_CLIENT_KEYS: every HTTP client brings its own key
	AllowedOrigins    []string // --allowed-origins / BYS_MCP_ALLOWED_ORIGINS: extra Origin values accepted
	AllowedHosts      []string // --allowed-hosts / BYS_MCP_ALLOWED_HOSTS: extra Host names accepted
	PublicURL         string   // --public-url / BYS_MCP_PUBLIC_URL: where the API reaches this server's webhook receiver, and people its recording links

	// OAuth is --oauth / BYS_MCP_OAUTH: the server is its own OAuth 2.1
	// authorization server, and remote hosts sign in on a consent page
	// with a By Your Side agent key (http transport, with --public-url).
	OAuth bool
	// OAuthSecretFile is --oauth-secret-file / BYS_MCP_OAUTH_SECRET_FILE: a
	// file of at least 32 random bytes that seals the keys of grants;
	// without it one is generated into the state directory.
	OAuthSecretFile string
	// OAuthIssuer is --oauth-issuer / BYS_MCP_OAUTH_ISSUER: the issuer of
	// a team's own identity provider. The server is then a resource server
	// only: it takes JWT access tokens that issuer signs for
	// {public-url}/mcp, places calls with BYS_API_KEY, and keeps each
	// person's (the token's sub) calls and campaigns apart (http
	// transport, with --public-url; not with --oauth, --auth-token or
	// --require-client-keys).
	OAuthIssuer string

	MaxWait      time.Duration // --max-wait / BYS_MAX_WAIT: largest timeoutSec of wait_for_call
	MaxListLimit int           // --max-list-limit / BYS_MAX_LIST_LIMIT: largest list_calls limit, 1..100
	// MaxCampaignCalls is --max-campaign-calls / BYS_MAX_CAMPAIGN_CALLS: the
	// most calls one place_calls may hold, 1..500.
	MaxCampaignCalls int

	ReadOnly          bool          // --read-only / BYS_READ_ONLY: place_call is not offered
	AllowDestinations []string      // --allow-destinations / BYS_ALLOW_DESTINATIONS: E.164 numbers or prefixes
	DenyDestinations  []string      // --deny-destinations / BYS_DENY_DESTINATIONS: E.164 numbers or prefixes
	MaxCallsPerHour   int           // --max-calls-per-hour / BYS_MAX_CALLS_PER_HOUR: per key; 0 means no limit
	DedupeWindow      time.Duration // --dedupe-window / BYS_DEDUPE_WINDOW: 0 disables deduplication
	ConfirmCalls      string        // --confirm-calls / BYS_CONFIRM_CALLS: auto, always or never
	AuditLog          string        // --audit-log / BYS_AUDIT_LOG: JSON-lines file, one line per placement attempt

	CallingHours  string // --calling-hours / BYS_CALLING_HOURS: HH:MM-HH:MM at the destination, or off
	CallingDays   string // --calling-days / BYS_CALLING_DAYS: days and ranges, e.g. mon-fri,sat
	DefaultRegion string // --default-region / BYS_DEFAULT_REGION: ISO 3166 region national numbers are read in
	CallingRules  string // --calling-rules / BYS_CALLING_RULES: window or regional

	// OutcomeFields is --outcome-fields / BYS_OUTCOME_FIELDS (default on):
	// every placed call asks for the reserved outcome fields.
	OutcomeFields bool
	DoNotCallFile string // --do-not-call-file / BYS_DO_NOT_CALL_FILE: operator's numbers, one E.164 per line
	// MaxCallsPerNumber is --max-calls-per-number / BYS_MAX_CALLS_PER_NUMBER:
	// "N/DURATION" or "off"; Validate fills CallsPerNumber and
	// CallsPerNumberPeriod from it.
	MaxCallsPerNumber    string
	CallsPerNumber       int           // from MaxCallsPerNumber; 0 means no cap
	CallsPerNumberPeriod time.Duration // from MaxCallsPerNumber

	TaskMaxTTL time.Duration // --task-max-ttl / BYS_TASK_MAX_TTL: longest life of a wait_for_call task
	StateURL   string        // --state-url / BYS_STATE_URL: redis:// or rediss:// URL of shared state
	// StateDir is --state-dir / BYS_STATE_DIR: the directory of the local
	// state database, or StateDirMemory to keep state in the process. Load
	// fills in the user's state directory (DefaultStateDir) when neither is
	// given; empty (as in Defaults, or when no home directory is known)
	// means in-process memory. Ignored when StateURL is set.
	StateDir       string
	RequestTimeout time.Duration // --request-timeout / BYS_REQUEST_TIMEOUT: per API request
	MaxBodyBytes   int64         // --max-body-bytes / BYS_MCP_MAX_BODY_BYTES: cap on HTTP request bodies
	MaxSessions    int           // --max-sessions / BYS_MCP_MAX_SESSIONS: cap on concurrent HTTP sessions
	// ReplicaID is --replica-id / BYS_MCP_REPLICA_ID: this replica's name
	// in the 2025-11-25 session ids it issues (bys-ID-...), so that a load
	// balancer can send a session back to the replica that opened it.
	ReplicaID string

	ShowVersion bool // --version: print the version and exit
}

// Defaults returns a Config holding every default value and no API key.
func Defaults() *Config {
	return &Config{
		Transport:            DefaultTransport,
		Addr:                 DefaultAddr,
		BaseURL:              DefaultBaseURL,
		LogLevel:             DefaultLogLevel,
		LogFormat:            DefaultLogFormat,
		MaxWait:              DefaultMaxWait,
		MaxListLimit:         DefaultMaxListLimit,
		MaxCampaignCalls:     DefaultMaxCampaignCalls,
		DedupeWindow:         DefaultDedupeWindow,
		CallingHours:         callhours.DefaultHours,
		CallingDays:          callhours.DefaultDays,
		DefaultRegion:        DefaultRegion,
		CallingRules:         CallingRulesWindow,
		OutcomeFields:        true,
		MaxCallsPerNumber:    DefaultMaxCallsPerNumber,
		CallsPerNumber:       3,
		CallsPerNumberPeriod: 24 * time.Hour,
		ConfirmCalls:         DefaultConfirmCalls,
		TaskMaxTTL:           DefaultTaskMaxTTL,
		RequestTimeout:       DefaultRequestTimeout,
		MaxBodyBytes:         DefaultMaxBodyBytes,
		MaxSessions:          DefaultMaxSessions,
	}
}

// mainOptions lists the server's options, in the order Usage shows them,
// bound to the fields of c.
func mainOptions(c *Config) []option {
	opts := []option{
		{group: "Serving", name: "transport", env: "BYS_MCP_TRANSPORT", def: DefaultTransport,
			usage: "stdio (JSON-RPC on stdin/stdout), sse (HTTP+SSE at /sse) or http (Streamable HTTP at /mcp)",
			value: &stringValue{p: &c.Transport, lower: true}},
		{group: "Serving", name: "addr", env: "BYS_MCP_ADDR", def: DefaultAddr,
			usage: "listen address (host:port) for the sse and http transports",
			value: &stringValue{p: &c.Addr}},
		{group: "Serving", name: "sandbox", env: "BYS_SANDBOX", def: "off",
			usage: "serve against the embedded By Your Side simulator instead of the real API; no key needed",
			value: &boolValue{p: &c.Sandbox}},
		{group: "Serving", name: "base-url", env: "BYS_BASE_URL", def: DefaultBaseURL,
			usage: "By Your Side API base URL; plain http:// only for 127.0.0.1, ::1 or localhost",
			value: &stringValue{p: &c.BaseURL}},
		{group: "Serving", name: "request-timeout", env: "BYS_REQUEST_TIMEOUT", def: "15s",
			usage: "time limit of each request to the API",
			value: &durationValue{p: &c.RequestTimeout}},

		{group: "HTTP authentication and limits (sse and http transports)", name: "auth-token", env: "BYS_MCP_AUTH_TOKEN", def: "none", secret: true,
			usage: "shared secret (16 characters or more) that every request must send as Authorization: Bearer <token>; the server's BYS_API_KEY is then used",
			value: &stringValue{p: &c.AuthToken}},
		{group: "HTTP authentication and limits (sse and http transports)", name: "require-client-keys", env: "BYS_MCP_REQUIRE_CLIENT_KEYS", def: "off",
			usage: "every request must send its own Authorization: Bearer bys_ak_... key; there is no fallback key",
			value: &boolValue{p: &c.RequireClientKeys}},
		{group: "HTTP authentication and limits (sse and http transports)", name: "allowed-origins", env: "BYS_MCP_ALLOWED_ORIGINS", def: "loopback origins only",
			usage: "comma-separated extra Origin values accepted, such as https://app.example.com",
			value: &listValue{p: &c.AllowedOrigins}},
		{group: "HTTP authentication and limits (sse and http transports)", name: "allowed-hosts", env: "BYS_MCP_ALLOWED_HOSTS", def: "loopback names only",
			usage: "comma-separated extra Host names accepted, such as mcp.example.com",
			value: &listValue{p: &c.AllowedHosts}},
		{group: "HTTP authentication and limits (sse and http transports)", name: "public-url", env: "BYS_MCP_PUBLIC_URL", def: "none (calls are polled)",
			usage: "this server's public origin, such as https://mcp.example.com (http:// only on a loopback host): calls placed without a webhookUrl get {public-url}/webhooks/bys/{token}, whose events wake their waiters; results of ended calls add recordingLink, {public-url}/recordings/{token}, which a person can open for 1 hour to listen",
			value: &stringValue{p: &c.PublicURL}},
		{group: "Remote connectors (OAuth 2.1)", name: "oauth", env: "BYS_MCP_OAUTH", def: "off",
			usage: "sign in remote hosts (claude.ai, ChatGPT, VS Code, Cursor, Claude Code) with OAuth 2.1: the server is its own authorization server, and each person pastes their agent key once on a consent page; http transport only, needs --public-url, not with --auth-token or --require-client-keys; allows a non-loopback --addr",
			value: &boolValue{p: &c.OAuth}},
		{group: "Remote connectors (OAuth 2.1)", name: "oauth-secret-file", env: "BYS_MCP_OAUTH_SECRET_FILE", def: "generated once into --state-dir (mode 0600)",
			usage: "file of at least 32 random bytes (openssl rand -hex 32) that encrypts the agent keys of sign-ins; required with --state-url, the same file on every replica",
			value: &stringValue{p: &c.OAuthSecretFile}},
		{group: "Remote connectors (OAuth 2.1)", name: "oauth-issuer", env: "BYS_MCP_OAUTH_ISSUER", def: "none",
			usage: "the issuer URL of your team's own identity provider (such as https://login.example.com): remote hosts sign in there, and the server takes the JWT access tokens it signs for {public-url}/mcp (scopes calls:read, calls:write), places calls with BYS_API_KEY and shows each person (the token's sub) only the calls and campaigns they started; http transport only, needs --public-url and BYS_API_KEY, not with --oauth, --auth-token or --require-client-keys; allows a non-loopback --addr",
			value: &stringValue{p: &c.OAuthIssuer}},

		{group: "HTTP authentication and limits (sse and http transports)", name: "max-body-bytes", env: "BYS_MCP_MAX_BODY_BYTES", def: "1048576 (1 MiB)",
			usage: "largest HTTP request body accepted, in bytes",
			value: &int64Value{p: &c.MaxBodyBytes}},
		{group: "HTTP authentication and limits (sse and http transports)", name: "max-sessions", env: "BYS_MCP_MAX_SESSIONS", def: "1000",
			usage: "largest number of concurrent HTTP sessions",
			value: &intValue{p: &c.MaxSessions}},

		{group: "Safety", name: "read-only", env: "BYS_READ_ONLY", def: "off",
			usage: "do not offer place_call at all",
			value: &boolValue{p: &c.ReadOnly}},
		{group: "Safety", name: "allow-destinations", env: "BYS_ALLOW_DESTINATIONS", def: "none",
			usage: "comma-separated E.164 numbers or prefixes (+1415,+442071234567); any other destination is refused",
			value: &listValue{p: &c.AllowDestinations}},
		{group: "Safety", name: "deny-destinations", env: "BYS_DENY_DESTINATIONS", def: "none",
			usage: "comma-separated E.164 numbers or prefixes that are refused (deny wins over allow)",
			value: &listValue{p: &c.DenyDestinations}},
		{group: "Safety", name: "max-calls-per-hour", env: "BYS_MAX_CALLS_PER_HOUR", def: "0 (no limit)",
			usage: "calls each key may place in a rolling hour",
			value: &intValue{p: &c.MaxCallsPerHour}},
		{group: "Safety", name: "dedupe-window", env: "BYS_DEDUPE_WINDOW", def: "10m",
			usage: "an identical place_call within this Go duration returns the existing call; 0 disables",
			value: &durationValue{p: &c.DedupeWindow}},
		{group: "Safety", name: "confirm-calls", env: "BYS_CONFIRM_CALLS", def: DefaultConfirmCalls,
			usage: "auto, always or never: ask the user through MCP elicitation before dialing",
			value: &stringValue{p: &c.ConfirmCalls, lower: true}},
		{group: "Safety", name: "audit-log", env: "BYS_AUDIT_LOG", def: "none",
			usage: "append one JSON line per placement attempt to this file (created with mode 0600)",
			value: &stringValue{p: &c.AuditLog}},
		{group: "Safety", name: "calling-hours", env: "BYS_CALLING_HOURS", def: callhours.DefaultHours,
			usage: "HH:MM-HH:MM in the destination's local time when calls may ring (a start after the end crosses midnight), or off",
			value: &stringValue{p: &c.CallingHours, lower: true}},
		{group: "Safety", name: "calling-days", env: "BYS_CALLING_DAYS", def: callhours.DefaultDays,
			usage: "days of the week calls may ring, at the destination: days and ranges such as mon-fri,sat",
			value: &stringValue{p: &c.CallingDays, lower: true}},
		{group: "Safety", name: "default-region", env: "BYS_DEFAULT_REGION", def: DefaultRegion,
			usage: "ISO 3166 region whose national numbers, such as (415) 555-0123, get an E.164 suggestion",
			value: &stringValue{p: &c.DefaultRegion}},

		{group: "Respect for the person called", name: "outcome-fields", env: "BYS_OUTCOME_FIELDS", def: "on",
			usage: "ask every placed call for the reserved fields bys_do_not_call, bys_callback_at and bys_reached (as many as fit in 20); off sends the agent's fields only",
			value: &boolValue{p: &c.OutcomeFields}},
		{group: "Respect for the person called", name: "do-not-call-file", env: "BYS_DO_NOT_CALL_FILE", def: "none",
			usage: "file of numbers never to call, one E.164 number per line (# comments), for every key; read again when it changes",
			value: &stringValue{p: &c.DoNotCallFile}},
		{group: "Respect for the person called", name: "max-calls-per-number", env: "BYS_MAX_CALLS_PER_NUMBER", def: DefaultMaxCallsPerNumber,
			usage: "calls each key may dial to one number in a rolling period, as N/DURATION (3/24h, 1/1h), or off",
			value: &stringValue{p: &c.MaxCallsPerNumber, lower: true}},
		{group: "Respect for the person called", name: "calling-rules", env: "BYS_CALLING_RULES", def: CallingRulesWindow,
			usage: "window (only --calling-hours and --calling-days) or regional (also the published rules of the destination's place, where stricter)",
			value: &stringValue{p: &c.CallingRules, lower: true}},

		{group: "Tools and tasks", name: "max-wait", env: "BYS_MAX_WAIT", def: "5m",
			usage: "largest timeoutSec that wait_for_call accepts (1s to 24h)",
			value: &durationValue{p: &c.MaxWait}},
		{group: "Tools and tasks", name: "max-list-limit", env: "BYS_MAX_LIST_LIMIT", def: "100",
			usage: "largest limit that list_calls accepts (1 to 100)",
			value: &intValue{p: &c.MaxListLimit}},
		{group: "Tools and tasks", name: "max-campaign-calls", env: "BYS_MAX_CAMPAIGN_CALLS", def: "50",
			usage: "most calls that one place_calls campaign may hold (1 to 500)",
			value: &intValue{p: &c.MaxCampaignCalls}},
		{group: "Tools and tasks", name: "task-max-ttl", env: "BYS_TASK_MAX_TTL", def: "30m",
			usage: "longest time a task-augmented wait_for_call may run (1m or more)",
			value: &durationValue{p: &c.TaskMaxTTL}},

		{group: "Several replicas", name: "state-url", env: "BYS_STATE_URL", def: "none (in-process memory)", secret: true,
			usage: "redis://[user:pass@]host:port[/db] or rediss://...: share dedupe entries and call budgets between replicas",
			value: &stringValue{p: &c.StateURL}},

		{group: "Several replicas", name: "replica-id", env: "BYS_MCP_REPLICA_ID", def: "none",
			usage: "this replica's name (letters, digits, . or _; such as its port) in the 2025-11-25 session ids it issues, bys-ID-..., so that a load balancer can route a session back to it by its Mcp-Session-Id prefix (http transport)",
			value: &stringValue{p: &c.ReplicaID}},

		{group: "Several replicas", name: "state-dir", env: "BYS_STATE_DIR", def: "the user's state directory: $XDG_STATE_HOME/bys-mcp, else ~/.local/state/bys-mcp",
			usage: "directory of the local state database (dedupe entries, budgets, campaigns), kept across restarts and shared by the processes of this machine; memory keeps state in the process; unused with --state-url",
			value: &stringValue{p: &c.StateDir}},
	}
	const logging = "Logging (always to stderr)"
	opts = append(opts, logOptions(logging, &c.LogLevel, &c.LogFormat)...)
	return append(opts, option{group: logging, name: "version", def: "",
		usage: "print the version and exit",
		value: &boolValue{p: &c.ShowVersion}})
}

// logOptions are --log-level and --log-format, shown under group, bound to
// level and format (the server and bys-mcp sandbox share them).
func logOptions(group string, level, format *string) []option {
	return []option{
		{group: group, name: "log-level", env: "BYS_LOG_LEVEL", def: DefaultLogLevel,
			usage: "panic, fatal, error, warn, info, debug or trace",
			value: &stringValue{p: level, lower: true}},
		{group: group, name: "log-format", env: "BYS_LOG_FORMAT", def: DefaultLogFormat,
			usage: "text or json",
			value: &stringValue{p: format, lower: true}},
	}
}

// Load builds the configuration from args (the command line without the
// program name) and from the environment, read through getenv (os.Getenv in
// main, a map in tests). For each option, a flag given on the command line
// wins over its environment variable when that is set to a non-empty value,
// which wins over the default. BYS_API_KEY is read from the environment only.
//
// When -h, --help or the word help is given, Load prints the usage to
// usageOut and returns flag.ErrHelp. Other errors are one sentence, with any
// secret redacted, fit for one line on stderr. Load does not call Validate.
// A nil getenv reads nothing; a nil usageOut discards the usage.
func Load(args []string, getenv func(string) string, usageOut io.Writer) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := Defaults()
	c.APIKey = strings.TrimSpace(getenv(EnvAPIKey))
	opts := mainOptions(c)
	err := parseOptions("bys-mcp", args, getenv, opts, Usage, usageOut)
	// Redact the secrets known so far (environment and flags alike).
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return nil, redactError(err, c.secrets(getenv)...)
	}
	if err != nil {
		return nil, err
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir(getenv, runtime.GOOS)
	}
	return c, nil
}

// StateDirMemory is the --state-dir value that keeps state in the process.
const StateDirMemory = "memory"

// DefaultStateDir is the user's state directory for bys-mcp on goos, read
// through getenv: $XDG_STATE_HOME/bys-mcp when that is set (any Unix),
// ~/Library/Application Support/bys-mcp on macOS, %LocalAppData%\bys-mcp on
// Windows, else ~/.local/state/bys-mcp. It is "" when no home directory is
// known (the state then stays in the process).
func DefaultStateDir(getenv func(string) string, goos string) string {
	const name = "bys-mcp"
	if goos == "windows" {
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, name)
		}
		return ""
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, name)
	}
	home := getenv("HOME")
	if home == "" || !filepath.IsAbs(home) {
		return ""
	}
	if goos == "darwin" {
		return filepath.Join(home, "Library", "Application Support", name)
	}
	return filepath.Join(home, ".local", "state", name)
}

// secrets lists the secret strings that must never appear in a message.
func (c *Config) secrets(getenv func(string) string) []string {
	s := []string{c.APIKey, c.AuthToken, c.StateURL, statePassword(c.StateURL)}
	if getenv != nil {
		s = append(s, getenv(EnvAPIKey), getenv("BYS_MCP_AUTH_TOKEN"), getenv("BYS_STATE_URL"),
			statePassword(getenv("BYS_STATE_URL")))
	}
	return s
}

// parseOptions parses args into opts, then fills each option whose flag was
// not given from its environment variable.
func parseOptions(name string, args []string, getenv func(string) string, opts []option, usage func(io.Writer), usageOut io.Writer) error {
	if usageOut == nil {
		usageOut = io.Discard
	}
	if err := refuseKeyFlag(args); err != nil {
		return err
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, o := range opts {
		fs.Var(o.value, o.name, o.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(usageOut)
			return flag.ErrHelp
		}
		return fmt.Errorf("%v: run %s --help to see the options", err, name)
	}
	if fs.NArg() > 0 {
		if fs.Arg(0) == "help" {
			usage(usageOut)
			return flag.ErrHelp
		}
		arg := fs.Arg(0)
		if strings.HasPrefix(arg, APIKeyPrefix) || len(arg) > 64 {
			arg = "(redacted)"
		}
		return fmt.Errorf("unexpected argument %q: %s takes flags only (run %s --help to see them)", arg, name, name)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, o := range opts {
		if o.env == "" || given[o.name] {
			continue
		}
		v := getenv(o.env)
		if strings.TrimSpace(v) == "" {
			continue
		}
		if err := o.value.Set(v); err != nil {
			if o.secret {
				return fmt.Errorf("%s is not valid (--%s): %v", o.env, o.name, err)
			}
			return fmt.Errorf("%s=%q is not valid (--%s): %v", o.env, v, o.name, err)
		}
	}
	return nil
}

// refuseKeyFlag explains that the API key is not a flag, rather than letting
// the flag package report an unknown flag (and the key sit in shell history).
func refuseKeyFlag(args []string) error {
	for _, a := range args {
		if a == "--" || !strings.HasPrefix(a, "-") {
			// flag stops at the first non-flag argument too, but a value
			// such as "--addr x" is not a flag name either; checking every
			// dash-prefixed word is enough here.
			if a == "--" {
				return nil
			}
			continue
		}
		n := strings.TrimLeft(a, "-")
		if i := strings.IndexByte(n, '='); i >= 0 {
			n = n[:i]
		}
		switch strings.ToLower(n) {
		case "api-key", "api_key", "apikey", "key", "bys-api-key":
			return errors.New("there is no --api-key flag, so that the key stays out of the process list: export BYS_API_KEY=bys_ak_... instead")
		}
	}
	return nil
}
