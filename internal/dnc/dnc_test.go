package dnc_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/state"
)

var t0 = time.Date(2026, 6, 17, 14, 3, 0, 0, time.UTC)

func TestListHoldsPerKeyAndForEveryKey(t *testing.T) {
	ctx := context.Background()
	for _, store := range []struct {
		name string
		open func(c clock.Clock) state.Records
	}{
		{"memory", func(c clock.Clock) state.Records { return state.NewMemoryWithClock(c) }},
		{"file", func(c clock.Clock) state.Records { return state.NewFile(t.TempDir(), state.FileOptions{Clock: c}) }},
	} {
		t.Run(store.name, func(t *testing.T) {
			c := clock.NewManual(t0)
			var added []dnc.Entry
			l := dnc.New(store.open(c), c, nil)
			l.OnAdd = func(e dnc.Entry) { added = append(added, e) }
			if e, err := l.Check(ctx, "k1", "+14155550123"); err != nil || e != nil {
				t.Fatalf("empty list lists %v (%v)", e, err)
			}
			if ok, err := l.Add(ctx, dnc.Entry{Number: "+14155550123", KeyFP: "k1", Source: dnc.SourceCall, CallID: "call-1"}); !ok || err != nil {
				t.Fatalf("add = %v, %v", ok, err)
			}
			// A second request keeps the first reason.
			c.Advance(time.Hour)
			if ok, _ := l.Add(ctx, dnc.Entry{Number: "+14155550123", KeyFP: "k1", Source: dnc.SourceCall, CallID: "call-2"}); ok {
				t.Error("a listed number was listed again")
			}
			e, err := l.Check(ctx, "k1", "+14155550123")
			if err != nil || e == nil || e.CallID != "call-1" || !e.At.Equal(t0) {
				t.Fatalf("check = %+v, %v; want call-1 at %v", e, err, t0)
			}
			if !strings.Contains(e.Reason(), "call-1") || !strings.Contains(e.Reason(), "2026-06-17 14:03") {
				t.Errorf("reason %q lacks the call and the time", e.Reason())
			}
			// Another key is not held by k1's entry...
			if e, _ := l.Check(ctx, "k2", "+14155550123"); e != nil {
				t.Errorf("k2 sees k1's entry: %+v", e)
			}
			// ...but by one for every key.
			if _, err := l.Add(ctx, dnc.Entry{Number: "+14155550199", Source: dnc.SourceOperator}); err != nil {
				t.Fatal(err)
			}
			if e, _ := l.Check(ctx, "k2", "+14155550199"); e == nil || e.KeyFP != dnc.EveryKey {
				t.Errorf("an entry for every key does not hold for k2: %+v", e)
			}
			if len(added) != 2 {
				t.Errorf("OnAdd told of %d entries, want 2", len(added))
			}
			k1, _ := l.Entries(ctx, "k1")
			all, _ := l.Entries(ctx, "")
			if len(k1) != 2 || len(all) != 2 || k1[0].Number != "+14155550123" {
				t.Errorf("entries k1 = %+v, all = %+v", k1, all)
			}
			if n, err := l.Remove(ctx, "", "+14155550123"); n != 1 || err != nil {
				t.Fatalf("remove = %d, %v", n, err)
			}
			if e, _ := l.Check(ctx, "k1", "+14155550123"); e != nil {
				t.Errorf("removed number still listed: %+v", e)
			}
			// Entries last five years on the store's clock, whatever the
			// real date: a date in the past expires nothing.
			c.Advance(4 * 365 * 24 * time.Hour)
			if e, _ := l.Check(ctx, "k1", "+14155550199"); e == nil {
				t.Error("an entry expired within five years")
			}
		})
	}
}

func TestFileIsReadAgainWhenItChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dnc.txt")
	write := func(s string, mod time.Time) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	write("# people who asked\n+14155550123\n\n+442071838750 # by letter\n", t0)
	f, err := dnc.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	f.Warn = func(m string) { warnings = append(warnings, m) }
	if f.Len() != 2 || f.Lookup("+442071838750") == nil || f.Lookup("+14155550124") != nil {
		t.Fatalf("file read as %d numbers", f.Len())
	}
	write("+14155550124\nnot a number\n", t0.Add(time.Minute))
	if f.Lookup("+14155550124") == nil || f.Lookup("+14155550123") != nil {
		t.Error("the changed file was not read again")
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "line 2") {
		t.Errorf("warnings = %q, want one naming line 2", warnings)
	}
	// A file that disappears keeps its numbers (fail closed), warned once.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if f.Lookup("+14155550124") == nil {
			t.Fatal("a missing file dropped its numbers")
		}
	}
	if len(warnings) != 2 {
		t.Errorf("warnings = %q, want one more for the missing file", warnings)
	}
}

func TestOpenFileRefusesABadLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dnc.txt")
	if err := os.WriteFile(path, []byte("+14155550123\n(415) 555-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := dnc.OpenFile(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err = %v, want one naming line 2", err)
	}
	if _, err := dnc.OpenFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file opened")
	}
}

func TestIsE164(t *testing.T) {
	for s, want := range map[string]bool{"+14155550123": true, "+442071838750": true, "14155550123": false, "+0123456789": false, "+1415555012a": false, "+1234567": false, "+1234567890123456": false} {
		if got := dnc.IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", s, got, want)
		}
	}
}

// Replicas that see one call end at the same moment all list the number,
// and one of them reports it.
func TestOneListingIsReportedOnceAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	store := state.NewMemory()
	reported := 0
	for range 3 {
		l := dnc.New(store, clock.NewManual(t0), nil) // a process of its own on the shared store
		l.Once = store.UseOnce
		l.OnAdd = func(dnc.Entry) { reported++ }
		// Each read the list before any wrote (the race): simulate it by
		// removing what the previous one wrote except the once-marker.
		if _, err := l.Add(ctx, dnc.Entry{Number: "+14155550009", KeyFP: "k1", Source: dnc.SourceCall, CallID: "call-9"}); err != nil {
			t.Fatal(err)
		}
		if e, _ := l.Check(ctx, "k1", "+14155550009"); e == nil || e.CallID != "call-9" {
			t.Fatalf("the number is not listed: %+v", e)
		}
		if _, err := l.Remove(ctx, "k1", "+14155550009"); err != nil {
			t.Fatal(err)
		}
	}
	if reported != 1 {
		t.Errorf("the listing of one call was reported %d times, want once", reported)
	}
}
