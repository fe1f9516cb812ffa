package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// String renders the configuration on one line for a start-up log, with the
// secrets redacted: the API key as "bys_ak_…(set)" or "(unset)", the auth
// token as "(set)", and the state URL with its password replaced by "xxxxx".
func (c Config) String() string {
	var b strings.Builder
	add := func(k string, v any) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", k, v)
	}
	q := func(s string) string {
		if s == "" {
			return `""`
		}
		return s
	}
	list := func(l []string) string { return "[" + strings.Join(l, ",") + "]" }
	add("transport", q(c.Transport))
	add("addr", q(c.Addr))
	add("base_url", q(redactURL(c.BaseURL)))
	add("api_key", c.apiKeyRedacted())
	add("sandbox", c.Sandbox)
	add("log_level", q(c.LogLevel))
	add("log_format", q(c.LogFormat))
	add("auth_token", setOrUnset(c.AuthToken))
	add("require_client_keys", c.RequireClientKeys)
	add("allowed_origins", list(c.AllowedOrigins))
	add("allowed_hosts", list(c.AllowedHosts))
	add("public_url", q(c.PublicURL))
	add("oauth", c.OAuth)
	add("oauth_secret_file", q(c.OAuthSecretFile))
	add("oauth_issuer", q(redactURL(c.OAuthIssuer)))
	add("max_wait", c.MaxWait)
	add("max_list_limit", c.MaxListLimit)
	add("max_campaign_calls", c.MaxCampaignCalls)
	add("read_only", c.ReadOnly)
	add("allow_destinations", list(c.AllowDestinations))
	add("deny_destinations", list(c.DenyDestinations))
	add("max_calls_per_hour", c.MaxCallsPerHour)
	add("dedupe_window", c.DedupeWindow)
	add("calling_hours", q(c.CallingHours))
	add("calling_days", q(c.CallingDays))
	add("default_region", q(c.DefaultRegion))
	add("calling_rules", q(c.CallingRules))
	add("outcome_fields", c.OutcomeFields)
	add("do_not_call_file", q(c.DoNotCallFile))
	add("max_calls_per_number", q(c.MaxCallsPerNumber))
	add("confirm_calls", q(c.ConfirmCalls))
	add("audit_log", q(c.AuditLog))
	add("task_max_ttl", c.TaskMaxTTL)
	add("state_url", q(c.StateURLRedacted()))
	add("state_dir", q(c.StateDir))
	add("request_timeout", c.RequestTimeout)
	add("max_body_bytes", c.MaxBodyBytes)
	add("max_sessions", c.MaxSessions)
	return b.String()
}

// GoString makes %#v print the redacted rendering too.
func (c Config) GoString() string { return "config.Config{" + c.String() + "}" }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, %d, ...) print the
// redacted rendering, never the raw fields.
func (c Config) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		_, _ = fmt.Fprint(f, c.GoString())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", c.String())
	default:
		_, _ = fmt.Fprint(f, c.String())
	}
}

// MarshalJSON encodes the configuration with the secrets redacted as in
// String, so that a JSON logger given a Config does not leak them.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // no methods: no recursion
	p := plain(c)
	p.APIKey = c.apiKeyRedacted()
	p.AuthToken = setOrUnset(c.AuthToken)
	p.StateURL = c.StateURLRedacted()
	p.BaseURL = redactURL(c.BaseURL)
	return json.Marshal(p)
}

// StateURLRedacted returns StateURL with its password (or a lone user name,
// which Redis may take as a password) replaced by "xxxxx"; "" when no state
// URL is set, "(invalid)" when it does not parse.
func (c *Config) StateURLRedacted() string {
	return redactURL(c.StateURL)
}

func (c Config) apiKeyRedacted() string {
	switch {
	case c.APIKey == "":
		return "(unset)"
	case strings.HasPrefix(c.APIKey, APIKeyPrefix):
		return APIKeyPrefix + "…(set)"
	default:
		return "(set)"
	}
}

func setOrUnset(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "(set)"
}

// redactURL hides the credentials of a URL.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); !ok && u.User.Username() != "" {
			u.User = url.User("xxxxx")
		}
	}
	return u.Redacted()
}

// redactURLish hides credentials in a value that may or may not be a URL.
func redactURLish(s string) string {
	if strings.Contains(s, "@") {
		return "(redacted)"
	}
	return s
}

// statePassword returns the password (or lone user name) of a state URL.
func statePassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	if p, ok := u.User.Password(); ok {
		return p
	}
	return u.User.Username()
}

// keyPattern matches anything shaped like an agent key. It is compiled on
// first use, not at package initialisation (start-up).
var keyPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`bys_ak_[A-Za-z0-9][^\s"'(),;]*`) })

// minSecretLen is the shortest secret replaced by text search; shorter
// strings would mangle the message and are never echoed anyway.
const minSecretLen = 4

// redactError returns err with every occurrence of the secrets, and of
// anything shaped like an agent key, removed from its message.
func redactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := keyPattern().ReplaceAllString(msg, APIKeyPrefix+"…")
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			out = strings.ReplaceAll(out, s, "xxxxx")
		}
	}
	if out == msg {
		return err
	}
	return errors.New(out)
}
