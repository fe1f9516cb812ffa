package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/numbering"
)

// Bounds checked by Validate.
const (
	MinMaxWait        = time.Second
	MaxMaxWait        = 24 * time.Hour
	MinTaskMaxTTL     = time.Minute
	MaxRequestTimeout = 10 * time.Minute
	MinMaxBodyBytes   = 1024
	MinAuthTokenLen   = 16
	maxListLimitCap   = 100
)

// logLevels are the names logrus.ParseLevel accepts.
var logLevels = map[string]bool{
	"panic": true, "fatal": true, "error": true, "warn": true, "warning": true,
	"info": true, "debug": true, "trace": true,
}

// Validate reports the first problem with the configuration as one error
// whose message is one sentence naming the flag or variable to fix, or nil.
// No message contains the API key, the auth token or the state URL's
// password, even when that value is the one at fault.
func (c *Config) Validate() error {
	if err := c.validate(); err != nil {
		return redactError(err, c.secrets(nil)...)
	}
	return nil
}

func (c *Config) validate() error {
	switch c.Transport {
	case TransportStdio, TransportSSE, TransportHTTP:
	default:
		return fmt.Errorf("--transport %q is not valid (BYS_MCP_TRANSPORT): use stdio, sse or http", c.Transport)
	}
	if err := validateLogging(c.LogLevel, c.LogFormat); err != nil {
		return err
	}
	if err := validateBaseURL(c.BaseURL); err != nil {
		return err
	}
	httpTransport := c.Transport == TransportSSE || c.Transport == TransportHTTP
	if c.OAuth && c.Transport != TransportHTTP {
		return fmt.Errorf("--oauth (BYS_MCP_OAUTH) needs --transport http (Streamable HTTP), which remote hosts sign in to; it is not offered on %s", c.Transport)
	}
	if c.OAuthIssuer != "" && c.Transport != TransportHTTP {
		return fmt.Errorf("--oauth-issuer (BYS_MCP_OAUTH_ISSUER) needs --transport http (Streamable HTTP), which remote hosts sign in to; it is not offered on %s", c.Transport)
	}

	// The server's own key.
	if c.APIKey == "" && !c.Sandbox && !httpTransport {
		return errors.New("BYS_API_KEY is not set: export your agent key (bys_ak_...) or run with --sandbox to use the built-in simulator")
	}
	if c.APIKey != "" {
		if !strings.HasPrefix(c.APIKey, APIKeyPrefix) || len(c.APIKey) == len(APIKeyPrefix) {
			return errors.New("BYS_API_KEY does not look like an agent key: it must start with bys_ak_ (check that you exported the agent key and not another secret)")
		}
		if hasSpaceOrControl(c.APIKey) {
			return errors.New("BYS_API_KEY contains spaces or control characters: export the agent key alone, as the dashboard shows it")
		}
	}

	// HTTP listener and its authentication.
	if httpTransport {
		if err := validateListenAddr("--addr", "BYS_MCP_ADDR", c.Addr); err != nil {
			return err
		}
	}
	if c.AuthToken != "" && c.RequireClientKeys {
		return errors.New("--auth-token (BYS_MCP_AUTH_TOKEN) and --require-client-keys (BYS_MCP_REQUIRE_CLIENT_KEYS) cannot be used together: choose one of the two deployments")
	}
	if c.AuthToken != "" {
		if len(c.AuthToken) < MinAuthTokenLen {
			return fmt.Errorf("--auth-token (BYS_MCP_AUTH_TOKEN) is too short: use at least %d characters, such as the output of openssl rand -hex 32", MinAuthTokenLen)
		}
		if hasSpaceOrControl(c.AuthToken) {
			return errors.New("--auth-token (BYS_MCP_AUTH_TOKEN) contains spaces or control characters: use a token made of visible characters, such as the output of openssl rand -hex 32")
		}
		if strings.HasPrefix(c.AuthToken, APIKeyPrefix) {
			return errors.New("--auth-token (BYS_MCP_AUTH_TOKEN) must not be an agent key (bys_ak_...): use a separate random secret, such as the output of openssl rand -hex 32")
		}
		if c.APIKey == "" && !c.Sandbox {
			return errors.New("--auth-token (BYS_MCP_AUTH_TOKEN) needs the server's own BYS_API_KEY, because clients that present the token use that key: export BYS_API_KEY, or use --require-client-keys so that every client brings its own key")
		}
	}
	if err := c.validateOAuth(); err != nil {
		return err
	}
	if err := c.validateOAuthIssuer(); err != nil {
		return err
	}
	if httpTransport && !c.IsLoopbackAddr() && c.AuthToken == "" && !c.RequireClientKeys && !c.OAuth && c.OAuthIssuer == "" {
		return fmt.Errorf("--addr %q (BYS_MCP_ADDR) is not a loopback address, so the server will not listen there without authentication: set --auth-token (BYS_MCP_AUTH_TOKEN) to give every client one shared secret, or --require-client-keys (BYS_MCP_REQUIRE_CLIENT_KEYS=1) to make every client bring its own bys_ak_ key", c.Addr)
	}
	for _, o := range c.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			return err
		}
	}
	for _, h := range c.AllowedHosts {
		if err := validateHost(h); err != nil {
			return err
		}
	}
	if c.PublicURL != "" {
		if !httpTransport {
			return errors.New("--public-url (BYS_MCP_PUBLIC_URL) needs --transport sse or http, whose listener receives the webhook events and serves the recording links: drop it for stdio")
		}
		if err := validatePublicURL(c.PublicURL); err != nil {
			return err
		}
	}
	if c.MaxBodyBytes < MinMaxBodyBytes {
		return fmt.Errorf("--max-body-bytes %d is too small (BYS_MCP_MAX_BODY_BYTES): use at least %d bytes; the default is %d (1 MiB)", c.MaxBodyBytes, MinMaxBodyBytes, DefaultMaxBodyBytes)
	}
	if c.ReplicaID != "" {
		if c.Transport != TransportHTTP {
			return fmt.Errorf("--replica-id (BYS_MCP_REPLICA_ID) names the Streamable HTTP sessions of a replica: it needs --transport http, not %s", c.Transport)
		}
		if !validReplicaID(c.ReplicaID) {
			return fmt.Errorf("--replica-id %q is not valid (BYS_MCP_REPLICA_ID): use 1 to %d letters, digits, dots or underscores, such as the replica's port (no hyphen, which separates it in bys-ID-...)", c.ReplicaID, MaxReplicaIDLen)
		}
	}
	if c.MaxSessions < 1 {
		return fmt.Errorf("--max-sessions %d is not valid (BYS_MCP_MAX_SESSIONS): use 1 or more; the default is %d", c.MaxSessions, DefaultMaxSessions)
	}

	// Tools and tasks.
	if c.MaxWait < MinMaxWait || c.MaxWait > MaxMaxWait {
		return fmt.Errorf("--max-wait %s is out of range (BYS_MAX_WAIT): use a duration from 1s to 24h, such as 5m", c.MaxWait)
	}
	if c.MaxCampaignCalls < 1 || c.MaxCampaignCalls > 500 {
		return fmt.Errorf("--max-campaign-calls %d is out of range (BYS_MAX_CAMPAIGN_CALLS): use a number from 1 to 500", c.MaxCampaignCalls)
	}
	if c.MaxListLimit < 1 || c.MaxListLimit > maxListLimitCap {
		return fmt.Errorf("--max-list-limit %d is out of range (BYS_MAX_LIST_LIMIT): use a number from 1 to 100", c.MaxListLimit)
	}
	if c.TaskMaxTTL < MinTaskMaxTTL {
		return fmt.Errorf("--task-max-ttl %s is too short (BYS_TASK_MAX_TTL): use 1m or more; the default is 30m", c.TaskMaxTTL)
	}
	if c.RequestTimeout <= 0 || c.RequestTimeout > MaxRequestTimeout {
		return fmt.Errorf("--request-timeout %s is out of range (BYS_REQUEST_TIMEOUT): use a duration above 0 and up to 10m, such as 15s", c.RequestTimeout)
	}

	// Safety.
	for _, d := range c.AllowDestinations {
		if !isE164Prefix(d) {
			return fmt.Errorf("--allow-destinations entry %q is not valid (BYS_ALLOW_DESTINATIONS): use + followed by 1 to 15 digits, such as +1415 or +442071234567", d)
		}
	}
	for _, d := range c.DenyDestinations {
		if !isE164Prefix(d) {
			return fmt.Errorf("--deny-destinations entry %q is not valid (BYS_DENY_DESTINATIONS): use + followed by 1 to 15 digits, such as +1900 or +442071234567", d)
		}
	}
	if c.MaxCallsPerHour < 0 {
		return fmt.Errorf("--max-calls-per-hour %d is not valid (BYS_MAX_CALLS_PER_HOUR): use 0 for no limit or a positive number", c.MaxCallsPerHour)
	}
	if c.DedupeWindow < 0 {
		return fmt.Errorf("--dedupe-window %s is not valid (BYS_DEDUPE_WINDOW): use 0 to disable deduplication or a positive duration such as 10m", c.DedupeWindow)
	}
	if _, err := callhours.Parse(c.CallingHours, c.CallingDays); err != nil {
		env := "BYS_CALLING_HOURS"
		if strings.HasPrefix(err.Error(), "--calling-days") {
			env = "BYS_CALLING_DAYS"
		}
		return fmt.Errorf("%v (%s)", err, env)
	}
	n, per, err := ParseCallsPerNumber(c.MaxCallsPerNumber)
	if err != nil {
		return fmt.Errorf("--max-calls-per-number %q is not valid (BYS_MAX_CALLS_PER_NUMBER): %v", c.MaxCallsPerNumber, err)
	}
	c.CallsPerNumber, c.CallsPerNumberPeriod = n, per
	switch c.CallingRules {
	case CallingRulesWindow, CallingRulesRegional:
	default:
		return fmt.Errorf("--calling-rules %q is not valid (BYS_CALLING_RULES): use window or regional", c.CallingRules)
	}
	if c.DoNotCallFile != "" {
		if _, err := os.Stat(c.DoNotCallFile); err != nil {
			return fmt.Errorf("--do-not-call-file %s cannot be read (BYS_DO_NOT_CALL_FILE): %v", c.DoNotCallFile, errors.Unwrap(err))
		}
	}
	c.DefaultRegion = strings.ToUpper(strings.TrimSpace(c.DefaultRegion))
	if !numbering.KnownRegion(c.DefaultRegion) {
		return fmt.Errorf("--default-region %q is not valid (BYS_DEFAULT_REGION): use an ISO 3166 region code with a numbering plan, such as US, GB or AU", c.DefaultRegion)
	}
	switch c.ConfirmCalls {
	case ConfirmAuto, ConfirmAlways, ConfirmNever:
	default:
		return fmt.Errorf("--confirm-calls %q is not valid (BYS_CONFIRM_CALLS): use auto, always or never", c.ConfirmCalls)
	}

	// Shared state.
	if c.StateDir != "" && c.StateDir != StateDirMemory && !filepath.IsAbs(c.StateDir) {
		return fmt.Errorf("--state-dir %q is not valid (BYS_STATE_DIR): use an absolute directory path, or memory to keep state in the process", c.StateDir)
	}
	if c.StateURL != "" {
		if err := validateStateURL(c.StateURL); err != nil {
			return err
		}
	}
	return nil
}

// MaxReplicaIDLen is the longest --replica-id accepted.
const MaxReplicaIDLen = 32

// validReplicaID reports whether id may stand in a session id: 1 to
// MaxReplicaIDLen letters, digits, dots or underscores (a hyphen would make
// one replica's prefix another's: bys-a-... and bys-a-b-...).
func validReplicaID(id string) bool {
	if id == "" || len(id) > MaxReplicaIDLen {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_':
		default:
			return false
		}
	}
	return true
}

// MinOAuthSecretBytes is the shortest --oauth-secret-file accepted.
const MinOAuthSecretBytes = 32

// validateOAuth checks --oauth and --oauth-secret-file.
func (c *Config) validateOAuth() error {
	if !c.OAuth {
		if c.OAuthSecretFile != "" {
			return errors.New("--oauth-secret-file (BYS_MCP_OAUTH_SECRET_FILE) is used by --oauth only: add --oauth, or drop it")
		}
		return nil
	}
	if c.AuthToken != "" {
		return errors.New("--oauth (BYS_MCP_OAUTH) and --auth-token (BYS_MCP_AUTH_TOKEN) cannot be used together: with --oauth every client signs in and uses its person's own key; drop --auth-token")
	}
	if c.RequireClientKeys {
		return errors.New("--oauth (BYS_MCP_OAUTH) and --require-client-keys (BYS_MCP_REQUIRE_CLIENT_KEYS) cannot be used together: with --oauth clients sign in instead of sending bys_ak_ keys; drop --require-client-keys")
	}
	if c.PublicURL == "" {
		return errors.New("--oauth (BYS_MCP_OAUTH) needs --public-url (BYS_MCP_PUBLIC_URL), the https origin hosts reach this server at, such as https://mcp.example.com: it names the issuer and the resource that tokens are for")
	}
	if c.OAuthSecretFile == "" {
		if c.StateURL != "" {
			return errors.New("--oauth with --state-url needs --oauth-secret-file (BYS_MCP_OAUTH_SECRET_FILE): every replica must seal keys with the same secret; create one with openssl rand -hex 32 > oauth-secret and give the file to each replica")
		}
		return nil
	}
	b, err := os.ReadFile(c.OAuthSecretFile)
	if err != nil {
		return fmt.Errorf("--oauth-secret-file %s cannot be read (BYS_MCP_OAUTH_SECRET_FILE): %v", c.OAuthSecretFile, errors.Unwrap(err))
	}
	if n := len(strings.TrimSpace(string(b))); n < MinOAuthSecretBytes {
		return fmt.Errorf("--oauth-secret-file %s holds %d bytes (BYS_MCP_OAUTH_SECRET_FILE): it needs at least %d random bytes; create it with openssl rand -hex 32 > %s", c.OAuthSecretFile, n, MinOAuthSecretBytes, c.OAuthSecretFile)
	}
	return nil
}

// validateOAuthIssuer checks --oauth-issuer and what it needs.
func (c *Config) validateOAuthIssuer() error {
	if c.OAuthIssuer == "" {
		return nil
	}
	if c.OAuth {
		return errors.New("--oauth-issuer (BYS_MCP_OAUTH_ISSUER) and --oauth (BYS_MCP_OAUTH) cannot be used together: either people sign in at your identity provider (--oauth-issuer) or at this server with their own agent keys (--oauth); drop one")
	}
	if c.AuthToken != "" {
		return errors.New("--oauth-issuer (BYS_MCP_OAUTH_ISSUER) and --auth-token (BYS_MCP_AUTH_TOKEN) cannot be used together: with --oauth-issuer every client signs in at your identity provider; drop --auth-token")
	}
	if c.RequireClientKeys {
		return errors.New("--oauth-issuer (BYS_MCP_OAUTH_ISSUER) and --require-client-keys (BYS_MCP_REQUIRE_CLIENT_KEYS) cannot be used together: with --oauth-issuer the server's BYS_API_KEY places every call; drop --require-client-keys")
	}
	if c.PublicURL == "" {
		return errors.New("--oauth-issuer (BYS_MCP_OAUTH_ISSUER) needs --public-url (BYS_MCP_PUBLIC_URL), the https origin hosts reach this server at, such as https://mcp.example.com: tokens must be issued for {public-url}/mcp")
	}
	if c.APIKey == "" && !c.Sandbox {
		return errors.New("--oauth-issuer (BYS_MCP_OAUTH_ISSUER) needs the server's own BYS_API_KEY, which places the calls of everyone who signs in: export BYS_API_KEY (or use --sandbox to try it)")
	}
	u, err := url.Parse(c.OAuthIssuer)
	shown := c.OAuthIssuer
	if err == nil {
		shown = u.Redacted()
	}
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("--oauth-issuer %q is not an absolute URL (BYS_MCP_OAUTH_ISSUER): use your identity provider's issuer, such as https://login.example.com", shown)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && IsLoopbackHost(u.Hostname())) {
		return fmt.Errorf("--oauth-issuer %q must use https (BYS_MCP_OAUTH_ISSUER): plain http:// is accepted only on a loopback host such as 127.0.0.1, for tests", shown)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--oauth-issuer %q must be the issuer identifier alone (BYS_MCP_OAUTH_ISSUER): no query, fragment or credentials", shown)
	}
	return nil
}

func validateLogging(level, format string) error {
	if !logLevels[level] {
		return fmt.Errorf("--log-level %q is not valid (BYS_LOG_LEVEL): use panic, fatal, error, warn, info, debug or trace", level)
	}
	if format != "text" && format != "json" {
		return fmt.Errorf("--log-format %q is not valid (BYS_LOG_FORMAT): use text or json", format)
	}
	return nil
}

func validateBaseURL(raw string) error {
	const fix = "use an absolute https:// URL such as https://api.byourside.ai"
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		// url errors quote the input, which may hold credentials: say less.
		return fmt.Errorf("--base-url is not a valid URL (BYS_BASE_URL): %s", fix)
	}
	if u.User != nil {
		return errors.New("--base-url must not contain a user name or password (BYS_BASE_URL): the API is authenticated by BYS_API_KEY alone")
	}
	shown := u.String()
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("--base-url %q is not an http or https URL (BYS_BASE_URL): %s", shown, fix)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("--base-url %q has no host (BYS_BASE_URL): %s", shown, fix)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("--base-url %q must not have a query or a fragment (BYS_BASE_URL): %s", shown, fix)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--base-url %q has an invalid port (BYS_BASE_URL): %s", shown, fix)
		}
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("--base-url %q uses plain http for a host that is not loopback (BYS_BASE_URL): use https://, or http:// only with 127.0.0.1, ::1 or localhost", shown)
	}
	return nil
}

func validateListenAddr(flagName, env, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err == nil && strings.ContainsAny(host, " /") {
		err = errors.New("bad host")
	}
	if err != nil {
		return fmt.Errorf("%s %q is not a valid listen address (%s): use host:port, such as 127.0.0.1:8080 or [::1]:8080", flagName, addr, env)
	}
	return nil
}

func validateOrigin(o string) error {
	const fix = "use scheme://host[:port] with no path, such as https://app.example.com"
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(o, "*") {
		return fmt.Errorf("--allowed-origins entry %q is not valid (BYS_MCP_ALLOWED_ORIGINS): %s", redactURLish(o), fix)
	}
	return nil
}

func validateHost(h string) error {
	bad := strings.ContainsAny(h, "/*@ ") || hasSpaceOrControl(h)
	if !bad {
		host := h
		if hh, port, err := net.SplitHostPort(h); err == nil {
			host = hh
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				bad = true
			}
		}
		if host == "" {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("--allowed-hosts entry %q is not valid (BYS_MCP_ALLOWED_HOSTS): use a host name, optionally with :port, such as mcp.example.com", redactURLish(h))
	}
	return nil
}

func validateStateURL(raw string) error {
	const fix = "use redis://[user:pass@]host:port[/db] or rediss://..."
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("--state-url is not a valid URL (BYS_STATE_URL): %s", fix)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return fmt.Errorf("--state-url must use the redis:// or rediss:// scheme (BYS_STATE_URL): %s", fix)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("--state-url has no host (BYS_STATE_URL): %s", fix)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("--state-url has an invalid port (BYS_STATE_URL): %s", fix)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if n, err := strconv.Atoi(db); err != nil || n < 0 {
			return fmt.Errorf("--state-url has an invalid database number (BYS_STATE_URL): %s", fix)
		}
	}
	if u.Fragment != "" {
		return fmt.Errorf("--state-url must not have a fragment (BYS_STATE_URL): %s", fix)
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); !hasPassword {
			return fmt.Errorf("--state-url has a user name but no password (BYS_STATE_URL), and Redis would get no AUTH: write the password as redis://:PASSWORD@host:port (or redis://user:PASSWORD@...)")
		}
	}
	return nil
}

// isE164Prefix reports whether s is "+" followed by 1 to 15 digits.
func isE164Prefix(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func hasSpaceOrControl(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// IsLoopbackHost reports whether host (a name or an IP address, without a
// port, IPv6 with or without brackets) is localhost, 127.0.0.0/8 or ::1.
// An empty host and 0.0.0.0 are not loopback.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(host, '%'); i >= 0 { // IPv6 zone
		host = host[:i]
	}
	if strings.EqualFold(host, "localhost") || strings.EqualFold(host, "localhost.") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackAddr reports whether Addr's host is 127.0.0.0/8, ::1 or
// localhost. An empty host (":8080"), 0.0.0.0, :: and a malformed address
// are not loopback.
func (c *Config) IsLoopbackAddr() bool {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return false
	}
	return IsLoopbackHost(host)
}

// validatePublicURL checks --public-url: an https origin, or http on a
// loopback host, with no path, query, fragment or credentials.
func validatePublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err == nil {
		raw = u.Redacted() // never echo a password
	}
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("--public-url %q is not an absolute URL (BYS_MCP_PUBLIC_URL): use this server's public origin, such as https://mcp.example.com", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	default:
		return fmt.Errorf("--public-url %q must use https (BYS_MCP_PUBLIC_URL): plain http:// is accepted only on a loopback host such as 127.0.0.1, for tests", raw)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url %q must be an origin alone (BYS_MCP_PUBLIC_URL), such as https://mcp.example.com: no path, query or credentials; the receiver listens at /webhooks/bys/", raw)
	}
	return nil
}

// ParseCallsPerNumber reads --max-calls-per-number: "N/DURATION" (N from 1,
// DURATION a Go duration of at least a minute, such as 24h) or "off"
// (0, 0).
func ParseCallsPerNumber(s string) (int, time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "off" || s == "0" {
		return 0, 0, nil
	}
	ns, ds, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err != nil || n < 1 {
		return 0, 0, errors.New("use N/DURATION with N a whole number from 1, such as 3/24h, or off")
	}
	d, err := time.ParseDuration(strings.TrimSpace(ds))
	if err != nil || d < time.Minute {
		return 0, 0, errors.New("the period after / must be a duration of at least 1m, such as 24h")
	}
	return n, d, nil
}
