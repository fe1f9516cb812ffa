package callrules

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
)

// testWindow is a --calling-hours window and, independently of package
// callhours, when it holds (none of these cross midnight).
type testWindow struct {
	hours, days string
	from, to    int // minutes; from == to == 0: off
	on          []time.Weekday
}

func (tw testWindow) holds(loc []*time.Location, at time.Time) bool {
	if tw.hours == "off" {
		return true
	}
	for _, l := range loc {
		local := at.In(l)
		m := local.Hour()*60 + local.Minute()
		if !slices.Contains(tw.on, local.Weekday()) || m < tw.from || m >= tw.to {
			return false
		}
	}
	return true
}

var everyDay = []time.Weekday{0, 1, 2, 3, 4, 5, 6}

// The opening found by jumping from boundary to boundary is the one a
// minute-by-minute walk finds: at every minute from the check to the
// opening something refuses, and at the opening nothing does. Random
// moments over 2024-2040 (a third of them in the days around Christmas,
// Australia Day and Easter), for each rule with zones of its places,
// alone and with windows.
func TestOpeningMatchesMinuteWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 4))
	windows := []testWindow{
		{hours: "off"},
		{"08:00-21:00", "mon-sun", 8 * 60, 21 * 60, everyDay},
		{"10:00-19:00", "mon-fri", 10 * 60, 19 * 60, []time.Weekday{1, 2, 3, 4, 5}},
		{"20:00-23:00", "sat,sun", 20 * 60, 23 * 60, []time.Weekday{0, 6}},
	}
	places := []struct {
		rules []string
		zones []string
	}{
		{[]string{"us"}, []string{"America/Los_Angeles", "America/Phoenix"}},
		{[]string{"us", "us-fl"}, []string{"America/New_York", "America/Chicago"}},
		{[]string{"us", "us-ok"}, []string{"America/Chicago"}},
		{[]string{"us", "us-tx"}, []string{"America/Chicago", "America/Denver"}},
		{[]string{"ca"}, []string{"America/St_Johns", "America/Halifax"}},
		{[]string{"au"}, []string{"Australia/Sydney"}},
		{[]string{"au"}, []string{"Australia/Adelaide", "Australia/Perth", "Australia/Lord_Howe"}},
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	span := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC).Sub(start)
	n := 15
	if testing.Short() {
		n = 3
	}
	for _, p := range places {
		var rs []Rule
		for _, id := range p.rules {
			r, _ := Lookup(id)
			rs = append(rs, r)
		}
		c, err := newChecker(rs, p.zones)
		if err != nil {
			t.Fatal(err)
		}
		for _, tw := range windows {
			w, err := callhours.Parse(tw.hours, tw.days)
			if err != nil {
				t.Fatal(err)
			}
			open := func(at time.Time) bool { return c.allOpen(c.all, at) && tw.holds(c.locs, at) }
			for range n {
				now := start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Minute)
				if rng.IntN(3) == 0 {
					y := now.Year()
					m, d := Easter(y)
					days := []time.Time{time.Date(y, 12, 22, 0, 0, 0, 0, time.UTC), time.Date(y, m, d-4, 0, 0, 0, 0, time.UTC), time.Date(y, 1, 24, 0, 0, 0, 0, time.UTC)}
					now = days[rng.IntN(len(days))].Add(time.Duration(rng.IntN(5*24*60)) * time.Minute)
				}
				v, err := Check(w, rs, p.zones, now)
				if err != nil {
					t.Fatal(err)
				}
				where := func() string {
					return p.rules[len(p.rules)-1] + " " + tw.hours + " " + tw.days + " at " + now.Format(time.RFC3339)
				}
				if v.Open != open(now) {
					t.Fatalf("%s: open %v, the walk says %v", where(), v.Open, !v.Open)
				}
				if v.Open {
					continue
				}
				limit := now.Add(horizon)
				if !v.OpensAt.IsZero() {
					limit = v.OpensAt
					if !open(v.OpensAt) {
						t.Fatalf("%s: opens at %v, when something still refuses", where(), v.OpensAt)
					}
				}
				for at := now.Add(time.Minute); at.Before(limit); at = at.Add(time.Minute) {
					if open(at) {
						t.Fatalf("%s: opens at %v, but already open at %v", where(), v.OpensAt, at)
					}
				}
			}
		}
	}
}
