package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// Campaign control from any process: pause, resume and retry are records
// in the store (kindPause, kindRetry) that the campaign's runner, wherever
// it runs, reads at least every CheckEvery (at once when it runs here), as
// it reads cancellations. The methods wait a few seconds for the runner to
// apply the change, so that what they return is what it did.

// controlWait is how long a control waits for the campaign's runner.
const controlWait = 5 * time.Second

// Pause stops dialling the campaign's items not yet dialled (they become
// paused); calls already ringing go on, and the deadline still holds. A
// campaign that has ended, or is cancelled, is returned as it is.
func (m *Manager) Pause(ctx context.Context, keyFP, id string) (*Campaign, error) {
	return m.setPaused(ctx, keyFP, id, true)
}

// Resume lets a paused campaign dial again. A campaign that is not paused
// is returned as it is.
func (m *Manager) Resume(ctx context.Context, keyFP, id string) (*Campaign, error) {
	return m.setPaused(ctx, keyFP, id, false)
}

func (m *Manager) setPaused(ctx context.Context, keyFP, id string, paused bool) (*Campaign, error) {
	c, err := m.Get(ctx, keyFP, id)
	if err != nil {
		return nil, err
	}
	if c.Paused == paused || c.Cancelled || paused && c.AllEnded() {
		return c, nil
	}
	val := pauseOff
	if paused {
		val = pauseOn
	}
	if err := m.o.Records.PutRecord(ctx, kindPause, id, []byte(val), m.ttl(c), false); err != nil {
		return nil, err
	}
	return m.awaitRunner(ctx, keyFP, id, false,
		func(c *Campaign) bool { return c.Paused == paused },
		func(c *Campaign, now time.Time) { c.Paused = paused; c.hold(now) })
}

// Retry dials again, within the campaign, the items that ended with one of
// statuses (each through every check of a first dial; paused while the
// campaign is). It returns the campaign and how many items it redials: 0
// (and the campaign as it is) when none ended so. A cancelled campaign, or
// one whose deadline passed, is refused (ErrCancelled, ErrDeadlinePassed).
func (m *Manager) Retry(ctx context.Context, keyFP, id string, statuses []string) (*Campaign, int, error) {
	c, err := m.Get(ctx, keyFP, id)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case c.Cancelled:
		return nil, 0, ErrCancelled
	case !m.o.Clock.Now().Before(c.Deadline):
		return nil, 0, ErrDeadlinePassed
	}
	n := c.Redialable(statuses)
	if n == 0 {
		return c, 0, nil
	}
	reqID := randomHex(8)
	val, err := json.Marshal(retryRequest{Statuses: statuses})
	if err != nil {
		return nil, 0, err
	}
	if err := m.o.Records.PutRecord(ctx, kindRetry, id+"."+reqID, val, m.ttl(c), true); err != nil {
		return nil, 0, err
	}
	c, err = m.awaitRunner(ctx, keyFP, id, true,
		func(c *Campaign) bool { return slices.Contains(c.Retried, reqID) },
		func(c *Campaign, now time.Time) { c.redial(reqID, statuses, now) })
	return c, n, err
}

// awaitRunner waits until the campaign's runner has applied a control
// (done), waking a runner here at once, and (adopt) starting one here when
// none runs, as for a campaign that had ended. When no runner answers
// within controlWait it returns the campaign as it will be (project).
func (m *Manager) awaitRunner(ctx context.Context, keyFP, id string, adopt bool, done func(*Campaign) bool, project func(*Campaign, time.Time)) (*Campaign, error) {
	wait := time.NewTimer(controlWait)
	defer wait.Stop()
	for {
		m.mu.Lock()
		r := m.runs[id]
		m.mu.Unlock()
		switch {
		case r != nil:
			r.kickNow()
		case adopt:
			m.adopt(ctx, id, true)
		}
		changed := m.Changed(id)
		c, err := m.Get(ctx, keyFP, id)
		if err != nil {
			return nil, err
		}
		if done(c) {
			return c, nil
		}
		tick := time.NewTimer(200 * time.Millisecond)
		select {
		case <-changed:
		case <-tick.C:
		case <-wait.C:
			tick.Stop()
			project(c, m.o.Clock.Now())
			c.settle()
			return c, nil
		case <-ctx.Done():
			tick.Stop()
			return nil, ctx.Err()
		}
		tick.Stop()
	}
}

// List returns the campaigns of the key whose fingerprint is keyFP, newest
// first, at most limit of them.
func (m *Manager) List(ctx context.Context, keyFP string, limit int) ([]*Campaign, error) {
	ids, err := m.o.Records.ActiveRecords(ctx, kindByKey+keyFP)
	if err != nil {
		return nil, err
	}
	out := make([]*Campaign, 0, len(ids))
	for _, id := range ids {
		c, err := m.Get(ctx, keyFP, id)
		if errors.Is(err, ErrNotFound) {
			continue // expired, or its creation failed half-way
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Campaign) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		if c := b.Stored.Compare(a.Stored); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
