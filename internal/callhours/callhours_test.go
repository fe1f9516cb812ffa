package callhours_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
	"github.com/byourside/bys-mcp/internal/testkit"
)

func mustParse(t *testing.T, hours, days string) callhours.Window {
	t.Helper()
	w, err := callhours.Parse(hours, days)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", hours, days, err)
	}
	return w
}

func at(t *testing.T, zone, local string) time.Time {
	t.Helper()
	return testkit.LocalTime(t, zone, local)
}

func TestParse(t *testing.T) {
	good := []struct{ hours, days, want string }{
		{"", "", "08:00-21:00 every day"},
		{"08:00-21:00", "mon-sun", "08:00-21:00 every day"},
		{"9:30-17:00", "mon-fri", "09:30-17:00 mon,tue,wed,thu,fri"},
		{"22:00-06:00", "fri-mon", "22:00-06:00 mon,fri,sat,sun"},
		{"00:00-24:00", "sat,sun", "00:00-24:00 sat,sun"},
		{" OFF ", "", "off"},
		{"08:00-21:00", "MON-FRI, sat", "08:00-21:00 mon,tue,wed,thu,fri,sat"},
	}
	for _, g := range good {
		w := mustParse(t, g.hours, g.days)
		if w.String() != g.want {
			t.Errorf("Parse(%q, %q) = %s, want %s", g.hours, g.days, w, g.want)
		}
	}
	bad := []struct{ hours, days, names string }{
		{"8-21", "", "--calling-hours"},
		{"08:00", "", "--calling-hours"},
		{"25:00-21:00", "", "--calling-hours"},
		{"08:60-21:00", "", "--calling-hours"},
		{"08:00-08:00", "", "--calling-hours"},
		{"08:00-24:01", "", "--calling-hours"},
		{"-08:00-21:00", "", "--calling-hours"},
		{"08:00-21:00", "monday", "--calling-days"},
		{"08:00-21:00", "mon-", "--calling-days"},
		{"08:00-21:00", "mon,,fri", "--calling-days"},
		{"off", "nonsense", "--calling-days"},
	}
	for _, b := range bad {
		_, err := callhours.Parse(b.hours, b.days)
		if err == nil || !strings.Contains(err.Error(), b.names) {
			t.Errorf("Parse(%q, %q): error %v, want one naming %s", b.hours, b.days, err, b.names)
		}
	}
}

func TestCheck(t *testing.T) {
	la, ny, chi := "America/Los_Angeles", "America/New_York", "America/Chicago"
	day := mustParse(t, "08:00-21:00", "")
	weekdays := mustParse(t, "09:00-17:00", "mon-fri")
	night := mustParse(t, "22:00-06:00", "fri")
	cases := []struct {
		name    string
		w       callhours.Window
		zones   []string
		now     time.Time
		open    bool
		zone    string
		opensAt string // RFC 3339 in zone, when closed
	}{
		{"inside", day, []string{la}, at(t, la, "2026-12-02 12:00"), true, la, ""},
		{"at opening", day, []string{la}, at(t, la, "2026-12-02 08:00"), true, la, ""},
		{"at closing", day, []string{la}, at(t, la, "2026-12-02 21:00"), false, la, "2026-12-03T08:00:00-08:00"},
		{"late evening", day, []string{la}, at(t, la, "2026-12-02 22:14"), false, la, "2026-12-03T08:00:00-08:00"},
		{"small hours", day, []string{la}, at(t, la, "2026-12-02 03:00"), false, la, "2026-12-02T08:00:00-08:00"},
		{"every zone must hold: NY closed", day, []string{la, ny}, at(t, la, "2026-12-02 19:00"), false, ny, "2026-12-03T11:00:00-05:00"},
		{"every zone must hold: LA not yet open", day, []string{ny, la}, at(t, ny, "2026-12-02 09:00"), false, la, "2026-12-02T08:00:00-08:00"},
		{"both open", day, []string{chi, ny}, at(t, ny, "2026-12-02 10:00"), true, chi, ""},
		{"weekday window on saturday", weekdays, []string{ny}, at(t, ny, "2026-12-05 10:00"), false, ny, "2026-12-07T09:00:00-05:00"},
		{"weekday window on friday evening", weekdays, []string{ny}, at(t, ny, "2026-12-04 17:30"), false, ny, "2026-12-07T09:00:00-05:00"},
		{"across midnight, after start", night, []string{ny}, at(t, ny, "2026-12-04 23:00"), true, ny, ""},
		{"across midnight, next morning belongs to friday", night, []string{ny}, at(t, ny, "2026-12-05 05:59"), true, ny, ""},
		{"across midnight, after end", night, []string{ny}, at(t, ny, "2026-12-05 06:00"), false, ny, "2026-12-11T22:00:00-05:00"},
		{"across midnight, thursday night is not friday's", night, []string{ny}, at(t, ny, "2026-12-03 23:00"), false, ny, "2026-12-04T22:00:00-05:00"},
		// Daylight saving: New York springs forward on 2026-03-08 and falls
		// back on 2026-11-01; the window follows local time.
		{"spring forward morning", day, []string{ny}, at(t, ny, "2026-03-08 07:30"), false, ny, "2026-03-08T08:00:00-04:00"},
		{"spring forward inside", day, []string{ny}, at(t, ny, "2026-03-08 08:00"), true, ny, ""},
		{"fall back night", day, []string{ny}, time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), false, ny, "2026-11-01T08:00:00-05:00"},
		{"off", callhours.Off, []string{la}, at(t, la, "2026-12-02 03:00"), true, la, ""},
	}
	for _, c := range cases {
		v, err := c.w.Check(c.zones, c.now)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if v.Open != c.open || v.Zone.String() != c.zone {
			t.Errorf("%s: open %v in %s, want open %v in %s", c.name, v.Open, v.Zone, c.open, c.zone)
		}
		got := ""
		if !v.OpensAt.IsZero() {
			got = v.OpensAt.Format(time.RFC3339)
		}
		if got != c.opensAt {
			t.Errorf("%s: opensAt %q, want %q", c.name, got, c.opensAt)
		}
		if !v.Local.Equal(c.now) || v.Local.Location().String() != c.zone {
			t.Errorf("%s: local %v, want now in %s", c.name, v.Local, c.zone)
		}
	}
}

func TestUnknownZonesFailClosed(t *testing.T) {
	w := mustParse(t, "", "")
	for _, zones := range [][]string{nil, {}, {"Etc/Unknown"}, {"America/Los_Angeles", "Mars/Olympus_Mons"}, {""}} {
		if _, err := w.Check(zones, time.Now()); !errors.Is(err, callhours.ErrUnknownZone) {
			t.Errorf("zones %q: error %v, want ErrUnknownZone", zones, err)
		}
	}
}

// Zones whose windows never overlap give no opening rather than a wrong one.
func TestWindowsThatNeverOverlap(t *testing.T) {
	w := mustParse(t, "09:00-10:00", "")
	v, err := w.Check([]string{"Pacific/Kiritimati", "Pacific/Pago_Pago"}, time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	if err != nil || v.Open || !v.OpensAt.IsZero() {
		t.Fatalf("verdict %+v, %v: want closed with no opening", v, err)
	}
}

func TestWords(t *testing.T) {
	loc, _ := time.LoadLocation("America/Los_Angeles")
	if got := callhours.Place(loc); got != "Los Angeles" {
		t.Errorf("Place = %q", got)
	}
	if got := callhours.Clock(time.Date(2026, 12, 2, 22, 14, 0, 0, loc)); got != "10:14 PM" {
		t.Errorf("Clock = %q", got)
	}
	for d, want := range map[time.Duration]string{
		9*time.Hour + 46*time.Minute: "9 h 46 min", 12 * time.Minute: "12 min", 20 * time.Second: "less than a minute",
		51 * time.Hour: "2 days 3 h", 24 * time.Hour: "1 day",
	} {
		if got := callhours.Until(d); got != want {
			t.Errorf("Until(%v) = %q, want %q", d, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"08:00-21:00", "22:00-06:00", "off", "", "24:00-00:00", "9:5-1", "ab:cd-ef:gh"} {
		f.Add(s, "mon-fri,sat")
	}
	f.Fuzz(func(t *testing.T, hours, days string) {
		w, err := callhours.Parse(hours, days)
		if err != nil {
			if !strings.Contains(err.Error(), "--calling-") {
				t.Fatalf("error does not name the flag: %v", err)
			}
			return
		}
		// Whatever parsed, a check never panics and answers consistently.
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		v, err := w.Check([]string{"Europe/London", "Asia/Tokyo"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Open && !v.OpensAt.IsZero() && !v.OpensAt.After(now) {
			t.Fatalf("%s: opens at %v, not after %v", w, v.OpensAt, now)
		}
	})
}
