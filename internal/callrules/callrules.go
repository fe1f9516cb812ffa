// Package callrules owns calling rules by place (--calling-rules): the
// calling times that laws and regulators publish for a destination (the
// United States, Florida, Oklahoma, Texas, Canada, Australia), held as
// data with their sources; which of them apply to a number; and the
// decision, together with the --calling-hours window of package
// callhours, whether a number may ring at a moment, which rule refused if
// not, and when every rule and the window next hold at once. Times are the
// destination's local time, in every time zone of the number; the package
// never reads the clock (the moment is always a parameter).
package callrules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/callhours"
)

// Mode is the value of --calling-rules.
type Mode string

const (
	// ModeWindow holds calls to the window alone (--calling-hours,
	// --calling-days). The default.
	ModeWindow Mode = "window"
	// ModeRegional also holds calls to the rules published for the
	// destination, where they are stricter than the window.
	ModeRegional Mode = "regional"
)

// ParseMode reads --calling-rules; empty is the default, window. The
// error is one sentence naming the flag.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return ModeWindow, nil
	case ModeWindow, ModeRegional:
		return m, nil
	}
	return "", fmt.Errorf("--calling-rules %q must be window (only --calling-hours and --calling-days; the default) or regional (also the calling times published for the destination, where stricter)", s)
}

// Hours is one day's calling time in a rule, in minutes after local
// midnight: calls may start from Open up to, not including, Close. The
// zero Hours is a day without calls.
type Hours struct{ Open, Close int }

// Closed reports whether the day allows no calls.
func (h Hours) Closed() bool { return h.Close <= h.Open }

func (h Hours) holds(minute int) bool { return minute >= h.Open && minute < h.Close }

func (h Hours) String() string {
	if h.Closed() {
		return "no calls"
	}
	return clock(h.Open) + "-" + clock(h.Close)
}

func clock(m int) string { return fmt.Sprintf("%d:%02d", m/60, m%60) }

// Holiday is a day of the year on which a rule allows no calls.
type Holiday struct {
	Name string
	// Month and Day place a fixed holiday. With Easter, Day counts days
	// after Easter Sunday instead (-2 is Good Friday) and Month is unused.
	Month  time.Month
	Day    int
	Easter bool
	// Substitute: when the holiday falls on a Saturday or Sunday, the next
	// weekday that is not already a holiday is one too.
	Substitute bool
}

// Rule is the calling time a law or regulator publishes for a place.
type Rule struct {
	// ID is short and stable: "us", "us-fl", "ca", "au".
	ID string
	// Place is where the rule holds, for people: "Florida".
	Place string
	// Source is the citation ("Fla. Stat. § 501.616(6)(a)") and URL where
	// it can be read.
	Source string
	URL    string
	// Regions are the ISO 3166 region codes of the numbers the rule
	// holds for, as package numbering gives them ("US", "CA", "AU").
	Regions []string
	// AreaCodes narrow a North American rule to these area codes (the
	// three digits after +1); empty: the whole of Regions.
	AreaCodes []string
	// Week is each day's hours, indexed by time.Weekday.
	Week [7]Hours
	// Holidays are days without calls whatever Week says; HolidayNote is
	// what the source calls them ("national public holidays").
	Holidays    []Holiday
	HolidayNote string
}

// Name names the rule with its source, for a refusal:
// "Florida (Fla. Stat. § 501.616(6)(a))".
func (r Rule) Name() string { return r.Place + " (" + r.Source + ")" }

var dayNames = [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// Times says the rule's calling times for people: "9:00-21:00 Monday to
// Saturday, 12:00-21:00 Sunday"; "9:00-20:00 Monday to Friday, 9:00-17:00
// Saturday, no calls on Sunday or national public holidays".
func (r Rule) Times() string {
	var open, closed []string
	for i := 0; i < 7; {
		d := (i + 1) % 7 // from Monday
		j := i + 1
		for j < 7 && r.Week[(j+1)%7] == r.Week[d] {
			j++
		}
		days := dayNames[d]
		switch last := dayNames[j%7]; {
		case i == 0 && j == 7:
			days = "every day"
		case j-i == 2:
			days += " and " + last
		case j-i > 2:
			days += " to " + last
		}
		if r.Week[d].Closed() {
			closed = append(closed, days)
		} else {
			open = append(open, r.Week[d].String()+" "+days)
		}
		i = j
	}
	if r.HolidayNote != "" {
		closed = append(closed, r.HolidayNote)
	}
	if len(closed) > 0 {
		open = append(open, "no calls on "+strings.Join(closed, " or "))
	}
	return strings.Join(open, ", ")
}

func (r Rule) clone() Rule {
	r.Regions = slices.Clone(r.Regions)
	r.AreaCodes = slices.Clone(r.AreaCodes)
	r.Holidays = slices.Clone(r.Holidays)
	return r
}

// All is every rule the package holds, the United States' first.
func All() []Rule {
	out := make([]Rule, len(rules))
	for i, r := range rules {
		out[i] = r.clone()
	}
	return out
}

// Lookup is the rule with this ID.
func Lookup(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r.clone(), true
		}
	}
	return Rule{}, false
}

// For is every rule that holds for a number of region (ISO 3166, as
// numbering.Check gives it) with E.164 form e164: for a US number, the
// United States' rule and its state's, by area code. None (nil) for a
// place without published rules here: those follow the window alone.
// Which numbers are held to calling times at all (place_call exempts
// toll-free and other numbers not tied to a place) is the caller's
// decision, as with the window.
func For(region, e164 string) []Rule {
	region = strings.ToUpper(strings.TrimSpace(region))
	if region == "" {
		return nil
	}
	areaCode := ""
	if d := strings.TrimPrefix(e164, "+"); len(d) >= 4 && d[0] == '1' {
		areaCode = d[1:4]
	}
	var out []Rule
	for _, r := range rules {
		if !slices.Contains(r.Regions, region) {
			continue
		}
		if len(r.AreaCodes) > 0 && !slices.Contains(r.AreaCodes, areaCode) {
			continue
		}
		out = append(out, r.clone())
	}
	return out
}

// Easter is the date of Easter Sunday in the Gregorian calendar (the
// anonymous Gregorian algorithm, also known as Meeus/Jones/Butcher).
func Easter(year int) (time.Month, int) {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Month(month), day
}

// Observed is a day without calls in a given year: a holiday, or the
// substitute day of one that fell on a weekend.
type Observed struct {
	Month time.Month
	Day   int
	// Name is the holiday's ("Christmas Day"), "(substitute day)" after
	// it for a substitute; holidays on the same day are joined with "and".
	Name string
}

// HolidaysIn lists the rule's days without calls for holidays in year, in
// date order, substitute days included.
func (r Rule) HolidaysIn(year int) []Observed {
	if len(r.Holidays) == 0 {
		return nil
	}
	type dated struct {
		at   time.Time
		name string
		sub  bool
	}
	days := make([]dated, 0, len(r.Holidays)+4)
	for _, h := range r.Holidays {
		month, day := h.Month, h.Day
		if h.Easter {
			m, d := Easter(year)
			month, day = m, d+h.Day
		}
		days = append(days, dated{time.Date(year, month, day, 0, 0, 0, 0, time.UTC), h.Name, h.Substitute})
	}
	sort.SliceStable(days, func(i, j int) bool { return days[i].at.Before(days[j].at) })
	taken := make(map[time.Time]bool, len(days))
	for _, d := range days {
		taken[d.at] = true
	}
	weekend := func(t time.Time) bool { return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday }
	n := len(days)
	for _, d := range days[:n] {
		if !d.sub || !weekend(d.at) {
			continue
		}
		s := d.at.AddDate(0, 0, 1)
		for weekend(s) || taken[s] {
			s = s.AddDate(0, 0, 1)
		}
		taken[s] = true
		days = append(days, dated{at: s, name: d.name + " (substitute day)"})
	}
	sort.SliceStable(days, func(i, j int) bool { return days[i].at.Before(days[j].at) })
	var out []Observed
	for _, d := range days {
		if k := len(out) - 1; k >= 0 && out[k].Month == d.at.Month() && out[k].Day == d.at.Day() {
			out[k].Name += " and " + d.name
			continue
		}
		out = append(out, Observed{Month: d.at.Month(), Day: d.at.Day(), Name: d.name})
	}
	return out
}

// Verdict is the decision for a number at a moment. Its first four fields
// are callhours.Verdict's, with the same meaning, for the window and the
// rules together.
type Verdict struct {
	Open bool
	// Zone is the zone the verdict is about: when closed, the first zone
	// where Rule (else the window) refuses; else the first zone.
	Zone *time.Location
	// Local is the moment in Zone.
	Local time.Time
	// OpensAt is the earliest moment after the check at which the window
	// and every rule hold in every zone, in Zone; zero when open, or when
	// that does not happen within two weeks.
	OpensAt time.Time
	// Rule is the published rule that refused: nil when open, or when only
	// the window refused. When several refuse, it is the one that opens
	// last (the more specific one on a tie: a state's before its
	// country's).
	Rule *Rule
	// Holiday names the holiday that closed Rule's day, when that is why
	// ("Good Friday"); "" otherwise.
	Holiday string
	// WindowClosed reports that the window refused too (or alone, when
	// Rule is nil).
	WindowClosed bool
}

// Reason says why the call was refused, naming the rule and its source,
// for a refusal's text: "Florida (Fla. Stat. § 501.616(6)(a)) allows calls
// 8:00-20:00 every day"; "Australia (...) allows no calls on national
// public holidays: it is Good Friday there". Empty when open or when
// only the window refused (the caller names the window).
func (v Verdict) Reason() string {
	if v.Open || v.Rule == nil {
		return ""
	}
	if v.Holiday != "" {
		note := v.Rule.HolidayNote
		if note == "" {
			note = "holidays"
		}
		return v.Rule.Name() + " allows no calls on " + note + ": it is " + v.Holiday + " there"
	}
	return v.Rule.Name() + " allows calls " + v.Rule.Times()
}

// horizon is how far ahead an opening is looked for, as callhours does.
const horizon = 14 * 24 * time.Hour

// Check decides whether a number with these IANA zones may ring at now
// under the window and, where stricter, the rules (For's): the window
// holds alone when rules is empty, so one call serves both modes. No
// zones, or a zone the database does not know, is an error (callers fail
// closed). A window that is off still leaves the rules to hold.
func Check(w callhours.Window, rules []Rule, zones []string, now time.Time) (Verdict, error) {
	wv, err := w.Check(zones, now)
	if err != nil {
		return Verdict{}, err
	}
	c, err := newChecker(rules, zones)
	if err != nil {
		return Verdict{}, err
	}
	v := Verdict{Open: true, Zone: c.locs[0], WindowClosed: !wv.Open}
	// The refusing rule: of the rules closed now, the one that opens last
	// (never opening counts as last; a tie goes to the later rule, For
	// listing a country's rule before its state's).
	var pick struct {
		rule, zone int
		at         time.Time
		never, set bool
	}
	for i := range c.rules {
		z := c.closedIn(i, now)
		if z < 0 {
			continue
		}
		at, ok := c.nextOpen([]int{i}, now)
		if !pick.set || !ok || (!pick.never && !at.Before(pick.at)) {
			pick.rule, pick.zone, pick.at, pick.never, pick.set = i, z, at, !ok, true
		}
	}
	if pick.set {
		r := c.rules[pick.rule]
		v.Open, v.Rule, v.Zone = false, &r, c.locs[pick.zone]
		if name, ok := c.holiday(pick.rule, now.In(v.Zone)); ok {
			v.Holiday = name
		}
	}
	if v.Rule == nil && !wv.Open {
		v.Open, v.Zone = false, wv.Zone
	}
	v.Local = now.In(v.Zone)
	if v.Open {
		return v, nil
	}
	if at, ok := c.opensAt(w, zones, now); ok {
		v.OpensAt = at.In(v.Zone)
	}
	return v, nil
}

// checker evaluates rules in a number's zones, with each rule's holidays
// worked out once per year.
type checker struct {
	rules []Rule
	locs  []*time.Location
	memo  map[ruleYear]map[monthDay]string
	all   []int
}

type ruleYear struct{ rule, year int }

type monthDay struct {
	month time.Month
	day   int
}

func newChecker(rules []Rule, zones []string) (*checker, error) {
	c := &checker{rules: rules, memo: map[ruleYear]map[monthDay]string{}}
	for _, z := range zones {
		loc, err := callhours.LoadZone(z)
		if err != nil {
			return nil, err
		}
		c.locs = append(c.locs, loc)
	}
	if len(c.locs) == 0 {
		return nil, callhours.ErrUnknownZone
	}
	for i := range rules {
		c.all = append(c.all, i)
	}
	return c, nil
}

// holiday names the holiday of rule i on local's date, if it is one.
func (c *checker) holiday(i int, local time.Time) (string, bool) {
	if len(c.rules[i].Holidays) == 0 {
		return "", false
	}
	key := ruleYear{i, local.Year()}
	days, ok := c.memo[key]
	if !ok {
		days = map[monthDay]string{}
		for _, o := range c.rules[i].HolidaysIn(local.Year()) {
			days[monthDay{o.Month, o.Day}] = o.Name
		}
		c.memo[key] = days
	}
	name, ok := days[monthDay{local.Month(), local.Day()}]
	return name, ok
}

// hoursOn is rule i's hours on local's date (none on a holiday).
func (c *checker) hoursOn(i int, local time.Time) Hours {
	if _, hol := c.holiday(i, local); hol {
		return Hours{}
	}
	return c.rules[i].Week[local.Weekday()]
}

// closedIn is the index of the first zone where rule i refuses at t, or -1.
func (c *checker) closedIn(i int, t time.Time) int {
	for z, loc := range c.locs {
		local := t.In(loc)
		if !c.hoursOn(i, local).holds(local.Hour()*60 + local.Minute()) {
			return z
		}
	}
	return -1
}

func (c *checker) allOpen(idx []int, t time.Time) bool {
	for _, i := range idx {
		if c.closedIn(i, t) >= 0 {
			return false
		}
	}
	return true
}

// nextOpen is the first moment after from at which the rules idx all hold
// in every zone. That moment is one at which some rule opens in some zone,
// so those are the only candidates tried, earliest first.
func (c *checker) nextOpen(idx []int, from time.Time) (time.Time, bool) {
	var cands []time.Time
	for _, loc := range c.locs {
		local := from.In(loc)
		for d := 0; d <= int(horizon/(24*time.Hour))+1; d++ {
			day := time.Date(local.Year(), local.Month(), local.Day()+d, 12, 0, 0, 0, loc)
			for _, i := range idx {
				h := c.hoursOn(i, day)
				if h.Closed() {
					continue
				}
				at := time.Date(day.Year(), day.Month(), day.Day(), h.Open/60, h.Open%60, 0, 0, loc)
				if at.After(from) && at.Sub(from) <= horizon {
					cands = append(cands, at)
				}
			}
		}
	}
	sort.Slice(cands, func(a, b int) bool { return cands[a].Before(cands[b]) })
	for k, at := range cands {
		if k > 0 && at.Equal(cands[k-1]) {
			continue
		}
		if c.allOpen(idx, at) {
			return at, true
		}
	}
	return time.Time{}, false
}

// opensAt is the first moment at or after now at which the window and
// every rule hold in every zone: from now, jump to the window's next
// opening while it refuses and to the rules' while they do, until both
// hold at once. Each jump moves forward to the next opening of one of
// them, so none is skipped.
func (c *checker) opensAt(w callhours.Window, zones []string, now time.Time) (time.Time, bool) {
	for t := now; t.Sub(now) <= horizon; {
		wv, err := w.Check(zones, t)
		if err != nil {
			return time.Time{}, false
		}
		if !wv.Open {
			if wv.OpensAt.IsZero() {
				return time.Time{}, false
			}
			t = wv.OpensAt
			continue
		}
		if c.allOpen(c.all, t) {
			return t, true
		}
		next, ok := c.nextOpen(c.all, t)
		if !ok {
			return time.Time{}, false
		}
		t = next
	}
	return time.Time{}, false
}
