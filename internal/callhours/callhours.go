// Package callhours owns calling hours: the window a call may ring in, at
// the destination's local time (--calling-hours, --calling-days), and the
// decision, for a number's time zones at a given moment, whether it may
// ring now and, if not, when it next may. A number is inside hours only
// when the window holds in every one of its zones.
package callhours

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones on machines without a zone database (Windows, scratch images)
)

// Defaults of --calling-hours and --calling-days.
const (
	DefaultHours = "08:00-21:00"
	DefaultDays  = "mon-sun"
)

// Window is a daily window of local time on some days of the week. The
// zero Window is off (every moment is inside).
type Window struct {
	on         bool
	start, end int // minutes after midnight; start > end crosses midnight
	days       [7]bool
}

// Off is the window that never refuses.
var Off = Window{}

// On reports whether the window is enforced.
func (w Window) On() bool { return w.on }

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Parse reads --calling-hours ("HH:MM-HH:MM", or "off") and
// --calling-days (a comma list of days and ranges: "mon-fri,sat"). An
// empty value takes the default. Errors are one sentence naming the flag.
func Parse(hours, days string) (Window, error) {
	hours = strings.TrimSpace(strings.ToLower(hours))
	if hours == "" {
		hours = DefaultHours
	}
	days7, err := parseDays(days)
	if err != nil {
		return Window{}, err
	}
	if hours == "off" {
		return Off, nil
	}
	w := Window{on: true, days: days7}
	from, to, ok := strings.Cut(hours, "-")
	if !ok {
		return Window{}, fmt.Errorf("--calling-hours %q must be HH:MM-HH:MM in the destination's local time (e.g. 08:00-21:00; 22:00-06:00 crosses midnight) or off", hours)
	}
	if w.start, err = clock(from); err != nil {
		return Window{}, fmt.Errorf("--calling-hours %q: start %v; use HH:MM-HH:MM, e.g. 08:00-21:00, or off", hours, err)
	}
	if w.end, err = clock(to); err != nil {
		return Window{}, fmt.Errorf("--calling-hours %q: end %v; use HH:MM-HH:MM, e.g. 08:00-21:00, or off", hours, err)
	}
	if w.start == w.end {
		return Window{}, fmt.Errorf("--calling-hours %q opens and closes at the same time; give a window such as 08:00-21:00, or off to allow any hour", hours)
	}
	return w, nil
}

// clock parses HH:MM (24:00 allowed as an end of day).
func clock(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day between 00:00 and 24:00", s)
	}
	return hh*60 + mm, nil
}

func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		s = DefaultDays
	}
	bad := func(part string) ([7]bool, error) {
		return [7]bool{}, fmt.Errorf("--calling-days %q: %q is not a day or range; use three-letter days and ranges such as mon-fri,sat (default mon-sun)", s, part)
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		from, to, isRange := strings.Cut(part, "-")
		a, ok := dayIndex(from)
		if !ok {
			return bad(part)
		}
		b := a
		if isRange {
			if b, ok = dayIndex(to); !ok {
				return bad(part)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			days[d] = true
			if d == b {
				break
			}
		}
	}
	return days, nil
}

func dayIndex(s string) (int, bool) {
	s = strings.TrimSpace(s)
	for i, d := range dayNames {
		if s == d {
			return i, true
		}
	}
	return 0, false
}

// String renders the window as the flags would give it.
func (w Window) String() string {
	if !w.on {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d %s", w.start/60, w.start%60, w.end/60, w.end%60, w.daysString())
}

func (w Window) daysString() string {
	var parts []string
	for i := 0; i < 7; i++ {
		d := (i + 1) % 7 // from Monday
		if w.days[d] {
			parts = append(parts, dayNames[d])
		}
	}
	if len(parts) == 7 {
		return "every day"
	}
	return strings.Join(parts, ",")
}

// openAt reports whether local time t (in its zone) is inside the window.
// A window that crosses midnight belongs to the day it starts on.
func (w Window) openAt(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	day := int(t.Weekday())
	if w.start < w.end {
		return w.days[day] && m >= w.start && m < w.end
	}
	if m >= w.start {
		return w.days[day]
	}
	return m < w.end && w.days[(day+6)%7]
}

// ErrUnknownZone is returned for a zone the time-zone database lacks.
var ErrUnknownZone = errors.New("unknown time zone")

// Verdict is the window's decision for a number at a moment.
type Verdict struct {
	Open bool
	// Zone is the zone the verdict is about: the first closed zone when
	// closed, else the first zone.
	Zone *time.Location
	// Local is the moment in Zone.
	Local time.Time
	// OpensAt is when the window next holds in every zone (zero when open,
	// or when it never does within two weeks), in Zone.
	OpensAt time.Time
}

// Check decides whether a number with these IANA zones may ring at now.
// No zones, or a zone the database does not know, is an error (callers
// fail closed).
func (w Window) Check(zones []string, now time.Time) (Verdict, error) {
	if len(zones) == 0 {
		return Verdict{}, ErrUnknownZone
	}
	locs := make([]*time.Location, 0, len(zones))
	for _, z := range zones {
		loc, err := LoadZone(z)
		if err != nil {
			return Verdict{}, err
		}
		locs = append(locs, loc)
	}
	v := Verdict{Open: true, Zone: locs[0]}
	if !w.on {
		v.Local = now.In(v.Zone)
		return v, nil
	}
	for _, loc := range locs {
		if !w.openAt(now.In(loc)) {
			v.Open, v.Zone = false, loc
			break
		}
	}
	v.Local = now.In(v.Zone)
	if v.Open {
		return v, nil
	}
	if at, ok := w.nextOpen(locs, now); ok {
		v.OpensAt = at.In(v.Zone)
	}
	return v, nil
}

// nextOpen is the first moment after now when every zone is inside: one
// of the moments some zone's window opens (the last of them to open).
func (w Window) nextOpen(locs []*time.Location, now time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for _, loc := range locs {
		local := now.In(loc)
		for d := 0; d <= 14; d++ {
			day := time.Date(local.Year(), local.Month(), local.Day()+d, 0, 0, 0, 0, loc)
			at := time.Date(day.Year(), day.Month(), day.Day(), w.start/60, w.start%60, 0, 0, loc)
			if !at.After(now) || (found && !at.Before(best)) {
				continue
			}
			if w.allOpen(locs, at) {
				best, found = at, true
				break
			}
		}
	}
	return best, found
}

func (w Window) allOpen(locs []*time.Location, t time.Time) bool {
	for _, loc := range locs {
		if !w.openAt(t.In(loc)) {
			return false
		}
	}
	return true
}

// zones caches loaded zones: time.LoadLocation reads the zone database
// (a file, or the embedded copy) on every call, and a check may need dozens
// of zones (a +1 number outside any area code has 45).
var zones sync.Map // name -> *time.Location

// LoadZone loads an IANA zone, once per process; the binary embeds the
// database (time/tzdata), so this works on machines without one.
func LoadZone(name string) (*time.Location, error) {
	if name == "" {
		return nil, ErrUnknownZone
	}
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownZone, name)
	}
	zones.Store(name, loc)
	return loc, nil
}

// Place names a zone for people: "America/Los_Angeles" is "Los Angeles".
func Place(loc *time.Location) string {
	name := loc.String()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return strings.ReplaceAll(name, "_", " ")
}

// Clock renders a local time for people: "10:14 PM".
func Clock(t time.Time) string { return t.Format("3:04 PM") }

// Until renders a wait for people: "9 h 46 min", "12 min", "2 days 3 h".
func Until(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	days := int(d / (24 * time.Hour))
	h := int(d % (24 * time.Hour) / time.Hour)
	m := int(d % time.Hour / time.Minute)
	var parts []string
	if days == 1 {
		parts = append(parts, "1 day")
	} else if days > 1 {
		parts = append(parts, fmt.Sprintf("%d days", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	return strings.Join(parts, " ")
}
