package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
)

func TestManualMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 6, 17, 14, 3, 11, 0, time.UTC)
	c := clock.NewManual(t0)
	if !c.Now().Equal(t0) {
		t.Fatalf("Now = %v, want %v", c.Now(), t0)
	}
	time.Sleep(5 * time.Millisecond)
	if !c.Now().Equal(t0) {
		t.Errorf("a manual clock moved by itself: %v", c.Now())
	}
	c.Advance(90 * time.Minute)
	if got := clock.Since(c, t0); got != 90*time.Minute {
		t.Errorf("Since = %v after Advance(90m)", got)
	}
	c.Set(t0)
	if got := clock.Until(c, t0.Add(time.Hour)); got != time.Hour {
		t.Errorf("Until = %v, want 1h", got)
	}
}

func TestShiftedStartsWhereToldAndMovesOn(t *testing.T) {
	// A date in the past: what is measured on it must not be expired by
	// the real date.
	t0 := time.Date(2025, 2, 28, 23, 59, 0, 0, time.UTC)
	c := clock.StartingAt(t0)
	if d := c.Now().Sub(t0); d < 0 || d > time.Second {
		t.Fatalf("Now = %v, want about %v", c.Now(), t0)
	}
	time.Sleep(20 * time.Millisecond)
	if d := clock.Since(c, t0); d < 20*time.Millisecond || d > 5*time.Second {
		t.Errorf("Since(start) = %v after 20 ms, want it to move with real time", d)
	}
	t1 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c.Set(t1)
	if d := c.Now().Sub(t1); d < 0 || d > time.Second {
		t.Errorf("after Set, Now = %v, want about %v", c.Now(), t1)
	}
}

func TestOrDefaultsToTheWallClock(t *testing.T) {
	if clock.Or(nil) != clock.Real {
		t.Error("Or(nil) is not the wall clock")
	}
	m := clock.NewManual(time.Time{})
	if clock.Or(m) != clock.Clock(m) {
		t.Error("Or(c) did not return c")
	}
	if d := clock.Since(clock.Real, time.Now()); d < 0 || d > time.Second {
		t.Errorf("the wall clock is off by %v", d)
	}
}

func TestLeftReadsTheContextDeadline(t *testing.T) {
	if _, ok := clock.Left(context.Background()); ok {
		t.Error("a context without a deadline has time left")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if left, ok := clock.Left(ctx); !ok || left <= 50*time.Second || left > time.Minute {
		t.Errorf("Left = %v, %v; want about a minute", left, ok)
	}
}
