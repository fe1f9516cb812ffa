package callrules_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/callrules"
	"github.com/byourside/bys-mcp/internal/numbering"
)

const (
	ny  = "America/New_York"
	chi = "America/Chicago"
	tor = "America/Toronto"
	van = "America/Vancouver"
	syd = "Australia/Sydney"
	per = "Australia/Perth"
	adl = "Australia/Adelaide"
)

// at is a local time ("2006-01-02 15:04") in zone.
func at(t *testing.T, zone, local string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", local, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func rule(t *testing.T, id string) callrules.Rule {
	t.Helper()
	r, ok := callrules.Lookup(id)
	if !ok {
		t.Fatalf("no rule %q", id)
	}
	return r
}

func window(t *testing.T, hours, days string) callhours.Window {
	t.Helper()
	w, err := callhours.Parse(hours, days)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func opens(v callrules.Verdict) string {
	if v.OpensAt.IsZero() {
		return ""
	}
	return v.OpensAt.Format("2006-01-02 15:04")
}

// Each rule alone (the window off), in one zone: the edges of its
// windows, its weekend, and its next opening, in the zone's local time.
func TestRuleEdges(t *testing.T) {
	// 2026-12-07 is a Monday; 2026-06-01 is a Monday in Australia's winter
	// (no daylight saving in Sydney).
	cases := []struct {
		rule, zone, now string
		opensAt         string // "" when open
	}{
		{"us", ny, "2026-12-07 07:59", "2026-12-07 08:00"},
		{"us", ny, "2026-12-07 08:00", ""},
		{"us", ny, "2026-12-07 20:59", ""},
		{"us", ny, "2026-12-07 21:00", "2026-12-08 08:00"},
		{"us", ny, "2026-12-07 23:30", "2026-12-08 08:00"},
		{"us", ny, "2026-12-13 08:00", ""}, // Sunday: every day alike
		{"us", chi, "2026-12-12 07:59", "2026-12-12 08:00"},

		{"us-fl", ny, "2026-12-07 07:59", "2026-12-07 08:00"},
		{"us-fl", ny, "2026-12-07 08:00", ""},
		{"us-fl", ny, "2026-12-07 19:59", ""},
		{"us-fl", ny, "2026-12-07 20:00", "2026-12-08 08:00"},
		{"us-fl", ny, "2026-12-13 19:59", ""},
		{"us-fl", ny, "2026-12-13 20:00", "2026-12-14 08:00"},

		{"us-ok", chi, "2026-12-07 07:59", "2026-12-07 08:00"},
		{"us-ok", chi, "2026-12-07 08:00", ""},
		{"us-ok", chi, "2026-12-07 19:59", ""},
		{"us-ok", chi, "2026-12-07 20:00", "2026-12-08 08:00"},

		{"us-tx", chi, "2026-12-07 08:59", "2026-12-07 09:00"},
		{"us-tx", chi, "2026-12-07 09:00", ""},
		{"us-tx", chi, "2026-12-07 20:59", ""},
		{"us-tx", chi, "2026-12-07 21:00", "2026-12-08 09:00"},
		{"us-tx", chi, "2026-12-12 09:00", ""},                 // Saturday as a weekday
		{"us-tx", chi, "2026-12-12 21:00", "2026-12-13 12:00"}, // Saturday night: Sunday noon
		{"us-tx", chi, "2026-12-13 09:00", "2026-12-13 12:00"}, // Sunday morning
		{"us-tx", chi, "2026-12-13 11:59", "2026-12-13 12:00"},
		{"us-tx", chi, "2026-12-13 12:00", ""},
		{"us-tx", chi, "2026-12-13 20:59", ""},
		{"us-tx", chi, "2026-12-13 21:00", "2026-12-14 09:00"},

		{"ca", tor, "2026-12-11 08:59", "2026-12-11 09:00"}, // Friday
		{"ca", tor, "2026-12-11 09:00", ""},
		{"ca", tor, "2026-12-11 21:29", ""},
		{"ca", tor, "2026-12-11 21:30", "2026-12-12 10:00"},
		{"ca", tor, "2026-12-12 09:00", "2026-12-12 10:00"}, // Saturday: weekend hours
		{"ca", tor, "2026-12-12 09:59", "2026-12-12 10:00"},
		{"ca", tor, "2026-12-12 10:00", ""},
		{"ca", tor, "2026-12-12 17:59", ""},
		{"ca", tor, "2026-12-12 18:00", "2026-12-13 10:00"},
		{"ca", tor, "2026-12-13 10:00", ""}, // Sunday
		{"ca", tor, "2026-12-13 18:00", "2026-12-14 09:00"},
		{"ca", van, "2026-12-13 20:00", "2026-12-14 09:00"},

		{"au", syd, "2026-06-01 08:59", "2026-06-01 09:00"},
		{"au", syd, "2026-06-01 09:00", ""},
		{"au", syd, "2026-06-01 19:59", ""},
		{"au", syd, "2026-06-01 20:00", "2026-06-02 09:00"},
		{"au", syd, "2026-06-05 20:30", "2026-06-06 09:00"}, // Friday night: Saturday morning
		{"au", syd, "2026-06-06 08:59", "2026-06-06 09:00"},
		{"au", syd, "2026-06-06 09:00", ""},
		{"au", syd, "2026-06-06 16:59", ""},
		{"au", syd, "2026-06-06 17:00", "2026-06-08 09:00"}, // Saturday evening: Monday
		{"au", syd, "2026-06-06 17:30", "2026-06-08 09:00"},
		{"au", syd, "2026-06-07 12:00", "2026-06-08 09:00"}, // Sunday: no calls
		{"au", per, "2026-06-07 12:00", "2026-06-08 09:00"},
	}
	for _, c := range cases {
		now := at(t, c.zone, c.now)
		v, err := callrules.Check(callhours.Off, []callrules.Rule{rule(t, c.rule)}, []string{c.zone}, now)
		if err != nil {
			t.Fatalf("%s %s %s: %v", c.rule, c.zone, c.now, err)
		}
		if v.Open != (c.opensAt == "") || opens(v) != c.opensAt {
			t.Errorf("%s at %s in %s: open %v, opens %q; want open %v, opens %q", c.rule, c.now, c.zone, v.Open, opens(v), c.opensAt == "", c.opensAt)
		}
		if v.Zone.String() != c.zone || !v.Local.Equal(now) || v.Local.Location() != v.Zone {
			t.Errorf("%s at %s: zone %s, local %v; want %s and now", c.rule, c.now, v.Zone, v.Local, c.zone)
		}
		if v.Open {
			if v.Rule != nil || v.Holiday != "" || v.WindowClosed {
				t.Errorf("%s at %s: open verdict carries a refusal: %+v", c.rule, c.now, v)
			}
			continue
		}
		if v.Rule == nil || v.Rule.ID != c.rule || v.WindowClosed {
			t.Errorf("%s at %s: refused by %v (window %v), want %s alone", c.rule, c.now, v.Rule, v.WindowClosed, c.rule)
		}
		if v.OpensAt.Location() != v.Zone {
			t.Errorf("%s at %s: opensAt in %s, want %s", c.rule, c.now, v.OpensAt.Location(), v.Zone)
		}
	}
}

// Australia's national public holidays, with Easter computed and
// substitute days for weekend holidays, in Sydney.
func TestAustralianHolidays(t *testing.T) {
	au := []callrules.Rule{rule(t, "au")}
	cases := []struct {
		now     string
		opensAt string // "" when open
		holiday string // the holiday named by the refusal
	}{
		// 2024: Easter Sunday is 31 March.
		{"2024-03-28 19:59", "", ""},
		{"2024-03-28 20:00", "2024-03-30 09:00", ""}, // Thursday night: Good Friday passes
		{"2024-03-29 12:00", "2024-03-30 09:00", "Good Friday"},
		{"2024-03-30 12:00", "", ""},                 // Easter Saturday is not national
		{"2024-03-30 17:30", "2024-04-02 09:00", ""}, // Saturday evening: Monday is Easter Monday
		{"2024-04-01 12:00", "2024-04-02 09:00", "Easter Monday"},
		{"2024-04-02 09:00", "", ""},
		// 2025: Easter 20 April; Anzac Day is a Friday.
		{"2025-04-18 09:00", "2025-04-19 09:00", "Good Friday"},
		{"2025-04-21 09:00", "2025-04-22 09:00", "Easter Monday"},
		{"2025-04-25 10:00", "2025-04-26 09:00", "Anzac Day"},
		// 2026: Easter 5 April; Anzac Day is a Saturday, with no substitute.
		{"2026-04-03 09:00", "2026-04-04 09:00", "Good Friday"},
		{"2026-04-06 09:00", "2026-04-07 09:00", "Easter Monday"},
		{"2026-04-25 10:00", "2026-04-27 09:00", "Anzac Day"},
		{"2026-04-27 09:00", "", ""},
		// 2027: Easter 28 March.
		{"2027-03-26 09:00", "2027-03-27 09:00", "Good Friday"},
		{"2027-03-27 17:00", "2027-03-30 09:00", ""},
		{"2027-03-29 09:00", "2027-03-30 09:00", "Easter Monday"},
		// 2038: Easter Sunday is Anzac Day, 25 April.
		{"2038-04-23 12:00", "2038-04-24 09:00", "Good Friday"},
		{"2038-04-24 12:00", "", ""},
		{"2038-04-24 17:00", "2038-04-27 09:00", ""},
		{"2038-04-25 12:00", "2038-04-27 09:00", "Anzac Day"},
		{"2038-04-26 12:00", "2038-04-27 09:00", "Easter Monday"},
		// Christmas 2027 is a Saturday: Monday 27 and Tuesday 28 are off.
		{"2027-12-24 19:59", "", ""},
		{"2027-12-24 20:00", "2027-12-29 09:00", ""},
		{"2027-12-25 10:00", "2027-12-29 09:00", "Christmas Day"},
		{"2027-12-27 10:00", "2027-12-29 09:00", "Christmas Day (substitute day)"},
		{"2027-12-28 10:00", "2027-12-29 09:00", "Boxing Day (substitute day)"},
		{"2027-12-29 09:00", "", ""},
		// Christmas 2022 is a Sunday: Boxing Day Monday, Tuesday 27 off.
		{"2022-12-23 20:00", "2022-12-24 09:00", ""}, // Christmas Eve is a Saturday like any
		{"2022-12-24 17:00", "2022-12-28 09:00", ""},
		{"2022-12-26 10:00", "2022-12-28 09:00", "Boxing Day"},
		{"2022-12-27 10:00", "2022-12-28 09:00", "Christmas Day (substitute day)"},
		// Christmas 2026 is a Friday: Boxing Day Saturday, Monday 28 off.
		{"2026-12-24 20:00", "2026-12-29 09:00", ""},
		{"2026-12-26 10:00", "2026-12-29 09:00", "Boxing Day"},
		{"2026-12-28 10:00", "2026-12-29 09:00", "Boxing Day (substitute day)"},
		// New Year's Day 2028 is a Saturday: Monday 3 January off (the
		// search crosses the year).
		{"2027-12-31 20:00", "2028-01-04 09:00", ""},
		{"2028-01-01 10:00", "2028-01-04 09:00", "New Year's Day"},
		{"2028-01-03 10:00", "2028-01-04 09:00", "New Year's Day (substitute day)"},
		// New Year's Day 2023 is a Sunday: Monday 2 January off.
		{"2023-01-02 10:00", "2023-01-03 09:00", "New Year's Day (substitute day)"},
		// Australia Day 2025 is a Sunday, 2030 a Saturday.
		{"2025-01-27 10:00", "2025-01-28 09:00", "Australia Day (substitute day)"},
		{"2030-01-26 10:00", "2030-01-29 09:00", "Australia Day"},
		{"2030-01-28 10:00", "2030-01-29 09:00", "Australia Day (substitute day)"},
		{"2029-01-26 10:00", "2029-01-27 09:00", "Australia Day"}, // a Friday: Saturday is open
	}
	for _, c := range cases {
		v, err := callrules.Check(callhours.Off, au, []string{syd}, at(t, syd, c.now))
		if err != nil {
			t.Fatal(err)
		}
		if v.Open != (c.opensAt == "") || opens(v) != c.opensAt || v.Holiday != c.holiday {
			t.Errorf("%s: open %v, opens %q, holiday %q; want open %v, opens %q, holiday %q", c.now, v.Open, opens(v), v.Holiday, c.opensAt == "", c.opensAt, c.holiday)
		}
	}
}

func TestHolidaysIn(t *testing.T) {
	au := rule(t, "au")
	list := func(year int) string {
		var parts []string
		for _, o := range au.HolidaysIn(year) {
			parts = append(parts, time.Date(year, o.Month, o.Day, 0, 0, 0, 0, time.UTC).Format("01-02 Mon")+" "+o.Name)
		}
		return strings.Join(parts, "; ")
	}
	want := map[int]string{
		2027: "01-01 Fri New Year's Day; 01-26 Tue Australia Day; 03-26 Fri Good Friday; 03-29 Mon Easter Monday; " +
			"04-25 Sun Anzac Day; 12-25 Sat Christmas Day; 12-26 Sun Boxing Day; " +
			"12-27 Mon Christmas Day (substitute day); 12-28 Tue Boxing Day (substitute day)",
		2038: "01-01 Fri New Year's Day; 01-26 Tue Australia Day; 04-23 Fri Good Friday; 04-25 Sun Anzac Day; " +
			"04-26 Mon Easter Monday; 12-25 Sat Christmas Day; 12-26 Sun Boxing Day; " +
			"12-27 Mon Christmas Day (substitute day); 12-28 Tue Boxing Day (substitute day)",
		// Easter Monday is Anzac Day: one day, both names, nothing added.
		2011: "01-01 Sat New Year's Day; 01-03 Mon New Year's Day (substitute day); 01-26 Wed Australia Day; " +
			"04-22 Fri Good Friday; 04-25 Mon Easter Monday and Anzac Day; 12-25 Sun Christmas Day; " +
			"12-26 Mon Boxing Day; 12-27 Tue Christmas Day (substitute day)",
	}
	for year, w := range want {
		if got := list(year); got != w {
			t.Errorf("%d:\n got %s\nwant %s", year, got, w)
		}
	}
	if got := rule(t, "us").HolidaysIn(2027); got != nil {
		t.Errorf("the US rule has holidays: %v", got)
	}
}

// oudin is Easter by another method (Oudin, 1940, as in the Explanatory
// Supplement to the Astronomical Almanac), to check Easter against.
func oudin(y int) (time.Month, int) {
	c := y / 100
	n := y - 19*(y/19)
	k := (c - 17) / 25
	i := c - c/4 - (c-k)/3 + 19*n + 15
	i -= 30 * (i / 30)
	i -= (i / 28) * (1 - (i/28)*(29/(i+1))*((21-n)/11))
	j := y + y/4 + i + 2 - c + c/4
	j -= 7 * (j / 7)
	l := i - j
	m := 3 + (l+40)/44
	d := l + 28 - 31*(m/4)
	return time.Month(m), d
}

func TestEaster(t *testing.T) {
	known := map[int]string{
		1818: "03-22", 1943: "04-25", 2000: "04-23", 2008: "03-23", 2011: "04-24", 2019: "04-21",
		2024: "03-31", 2025: "04-20", 2026: "04-05", 2027: "03-28", 2038: "04-25", 2285: "03-22",
	}
	for year, want := range known {
		m, d := callrules.Easter(year)
		if got := time.Date(year, m, d, 0, 0, 0, 0, time.UTC).Format("01-02"); got != want {
			t.Errorf("Easter %d = %s, want %s", year, got, want)
		}
	}
	for year := 1583; year <= 4099; year++ {
		m, d := callrules.Easter(year)
		om, od := oudin(year)
		if m != om || d != od {
			t.Fatalf("Easter %d = %s %d, Oudin's method says %s %d", year, m, d, om, od)
		}
		if wd := time.Date(year, m, d, 0, 0, 0, 0, time.UTC).Weekday(); wd != time.Sunday {
			t.Fatalf("Easter %d (%s %d) is a %s", year, m, d, wd)
		}
	}
}

// Daylight saving: openings are local times, and the wait across a
// change is an hour shorter or longer than the clock suggests.
func TestDaylightSaving(t *testing.T) {
	cases := []struct {
		name, rule, zone, now, opensAt string
		wait                           time.Duration
	}{
		// New York and Chicago spring forward on Sunday 2027-03-14.
		{"US spring forward", "us", ny, "2027-03-13 21:00", "2027-03-14 08:00", 10 * time.Hour},
		{"US spring forward morning", "us", ny, "2027-03-14 07:59", "2027-03-14 08:00", time.Minute},
		{"Texas Sunday across spring forward", "us-tx", chi, "2027-03-13 21:00", "2027-03-14 12:00", 14 * time.Hour},
		{"US fall back", "us-fl", ny, "2027-11-06 20:00", "2027-11-07 08:00", 13 * time.Hour},
		// Sydney leaves daylight saving on Sunday 2027-04-04.
		{"Sydney DST end", "au", syd, "2027-04-03 17:00", "2027-04-05 09:00", 41 * time.Hour},
		// Sydney starts daylight saving on Sunday 2027-10-03.
		{"Sydney DST start", "au", syd, "2027-10-02 17:00", "2027-10-04 09:00", 39 * time.Hour},
		// Toronto falls back on Sunday 2027-11-07 and springs forward on 2027-03-14.
		{"Canada fall back", "ca", tor, "2027-11-06 18:00", "2027-11-07 10:00", 17 * time.Hour},
		{"Canada spring forward", "ca", tor, "2027-03-13 18:00", "2027-03-14 10:00", 15 * time.Hour},
	}
	for _, c := range cases {
		now := at(t, c.zone, c.now)
		v, err := callrules.Check(callhours.Off, []callrules.Rule{rule(t, c.rule)}, []string{c.zone}, now)
		if err != nil {
			t.Fatal(err)
		}
		if v.Open || opens(v) != c.opensAt || v.OpensAt.Sub(now) != c.wait {
			t.Errorf("%s: open %v, opens %q after %v; want %q after %v", c.name, v.Open, opens(v), v.OpensAt.Sub(now), c.opensAt, c.wait)
		}
	}
}

// A number in several zones is inside only when every rule holds in all
// of them (a +61 8 number is in Adelaide and Perth).
func TestSeveralZones(t *testing.T) {
	au := []callrules.Rule{rule(t, "au")}
	zones := []string{adl, per}
	cases := []struct {
		now, zone, opensAt string // now in Adelaide; opensAt in zone
	}{
		{"2026-06-01 09:30", per, "2026-06-01 09:00"}, // 08:00 in Perth
		{"2026-06-01 10:30", adl, ""},                 // 09:00 in Perth
		{"2026-06-01 19:59", adl, ""},
		{"2026-06-01 20:00", adl, "2026-06-02 10:30"}, // closed in Adelaide; opens when Perth does
	}
	for _, c := range cases {
		v, err := callrules.Check(callhours.Off, au, zones, at(t, adl, c.now))
		if err != nil {
			t.Fatal(err)
		}
		if v.Open != (c.opensAt == "") || v.Zone.String() != c.zone || opens(v) != c.opensAt {
			t.Errorf("%s Adelaide: open %v in %s, opens %q; want open %v in %s, opens %q", c.now, v.Open, v.Zone, opens(v), c.opensAt == "", c.zone, c.opensAt)
		}
	}
}

// The window and, where stricter, the rules: each can refuse, the
// opening is when both hold, and the refusal names the rule that applied.
func TestWindowAndRules(t *testing.T) {
	def := window(t, "", "")
	office := window(t, "10:00-17:00", "mon-fri")
	evenings := window(t, "10:00-19:00", "mon-fri")
	night := window(t, "22:00-06:00", "")
	us, fl, tx, au := rule(t, "us"), rule(t, "us-fl"), rule(t, "us-tx"), rule(t, "au")
	cases := []struct {
		name         string
		w            callhours.Window
		rules        []callrules.Rule
		zone, now    string
		opensAt      string // "" when open (or, with never, closed for good)
		never        bool
		rule         string // the refusing rule's ID, "" for none
		windowClosed bool
	}{
		{"Florida stricter than the window", def, []callrules.Rule{us, fl}, ny, "2026-12-07 20:30", "2026-12-08 08:00", false, "us-fl", false},
		{"both refuse: the state is named on a tie", def, []callrules.Rule{us, fl}, ny, "2026-12-07 22:00", "2026-12-08 08:00", false, "us-fl", true},
		{"no state rule: the window's 21:00 holds", def, []callrules.Rule{us}, ny, "2026-12-07 20:30", "", false, "", false},
		{"Texas Sunday morning", def, []callrules.Rule{us, tx}, chi, "2026-12-13 10:00", "2026-12-13 12:00", false, "us-tx", false},
		{"Texas Sunday night: the later opening names Texas", def, []callrules.Rule{us, tx}, chi, "2026-12-13 21:30", "2026-12-14 09:00", false, "us-tx", true},
		{"window stricter than Texas", office, []callrules.Rule{us, tx}, chi, "2026-12-13 13:00", "2026-12-14 10:00", false, "", true},
		{"window stricter on a weekday morning", office, []callrules.Rule{us, tx}, chi, "2026-12-07 09:30", "2026-12-07 10:00", false, "", true},
		{"window open, rule open", office, []callrules.Rule{us, tx}, chi, "2026-12-07 10:00", "", false, "", false},
		// Thursday before Easter 2027, 19:30: the window is closed, the rule
		// open; Friday and Monday are holidays, the weekend outside the
		// window, and Tuesday opens at the window's 10:00.
		{"window and holidays alternate", evenings, []callrules.Rule{au}, syd, "2027-03-25 19:30", "2027-03-30 10:00", false, "", true},
		{"a window that never meets the rule", night, []callrules.Rule{us}, ny, "2026-12-07 23:00", "", true, "us", false},
		{"window off: the rule holds alone", callhours.Off, []callrules.Rule{au}, syd, "2026-06-07 12:00", "2026-06-08 09:00", false, "au", false},
		{"no rules: the window alone", def, nil, ny, "2026-12-07 21:30", "2026-12-08 08:00", false, "", true},
	}
	for _, c := range cases {
		v, err := callrules.Check(c.w, c.rules, []string{c.zone}, at(t, c.zone, c.now))
		if err != nil {
			t.Fatal(err)
		}
		open := c.opensAt == "" && !c.never
		got := ""
		if v.Rule != nil {
			got = v.Rule.ID
		}
		if v.Open != open || opens(v) != c.opensAt || got != c.rule || v.WindowClosed != c.windowClosed {
			t.Errorf("%s: open %v, opens %q, rule %q, window closed %v; want open %v, opens %q, rule %q, window closed %v",
				c.name, v.Open, opens(v), got, v.WindowClosed, open, c.opensAt, c.rule, c.windowClosed)
		}
	}
}

// With no rules, the verdict is the window's own.
func TestNoRulesIsTheWindow(t *testing.T) {
	w := window(t, "09:00-17:30", "mon-fri")
	zones := []string{"America/Los_Angeles", ny}
	for h := 0; h < 24*9; h += 5 {
		now := time.Date(2027, 3, 10, 0, 17, 0, 0, time.UTC).Add(time.Duration(h) * time.Hour)
		want, err := w.Check(zones, now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := callrules.Check(w, nil, zones, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Open != want.Open || got.Zone != want.Zone || !got.Local.Equal(want.Local) || !got.OpensAt.Equal(want.OpensAt) || got.OpensAt.Location() != want.OpensAt.Location() {
			t.Errorf("%v: got %+v, want %+v", now, got, want)
		}
	}
}

func TestUnknownZonesFailClosed(t *testing.T) {
	for _, zones := range [][]string{nil, {}, {"Mars/Olympus_Mons"}, {syd, ""}} {
		if _, err := callrules.Check(callhours.Off, []callrules.Rule{rule(t, "au")}, zones, time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC)); !errors.Is(err, callhours.ErrUnknownZone) {
			t.Errorf("zones %q: error %v, want ErrUnknownZone", zones, err)
		}
	}
}

func TestFor(t *testing.T) {
	cases := map[string]string{
		"+12395550100":  "us us-fl", // Naples, Florida
		"+17285550100":  "us us-fl", // the newest Palm Beach overlay
		"+18505550100":  "us us-fl", // the panhandle
		"+14055550100":  "us us-ok", // Oklahoma City
		"+19185550100":  "us us-ok", // Tulsa
		"+12105550100":  "us us-tx", // San Antonio
		"+19155550100":  "us us-tx", // El Paso (Mountain time)
		"+14155550100":  "us",       // San Francisco
		"+12025550100":  "us",       // Washington, D.C.
		"+17875550100":  "us",       // Puerto Rico
		"+16715550100":  "us",       // Guam
		"+14165550100":  "ca",       // Toronto
		"+16045550100":  "ca",       // Vancouver
		"+61291234567":  "au",       // Sydney
		"+61412345678":  "au",       // a mobile
		"+442071234567": "",         // London: the window alone
		"+33123456789":  "",         // Paris
		"+12425550100":  "",         // the Bahamas: +1 but not the US
	}
	for e164, want := range cases {
		num, problem := numbering.Check(e164, "")
		if problem != nil {
			t.Fatalf("%s: %v", e164, problem)
		}
		var ids []string
		for _, r := range callrules.For(num.Region, e164) {
			ids = append(ids, r.ID)
		}
		if got := strings.Join(ids, " "); got != want {
			t.Errorf("For(%q, %s) = %q, want %q", num.Region, e164, got, want)
		}
	}
	if got := callrules.For("", "+12395550100"); got != nil {
		t.Errorf("no region: %v", got)
	}
	if got := callrules.For("us", "+12395550100"); len(got) != 2 {
		t.Errorf("lower-case region: %v", got)
	}
	// The rules handed out are copies: changing one leaves the data alone.
	r := callrules.For("US", "+12395550100")
	r[1].AreaCodes[0] = "000"
	r[1].Week[time.Monday] = callrules.Hours{}
	if again := callrules.For("US", "+12395550100"); again[1].AreaCodes[0] != "239" || again[1].Week[time.Monday].Closed() {
		t.Error("For hands out the package's own data")
	}
}

func TestTimesAndReason(t *testing.T) {
	want := map[string]string{
		"us":    "8:00-21:00 every day",
		"us-fl": "8:00-20:00 every day",
		"us-ok": "8:00-20:00 every day",
		"us-tx": "9:00-21:00 Monday to Saturday, 12:00-21:00 Sunday",
		"ca":    "9:00-21:30 Monday to Friday, 10:00-18:00 Saturday and Sunday",
		"au":    "9:00-20:00 Monday to Friday, 9:00-17:00 Saturday, no calls on Sunday or national public holidays",
	}
	for _, r := range callrules.All() {
		if got := r.Times(); got != want[r.ID] {
			t.Errorf("%s: Times() = %q, want %q", r.ID, got, want[r.ID])
		}
	}
	fl := []callrules.Rule{rule(t, "us-fl")}
	v, _ := callrules.Check(callhours.Off, fl, []string{ny}, at(t, ny, "2026-12-07 20:30"))
	if got := v.Reason(); got != "Florida (Fla. Stat. § 501.616(6)(a)) allows calls 8:00-20:00 every day" {
		t.Errorf("Reason() = %q", got)
	}
	v, _ = callrules.Check(callhours.Off, []callrules.Rule{rule(t, "au")}, []string{syd}, at(t, syd, "2027-12-27 10:00"))
	if got := v.Reason(); got != "Australia (Telecommunications (Telemarketing and Research Calls) Industry Standard 2017) allows no calls on national public holidays: it is Christmas Day (substitute day) there" {
		t.Errorf("Reason() = %q", got)
	}
	v, _ = callrules.Check(window(t, "", ""), fl, []string{ny}, at(t, ny, "2026-12-07 12:00"))
	if v.Reason() != "" {
		t.Errorf("open verdict has a reason: %q", v.Reason())
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]callrules.Mode{"": callrules.ModeWindow, "window": callrules.ModeWindow, " Regional ": callrules.ModeRegional} {
		if got, err := callrules.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"strict", "on", "regional,window"} {
		if _, err := callrules.ParseMode(in); err == nil || !strings.Contains(err.Error(), "--calling-rules") {
			t.Errorf("ParseMode(%q): error %v, want one naming --calling-rules", in, err)
		}
	}
}
