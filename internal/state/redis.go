package state

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisOptions tunes the Redis store. Zero values take the defaults.
type RedisOptions struct {
	Prefix       string        // key namespace, default "bys-mcp:"
	OpTimeout    time.Duration // per operation, default 2s
	PollInterval time.Duration // how often a waiter re-checks an in-flight claim, default 50ms
}

const (
	defaultPrefix       = "bys-mcp:"
	defaultOpTimeout    = 2 * time.Second
	defaultPollInterval = 50 * time.Millisecond
	budgetTTLMargin     = 5 * time.Second
)

// Redis is the Store shared by every process pointing at the same Redis
// server. It connects lazily: NewRedis succeeds while Redis is down, and the
// client reconnects by itself when Redis comes back.
type Redis struct {
	client   *redis.Client
	prefix   string
	opTO     time.Duration
	poll     time.Duration
	redacted string   // URL without password, for error messages
	secrets  []string // strings that must never appear in an error message

	secretMu sync.Mutex
	secret   []byte
}

// NewRedis parses a redis:// or rediss:// URL and returns a store using it. It
// does not contact Redis (use Ping). Errors never contain the URL's password.
func NewRedis(ctx context.Context, rawURL string, opts RedisOptions) (*Redis, error) {
	r := &Redis{
		prefix: opts.Prefix,
		opTO:   opts.OpTimeout,
		poll:   opts.PollInterval,
	}
	if r.prefix == "" {
		r.prefix = defaultPrefix
	}
	if r.opTO <= 0 {
		r.opTO = defaultOpTimeout
	}
	if r.poll <= 0 {
		r.poll = defaultPollInterval
	}
	r.redacted, r.secrets = redactURL(rawURL)
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("state: invalid state URL %s: %s", r.redacted, r.scrub(err.Error()))
	}
	if o.Password != "" {
		r.secrets = append(r.secrets, o.Password)
	}
	sub := r.opTO / 2
	if sub > time.Second {
		sub = time.Second
	}
	if sub < 100*time.Millisecond {
		sub = 100 * time.Millisecond
	}
	o.DialTimeout = sub
	o.ReadTimeout = sub
	o.WriteTimeout = sub
	o.PoolTimeout = sub
	o.ContextTimeoutEnabled = true
	o.MaxRetries = 1
	o.MinRetryBackoff = 20 * time.Millisecond
	o.MaxRetryBackoff = 100 * time.Millisecond
	o.DialerRetries = 1
	o.DialerRetryTimeout = 50 * time.Millisecond
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	r.client = redis.NewClient(o)
	return r, nil
}

// redactURL returns the URL with any password replaced, plus the raw
// password forms to scrub from messages.
func redactURL(raw string) (string, []string) {
	u, err := url.Parse(raw)
	if err != nil {
		// Fall back to a crude redaction: drop everything before '@'.
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			scheme := ""
			if j := strings.Index(raw, "://"); j >= 0 && j < i {
				scheme = raw[:j+3]
			}
			var secrets []string
			if cred := raw[len(scheme):i]; cred != "" {
				secrets = append(secrets, cred)
				if k := strings.Index(cred, ":"); k >= 0 && k+1 < len(cred) {
					secrets = append(secrets, cred[k+1:])
				}
			}
			return scheme + "xxxxx@" + raw[i+1:], secrets
		}
		return "<invalid URL>", nil
	}
	var secrets []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		} else if name := u.User.Username(); name != "" {
			// redis://secret@host: many write the password there; treat a
			// lone user name as secret too.
			secrets = append(secrets, name, url.QueryEscape(name), url.PathEscape(name))
			u.User = url.User("xxxxx")
		}
	}
	for _, k := range []string{"password", "pass"} {
		if p := u.Query().Get(k); p != "" {
			secrets = append(secrets, p, url.QueryEscape(p))
			q := u.Query()
			q.Set(k, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted(), secrets
}

func (r *Redis) scrub(s string) string {
	for _, p := range r.secrets {
		if p != "" {
			s = strings.ReplaceAll(s, p, "xxxxx")
		}
	}
	return s
}

// fail maps a backend error to an error wrapping ErrUnavailable (or ctx's own
// error when the caller's context ended), never mentioning the password.
func (r *Redis) fail(parent context.Context, op string, err error) error {
	if perr := parent.Err(); perr != nil {
		return perr
	}
	return fmt.Errorf("state: redis %s at %s: %s: %w", op, r.redacted, r.scrub(err.Error()), ErrUnavailable)
}

func (r *Redis) key(kind, id string) string { return r.prefix + kind + ":" + id }

func ms(d time.Duration) int64 {
	v := d.Milliseconds()
	if v < 1 {
		v = 1
	}
	return v
}

// lazyScript returns the script of src, built (and its digest computed) on
// first use: a process without --state-url does not pay for it at start-up.
func lazyScript(src string) func() *redis.Script {
	return sync.OnceValue(func() *redis.Script { return redis.NewScript(src) })
}

var (
	// Returns the current value, or claims the key and returns "claimed".
	claimScript = lazyScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'`)
	// ARGV: pending value, done value, window ms (0 = do not record).
	// Returns 1 on success, 0 when the lease is lost.
	finishScript = lazyScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[2] then return 1 end
if v == false or v == ARGV[1] then
  if tonumber(ARGV[3]) > 0 then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  elseif v then
    redis.call('DEL', KEYS[1])
  end
  return 1
end
return 0`)
	compareDeleteScript = lazyScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`)
	// ARGV: limit, per (µs), member, key ttl (ms). Uses the server's clock so
	// replicas with skewed clocks agree. Returns {ok, retry µs}.
	budgetScript = lazyScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
local retry = tonumber(first[2]) + per - now
if retry < 1000 then retry = 1000 end
return {0, retry}`)
)

// ClaimPlacement implements Store. Waiters poll every PollInterval.
func (r *Redis) ClaimPlacement(ctx context.Context, fp string, lease time.Duration) (Claim, error) {
	k := r.key("dedupe", fp)
	for {
		if err := ctx.Err(); err != nil {
			return Claim{}, err
		}
		id := randomID()
		octx, cancel := context.WithTimeout(ctx, r.opTO)
		v, err := claimScript().Run(octx, r.client, []string{k}, "pending:"+id, ms(normLease(lease))).Text()
		cancel()
		if err != nil {
			return Claim{}, r.fail(ctx, "claim", err)
		}
		switch {
		case v == "claimed":
			return Claim{Claimed: true, LeaseID: id}, nil
		case strings.HasPrefix(v, "done:"):
			return Claim{ExistingCallID: strings.TrimPrefix(v, "done:")}, nil
		}
		// In flight elsewhere: wait and re-check (the claim key expires with its lease).
		t := time.NewTimer(r.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return Claim{}, ctx.Err()
		case <-t.C:
		}
	}
}

// FinishPlacement implements Store.
func (r *Redis) FinishPlacement(ctx context.Context, fp, leaseID, callID string, window time.Duration) error {
	var w int64
	if window > 0 {
		w = ms(window)
	}
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	n, err := finishScript().Run(octx, r.client, []string{r.key("dedupe", fp)}, "pending:"+leaseID, "done:"+callID, w).Int()
	if err != nil {
		return r.fail(ctx, "finish placement", err)
	}
	if n != 1 {
		return ErrLeaseLost
	}
	return nil
}

// AbandonPlacement implements Store.
func (r *Redis) AbandonPlacement(ctx context.Context, fp, leaseID string) error {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	if err := compareDeleteScript().Run(octx, r.client, []string{r.key("dedupe", fp)}, "pending:"+leaseID).Err(); err != nil {
		return r.fail(ctx, "abandon placement", err)
	}
	return nil
}

// ForgetPlacement implements Store.
func (r *Redis) ForgetPlacement(ctx context.Context, fp, callID string) (bool, error) {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	n, err := compareDeleteScript().Run(octx, r.client, []string{r.key("dedupe", fp)}, "done:"+callID).Int()
	if err != nil {
		return false, r.fail(ctx, "forget placement", err)
	}
	return n == 1, nil
}

// ReserveBudget implements Store.
func (r *Redis) ReserveBudget(ctx context.Context, budgetKey string, limit int, per time.Duration) (string, bool, time.Duration, error) {
	if limit <= 0 {
		return "", true, 0, nil
	}
	if per <= 0 {
		per = time.Hour
	}
	id := randomID()
	perUS := per.Microseconds()
	if perUS < 1 {
		perUS = 1
	}
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	res, err := budgetScript().Run(octx, r.client, []string{r.key("budget", budgetKey)},
		limit, perUS, id, ms(per+budgetTTLMargin)).Int64Slice()
	if err != nil {
		return "", false, 0, r.fail(ctx, "reserve budget", err)
	}
	if len(res) != 2 {
		return "", false, 0, r.fail(ctx, "reserve budget", errors.New("unexpected script reply"))
	}
	if res[0] == 1 {
		return id, true, 0, nil
	}
	return "", false, time.Duration(res[1]) * time.Microsecond, nil
}

// RefundBudget implements Store.
func (r *Redis) RefundBudget(ctx context.Context, budgetKey, res string) error {
	if res == "" {
		return nil
	}
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	if err := r.client.ZRem(octx, r.key("budget", budgetKey), res).Err(); err != nil {
		return r.fail(ctx, "refund budget", err)
	}
	return nil
}

// UseOnce implements Store.
func (r *Redis) UseOnce(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		ttl = defaultOnceTTL
	}
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	err := r.client.SetArgs(octx, r.key("once", id), "1", redis.SetArgs{Mode: "NX", TTL: time.Duration(ms(ttl)) * time.Millisecond}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, r.fail(ctx, "use once", err)
	}
	return true, nil
}

// Secret implements Store: the first process stores a random value (SET NX),
// every process then reads the same one. The value is remembered: if Redis
// lost it (restart without persistence), the remembered value is written back
// so replicas keep agreeing, and it is returned while Redis is unreachable.
func (r *Redis) Secret(ctx context.Context) ([]byte, error) {
	r.secretMu.Lock()
	defer r.secretMu.Unlock()
	k := r.prefix + "secret"
	candidate := r.secret
	if candidate == nil {
		candidate = randomSecret()
	}
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	var get *redis.StringCmd
	_, err := r.client.TxPipelined(octx, func(p redis.Pipeliner) error {
		p.SetNX(octx, k, hex.EncodeToString(candidate), 0)
		get = p.Get(octx, k)
		return nil
	})
	if err != nil {
		if r.secret != nil && ctx.Err() == nil {
			return append([]byte(nil), r.secret...), nil
		}
		return nil, r.fail(ctx, "secret", err)
	}
	b, err := hex.DecodeString(get.Val())
	if err != nil || len(b) != secretLen {
		return nil, fmt.Errorf("state: redis key %s does not hold a %d-byte hex secret", k, secretLen)
	}
	r.secret = b
	return append([]byte(nil), b...), nil
}

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	octx, cancel := context.WithTimeout(ctx, r.opTO)
	defer cancel()
	if err := r.client.Ping(octx).Err(); err != nil {
		return r.fail(ctx, "ping", err)
	}
	return nil
}

// Close implements Store.
func (r *Redis) Close() error { return r.client.Close() }

// String describes the store without its password.
func (r *Redis) String() string { return "redis state store at " + r.redacted }
