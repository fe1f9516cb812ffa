package campaign

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/internal/follow"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/schema"
	"github.com/sirupsen/logrus"
)

// Record kinds and lease names in the state store.
const (
	kindCampaign = "campaign"
	kindCancel   = "campaign-cancel"
	leasePrefix  = "campaign-runner:"
	// keepAfterDeadline is how long a campaign stays readable after its
	// deadline.
	keepAfterDeadline = 7 * 24 * time.Hour
)

// ErrNotFound is returned for a campaign that does not exist or belongs to
// another key.
var ErrNotFound = errors.New("campaign not found")

// Request is one call for the Placer.
type Request struct {
	To, Objective, Context string
	Fields                 []schema.FieldSpec
	Language, Voice        string
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
}

// New returns a manager; Start begins resuming abandoned campaigns.
func New(o Options) *Manager {
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
	if c.SealedKey, err = sealKey(secret, c.ID, apiKey); err != nil {
		return nil, err
	}
	c.settle()
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
	ttl := time.Until(c.Deadline) + keepAfterDeadline
	return m.o.Records.PutRecord(ctx, kindCampaign, c.ID, raw, ttl, active)
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
	if err := m.o.Records.PutRecord(ctx, kindCancel, id, []byte("1"), time.Until(c.Deadline)+keepAfterDeadline, false); err != nil {
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
			cancelItems(c, time.Now())
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
		if it.waiting() {
			it.State = schema.ItemCancelled
			it.NotBefore = time.Time{}
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

// scan adopts every active campaign that no runner holds.
func (m *Manager) scan() {
	ctx, cancel := context.WithTimeout(m.base, 10*time.Second)
	defer cancel()
	ids, err := m.o.Records.ActiveRecords(ctx, kindCampaign)
	if err != nil {
		m.o.Log.WithError(err).Debug("campaigns: cannot list active campaigns")
		return
	}
	for _, id := range ids {
		m.mu.Lock()
		_, mine := m.runs[id]
		m.mu.Unlock()
		if mine {
			continue
		}
		ok, err := m.o.Records.AcquireLease(ctx, leasePrefix+id, m.owner(), m.o.LeaseTTL)
		if err != nil || !ok {
			continue
		}
		c, err := m.load(ctx, id)
		if err != nil || c.AllEnded() {
			_ = m.o.Records.ReleaseLease(ctx, leasePrefix+id, m.owner())
			continue
		}
		secret, err := m.o.Store.Secret(ctx)
		var apiKey string
		if err == nil {
			apiKey, err = openKey(secret, c.ID, c.SealedKey)
		}
		if err != nil {
			m.o.Log.WithError(err).WithField("campaign_id", id).Warn("campaigns: cannot continue a campaign (its key does not open)")
			_ = m.o.Records.ReleaseLease(ctx, leasePrefix+id, m.owner())
			continue
		}
		m.o.Log.WithField("campaign_id", id).Info("campaigns: continuing a campaign whose runner stopped")
		if !m.startRun(m.newRun(c, apiKey, true)) {
			_ = m.o.Records.ReleaseLease(ctx, leasePrefix+id, m.owner())
		}
	}
}
