package campaign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/schema"
	"github.com/sirupsen/logrus"
)

// Record kinds and lease names in the state store. A runner is the only
// writer of its campaign's record; what other processes ask of it (cancel,
// pause, resume, retry) are records of their own that it reads.
const (
	kindCampaign = "campaign"
	kindCancel   = "campaign-cancel"
	// kindPause holds pauseOn or pauseOff under the campaign id: the last
	// pause_campaign or resume_campaign.
	kindPause = "campaign-pause"
	// kindRetry holds one retry_campaign request under "<campaign id>.<request
	// id>", active until the campaign that applied it is saved; the scan
	// also continues ended campaigns that have one.
	kindRetry = "campaign-retry"
	// kindByKey + key fingerprint lists a key's campaigns (list_campaigns).
	kindByKey   = "campaign-key:"
	leasePrefix = "campaign-runner:"
	// keepAfterDeadline is how long a campaign stays readable after its
	// deadline.
	keepAfterDeadline = 7 * 24 * time.Hour
)

// Values of a kindPause record.
const (
	pauseOn  = "paused"
	pauseOff = "running"
)

// ErrNotFound is returned for a campaign that does not exist or belongs to
// another key.
var ErrNotFound = errors.New("campaign not found")

// ErrCancelled and ErrDeadlinePassed refuse a retry of a campaign that may
// dial nothing more.
var (
	ErrCancelled      = errors.New("campaign cancelled")
	ErrDeadlinePassed = errors.New("campaign deadline passed")
)

// retryRequest is the value of a kindRetry record.
type retryRequest struct {
	Statuses []string `json:"statuses"`
}

// splitRetryID splits a kindRetry record id into the campaign id and the
// request id.
func splitRetryID(rid string) (campaignID, reqID string, ok bool) {
	i := strings.LastIndexByte(rid, '.')
	if i <= 0 || i == len(rid)-1 {
		return "", "", false
	}
	return rid[:i], rid[i+1:], true
}

// Request is one call for the Placer.
type Request struct {
	To, Objective, Context string
	Fields                 []schema.FieldSpec
	Language, Voice        string
	// Voicemail and VoicemailMessage: what to do on reaching voicemail.
	Voicemail, VoicemailMessage string
	// WebhookURL and CallerID are place_call's, for a later call.
	WebhookURL, CallerID string
	// AllowDuplicate dials even when an identical call was placed within
	// the dedupe window: a later call given allowDuplicate, or a callback
	// (the person asked to be called again).
	AllowDuplicate bool
}

// Outcome is what placing one call came to.
type Outcome struct {
	// CallID is set when a call was placed or joined (Deduplicated).
	CallID, Status string
	Deduplicated   bool
	// Token and Hint say why nothing was placed (or that a call may have
	// been placed: the API's answer was ambiguous, never retried).
	Token, Hint string
	// Retryable is true when nothing was placed and the same request may
	// pass later (the state store was unavailable, the API rate-limited).
	Retryable bool
	// OpensAt is set when the destination is outside its calling hours:
	// when its window next opens.
	OpensAt time.Time
}

// Placer places one call of a campaign through every check of place_call
// except the confirmation, which is asked once per campaign.
type Placer interface {
	Place(ctx context.Context, apiKey string, req Request) Outcome
}

// Watch is one subscription to a followed call (a *follow.Sub).
type Watch interface {
	C() <-chan struct{}
	Latest() follow.Update
	Close()
}

// Follower follows placed calls (follow.Hub, shared with every wait).
type Follower interface {
	Follow(apiKey, callID string) Watch
}

// Finder looks for a call among the key's recent calls (list_calls): it
// settles an item that a stopped runner left dialing.
type Finder interface {
	FindCall(ctx context.Context, apiKey, to, objective string) (callID string, found bool, err error)
}

// Options configure a Manager. Store, Records, Placer, Follow, Find and
// KeyFP are required.
type Options struct {
	Store   state.Store   // the secret that seals API keys
	Records state.Records // campaigns, cancellations, runner leases
	Placer  Placer
	Follow  Follower
	Find    Finder
	KeyFP   func(apiKey string) string
	Log     logrus.FieldLogger
	// Clock is the server's clock (default the wall clock): calling hours,
	// deadlines, retries and expiries read it.
	Clock clock.Clock

	// LeaseTTL is how long a runner's claim on a campaign lasts without
	// renewal (default 15s): a stopped runner's campaign is taken over
	// within LeaseTTL + ScanEvery.
	LeaseTTL time.Duration
	// ScanEvery is how often the manager looks for campaigns nobody runs
	// (default 5s).
	ScanEvery time.Duration
	// RetryEvery spaces retries after a transient refusal or a store
	// failure (default 5s).
	RetryEvery time.Duration
	// CheckEvery is the longest a runner sleeps without looking for a
	// cancellation made elsewhere (default 2s).
	CheckEvery time.Duration
}

// Manager creates, runs, resumes and reads campaigns. It is safe for
// concurrent use.
type Manager struct {
	o Options
	// owner names this process in the campaigns' leases: random, drawn
	// when a lease is first asked for (not at start-up).
	owner func() string
	base  context.Context
	stop  context.CancelFunc

	mu      sync.Mutex
	runs    map[string]*run
	changed map[string]chan struct{}
	started bool
	done    sync.WaitGroup
	// lastStamp is the latest Campaign.Stored given (stamp).
	lastStamp time.Time
}

// New returns a manager; Start begins resuming abandoned campaigns.
func New(o Options) *Manager {
	o.Clock = clock.Or(o.Clock)
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Second
	}
	if o.ScanEvery <= 0 {
		o.ScanEvery = 5 * time.Second
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = 5 * time.Second
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = 2 * time.Second
	}
	if o.Log == nil {
		l := logrus.New()
		l.SetLevel(logrus.PanicLevel)
		o.Log = l
	}
	base, stop := context.WithCancel(context.Background())
	return &Manager{o: o, owner: sync.OnceValue(func() string { return randomHex(16) }), base: base, stop: stop, runs: map[string]*run{}, changed: map[string]chan struct{}{}}
}

// Start looks for campaigns that no process runs (a restart on the same
// state, a replica that died) at once and then every ScanEvery, and
// continues them. It returns at once.
func (m *Manager) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return
	}
	m.started = true
	m.done.Add(1)
	go m.scanLoop()
}

// Close stops every runner of this process (their campaigns stay in the
// store for another to continue) and waits for them.
func (m *Manager) Close() {
	m.stop()
	m.done.Wait()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("campaign: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// NewID returns a fresh campaign id.
func NewID() string { return "cmp_" + randomHex(16) }

// stamp is the clock's time, after every stamp this manager gave before
// (campaigns created in one tick of the clock keep their order).
func (m *Manager) stamp() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.o.Clock.Now().Round(0)
	if !now.After(m.lastStamp) {
		now = m.lastStamp.Add(time.Nanosecond)
	}
	m.lastStamp = now
	return now
}

// Create stores c (built by the caller: items pending, fields resolved) as
// a campaign of apiKey's and starts running it. It returns the stored
// campaign.
func (m *Manager) Create(ctx context.Context, apiKey string, c *Campaign) (*Campaign, error) {
	secret, err := m.o.Store.Secret(ctx)
	if err != nil {
		return nil, err
	}
	if c.ID == "" {
		c.ID = NewID()
	}
	c.KeyFP = m.o.KeyFP(apiKey)
	c.Stored = m.stamp()
	if c.SealedKey, err = sealKey(secret, c.ID, apiKey); err != nil {
		return nil, err
	}
	c.settle()
	// The key's index first: an entry whose campaign was never stored is
	// skipped by List, a campaign missing from the index would be lost to it.
	if err := m.o.Records.PutRecord(ctx, kindByKey+c.KeyFP, c.ID, []byte(c.CreatedAt.UTC().Format(time.RFC3339)), m.ttl(c), true); err != nil {
		return nil, err
	}
	if ok, err := m.o.Records.AcquireLease(ctx, leasePrefix+c.ID, m.owner(), m.o.LeaseTTL); err != nil || !ok {
		if err == nil {
			err = errors.New("campaign: a fresh campaign id is leased by another runner")
		}
		return nil, err
	}
	if err := m.put(ctx, c, true); err != nil {
		_ = m.o.Records.ReleaseLease(context.WithoutCancel(ctx), leasePrefix+c.ID, m.owner())
		return nil, err
	}
	r := m.newRun(c, apiKey, false)
	if !m.startRun(r) {
		return nil, errors.New("campaign: the server is shutting down")
	}
	return r.snapshot(), nil
}

func (m *Manager) put(ctx context.Context, c *Campaign, active bool) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := m.o.Records.PutRecord(ctx, kindCampaign, c.ID, raw, m.ttl(c), active); err != nil {
		return err
	}
	if !active {
		// The campaign has ended: its entry in the key's index is written
		// again, so that an index that expires some time after its latest
		// write (Redis: 8 days) lists it as long as it can be read.
		_ = m.o.Records.PutRecord(ctx, kindByKey+c.KeyFP, c.ID, []byte(c.CreatedAt.UTC().Format(time.RFC3339)), m.ttl(c), true)
	}
	return nil
}

// ttl is how long c's records stay readable: until its deadline, and a
// week after.
func (m *Manager) ttl(c *Campaign) time.Duration {
	return clock.Until(m.o.Clock, c.Deadline) + keepAfterDeadline
}

func (m *Manager) load(ctx context.Context, id string) (*Campaign, error) {
	raw, ok, err := m.o.Records.GetRecord(ctx, kindCampaign, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	var c Campaign
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("campaign %s: stored record does not decode: %w", id, err)
	}
	return &c, nil
}

// Get returns the campaign id of the key whose fingerprint is keyFP:
// ErrNotFound when it does not exist or is another key's.
func (m *Manager) Get(ctx context.Context, keyFP, id string) (*Campaign, error) {
	m.mu.Lock()
	r := m.runs[id]
	m.mu.Unlock()
	var c *Campaign
	if r != nil {
		c = r.snapshot()
	} else {
		var err error
		if c, err = m.load(ctx, id); err != nil {
			return nil, err
		}
	}
	if c.KeyFP != keyFP {
		return nil, ErrNotFound
	}
	return c, nil
}

// Changed returns a channel closed the next time this process sees the
// campaign change (a runner here saved it). Runners elsewhere are seen by
// reading again.
func (m *Manager) Changed(id string) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.changed[id]
	if ch == nil {
		ch = make(chan struct{})
		m.changed[id] = ch
	}
	return ch
}

func (m *Manager) notify(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch := m.changed[id]; ch != nil {
		close(ch)
		delete(m.changed, id)
	}
}

// Cancel cancels the campaign: items not yet dialled end cancelled, calls
// already ringing go on. It returns the campaign as the runner left it (or,
// when its runner is elsewhere and has not answered within a few seconds,
// as it will be).
func (m *Manager) Cancel(ctx context.Context, keyFP, id string) (*Campaign, error) {
	c, err := m.Get(ctx, keyFP, id)
	if err != nil {
		return nil, err
	}
	if c.Cancelled || c.AllEnded() {
		return c, nil
	}
	if err := m.o.Records.PutRecord(ctx, kindCancel, id, []byte("1"), clock.Until(m.o.Clock, c.Deadline)+keepAfterDeadline, false); err != nil {
		return nil, err
	}
	m.mu.Lock()
	r := m.runs[id]
	m.mu.Unlock()
	if r != nil {
		r.kickNow()
	}
	wait := time.NewTimer(5 * time.Second)
	defer wait.Stop()
	for {
		changed := m.Changed(id)
		if c, err = m.Get(ctx, keyFP, id); err != nil {
			return nil, err
		}
		if c.Cancelled {
			return c, nil
		}
		tick := time.NewTimer(200 * time.Millisecond)
		select {
		case <-changed:
		case <-tick.C:
		case <-wait.C:
			tick.Stop()
			cancelItems(c, m.o.Clock.Now())
			c.settle()
			return c, nil
		case <-ctx.Done():
			tick.Stop()
			return nil, ctx.Err()
		}
		tick.Stop()
	}
}

// cancelItems ends every item not yet dialled as cancelled.
func cancelItems(c *Campaign, now time.Time) bool {
	changed := !c.Cancelled
	c.Cancelled = true
	for _, it := range c.Items {
		if it.undialled() {
			it.State = schema.ItemCancelled
			it.NotBefore, it.CallbackAt = time.Time{}, time.Time{}
			changed = true
		}
	}
	return changed
}

func (m *Manager) startRun(r *run) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.base.Err() != nil {
		return false
	}
	if _, ok := m.runs[r.c.ID]; ok {
		return false
	}
	m.runs[r.c.ID] = r
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		r.loop()
		m.mu.Lock()
		delete(m.runs, r.c.ID)
		m.mu.Unlock()
	}()
	return true
}

// Running is the number of campaigns this process runs.
func (m *Manager) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.runs)
}

func (m *Manager) scanLoop() {
	defer m.done.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-m.base.Done():
			return
		case <-t.C:
		}
		m.scan()
		t.Reset(m.o.ScanEvery)
	}
}

// scan adopts every active campaign that no runner holds, and every ended
// one with a retry request waiting.
func (m *Manager) scan() {
	ctx, cancel := context.WithTimeout(m.base, 10*time.Second)
	defer cancel()
	ids, err := m.o.Records.ActiveRecords(ctx, kindCampaign)
	if err != nil {
		m.o.Log.WithError(err).Debug("campaigns: cannot list active campaigns")
		return
	}
	retried := m.retryWaiting(ctx)
	for id := range retried {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if m.adopt(ctx, id, retried[id]) {
			m.o.Log.WithField("campaign_id", id).Info("campaigns: continuing a campaign whose runner stopped")
		}
	}
}

// retryWaiting returns the ids of the campaigns with a retry request not
// yet retired.
func (m *Manager) retryWaiting(ctx context.Context) map[string]bool {
	rids, err := m.o.Records.ActiveRecords(ctx, kindRetry)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, rid := range rids {
		if cid, _, ok := splitRetryID(rid); ok {
			out[cid] = true
		}
	}
	return out
}

// adopt starts a runner here for campaign id if no runner holds it: one
// that has not ended, or (retry) one with a retry request waiting. It
// reports whether it started one.
func (m *Manager) adopt(ctx context.Context, id string, retry bool) bool {
	m.mu.Lock()
	_, mine := m.runs[id]
	m.mu.Unlock()
	if mine {
		return false
	}
	ok, err := m.o.Records.AcquireLease(ctx, leasePrefix+id, m.owner(), m.o.LeaseTTL)
	if err != nil || !ok {
		return false
	}
	c, err := m.load(ctx, id)
	if err != nil || c.AllEnded() && !retry {
		_ = m.o.Records.ReleaseLease(ctx, leasePrefix+id, m.owner())
		return false
	}
	secret, err := m.o.Store.Secret(ctx)
	var apiKey string
	if err == nil {
		apiKey, err = openKey(secret, c.ID, c.SealedKey)
	}
	if err != nil {
		m.o.Log.WithError(err).WithField("campaign_id", id).Warn("campaigns: cannot continue a campaign (its key does not open)")
		_ = m.o.Records.ReleaseLease(ctx, leasePrefix+id, m.owner())
		return false
	}
	if !m.startRun(m.newRun(c, apiKey, true)) {
		_ = m.o.Records.ReleaseLease(ctx, leasePrefix+id, m.owner())
		return false
	}
	return true
}
