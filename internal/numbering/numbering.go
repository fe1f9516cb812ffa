// Package numbering owns what bys-mcp knows about a phone number before it
// is dialled: whether it is in E.164 form and of a possible length for its
// country code, the E.164 form of a national number, the region and type it
// belongs to, whether it lies in a range the numbering plan lists as in use,
// and its time zones. The data is an extract of libphonenumber's metadata
// (github.com/nyaruka/phonenumbers, the source of truth) generated into
// tables.go by internal/gen and checked against the library by the drift
// test, so that nothing is parsed at process start: patterns compile on
// first use, per region.
package numbering

//go:generate go run ./internal/gen tables.go

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Type is a number's type, as libphonenumber names it ("" when unknown).
type Type string

// The types, in the order the tables hold them.
const (
	PremiumRate       Type = "premium_rate"
	TollFree          Type = "toll_free"
	SharedCost        Type = "shared_cost"
	VoIP              Type = "voip"
	PersonalNumber    Type = "personal_number"
	Pager             Type = "pager"
	UAN               Type = "uan"
	Voicemail         Type = "voicemail"
	FixedLine         Type = "fixed_line"
	Mobile            Type = "mobile"
	FixedLineOrMobile Type = "fixed_line_or_mobile"
)

const numTypes = 10

var typeNames = [numTypes]Type{PremiumRate, TollFree, SharedCost, VoIP, PersonalNumber, Pager, UAN, Voicemail, FixedLine, Mobile}

const (
	idxFixedLine = 8
	idxMobile    = 9
)

// NonGeographicRegion is the region of calling codes that belong to no
// country (+800, +808, +870, ...).
const NonGeographicRegion = "001"

// Number is what the numbering plan says about one E.164 number.
type Number struct {
	E164        string
	CountryCode int
	// Region is the ISO 3166 code of the region the number belongs to,
	// NonGeographicRegion, or "" when no region's ranges contain it.
	Region string
	// Type is the number's type; "" when it lies in no range of its region.
	Type Type
	// Valid reports whether the number lies in a range the plan lists as
	// in use (libphonenumber's IsValidNumber).
	Valid bool
	// TimeZones are the IANA zones of the number (several when its area
	// spans zones); nil when unknown.
	TimeZones []string
}

// TiedToPlace reports whether the number rings in a place (fixed line or
// mobile, or of unknown type). Toll-free, premium-rate, shared-cost and
// the like, and numbers of non-geographic calling codes, are not: their
// zones span their whole numbering plan.
func (n Number) TiedToPlace() bool {
	if n.Region == NonGeographicRegion {
		return false
	}
	switch n.Type {
	case "", FixedLine, Mobile, FixedLineOrMobile:
		return true
	}
	return false
}

// Problem says why a destination cannot be dialled as given.
type Problem struct {
	// Reason is one sentence saying what is wrong and what to send instead.
	Reason string
	// Suggestion is the E.164 form the input most likely means, when the
	// input reads as a number of the default region; never dialled on its
	// own.
	Suggestion string
}

func (p *Problem) Error() string { return p.Reason }

type desc struct {
	pattern string
	lengths uint32 // bit n set: n digits possible; 0: the general description's
	local   uint32 // lengths possible for local dialling only
}

type regionData struct {
	id                       string
	code                     int
	leading                  string
	nationalPrefix           string
	nationalPrefixForParsing string
	intlPrefix               string
	sameMobileAndFixed       bool
	general                  desc
	types                    [numTypes]desc
}

type callingCode struct{ code, first, n int }

type zonePrefix struct {
	prefix int64
	set    int
}

type regionName struct{ id, name string }

// compiled holds a region's patterns, compiled on first use.
type compiled struct {
	once    sync.Once
	leading *regexp.Regexp
	general *regexp.Regexp
	types   [numTypes]*regexp.Regexp
	npp     *regexp.Regexp
	intl    *regexp.Regexp
}

var patterns [len(regions)]compiled

func (c *compiled) load(r *regionData) *compiled {
	c.once.Do(func() {
		full := func(p string) *regexp.Regexp {
			if p == "" {
				return nil
			}
			return regexp.MustCompile("^(?:" + p + ")$")
		}
		prefix := func(p string) *regexp.Regexp {
			if p == "" {
				return nil
			}
			return regexp.MustCompile("^(?:" + p + ")")
		}
		c.leading = prefix(r.leading)
		c.general = full(r.general.pattern)
		for i, d := range r.types {
			c.types[i] = full(d.pattern)
		}
		c.npp = prefix(r.nationalPrefixForParsing)
		c.intl = prefix(r.intlPrefix)
	})
	return c
}

func matches(re *regexp.Regexp, d desc, nsn string) bool {
	if re == nil {
		return false
	}
	if d.lengths != 0 && d.lengths&(1<<uint(len(nsn))) == 0 {
		return false
	}
	return re.MatchString(nsn)
}

// numberType is libphonenumber's getNumberTypeHelper.
func numberType(i int, nsn string) (Type, bool) {
	r := &regions[i]
	c := patterns[i].load(r)
	if !matches(c.general, r.general, nsn) {
		return "", false
	}
	for t := 0; t < idxFixedLine; t++ {
		if matches(c.types[t], r.types[t], nsn) {
			return typeNames[t], true
		}
	}
	if matches(c.types[idxFixedLine], r.types[idxFixedLine], nsn) {
		if r.sameMobileAndFixed || matches(c.types[idxMobile], r.types[idxMobile], nsn) {
			return FixedLineOrMobile, true
		}
		return FixedLine, true
	}
	if !r.sameMobileAndFixed && matches(c.types[idxMobile], r.types[idxMobile], nsn) {
		return Mobile, true
	}
	return "", false
}

func lookupCode(code int) (callingCode, bool) {
	i := sort.Search(len(callingCodes), func(i int) bool { return callingCodes[i].code >= code })
	if i < len(callingCodes) && callingCodes[i].code == code {
		return callingCodes[i], true
	}
	return callingCode{}, false
}

// splitCode splits E.164 digits into a calling code and the national
// significant number (calling codes are prefix-free).
func splitCode(digits string) (callingCode, string, bool) {
	for n := 1; n <= 3 && n < len(digits); n++ {
		code, _ := strconv.Atoi(digits[:n])
		if cc, ok := lookupCode(code); ok {
			return cc, digits[n:], true
		}
	}
	return callingCode{}, "", false
}

// lengthVerdict is libphonenumber's IsPossibleNumberWithReason against the
// calling code's main region: "" when possible, else why not.
func lengthVerdict(cc callingCode, nsn string) string {
	r := &regions[cc.first]
	if r.general.pattern == "" {
		if len(nsn) < 2 {
			return "too short"
		}
		if len(nsn) > 17 {
			return "too long"
		}
		return ""
	}
	lengths, local := r.general.lengths, r.general.local
	n := uint(len(nsn))
	switch {
	case n < 32 && local&(1<<n) != 0:
		return "local only"
	case n < 32 && lengths&(1<<n) != 0:
		return ""
	case n < uint(minLength(lengths)):
		return "too short"
	case n > uint(maxLength(lengths)):
		return "too long"
	}
	return "invalid length"
}

func minLength(bits uint32) int {
	for i := 0; i < 32; i++ {
		if bits&(1<<uint(i)) != 0 {
			return i
		}
	}
	return 0
}

func maxLength(bits uint32) int {
	for i := 31; i >= 0; i-- {
		if bits&(1<<uint(i)) != 0 {
			return i
		}
	}
	return 0
}

// lengthList renders possible lengths: "10", "9 or 10", "7, 9 or 10".
func lengthList(bits uint32) string {
	var parts []string
	for i := 0; i < 32; i++ {
		if bits&(1<<uint(i)) != 0 {
			parts = append(parts, strconv.Itoa(i))
		}
	}
	switch len(parts) {
	case 0:
		return "no"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// regionOf is libphonenumber's GetRegionCodeForNumber: the region among
// the calling code's whose leading digits or ranges match, or -1.
func regionOf(cc callingCode, nsn string) int {
	if cc.n == 1 {
		return cc.first
	}
	for i := cc.first; i < cc.first+cc.n; i++ {
		r := &regions[i]
		if r.leading != "" {
			if patterns[i].load(r).leading.MatchString(nsn) {
				return i
			}
		} else if _, ok := numberType(i, nsn); ok {
			return i
		}
	}
	return -1
}

// TimeZones returns the IANA zones of E.164 digits (without +) from the
// longest matching prefix, or nil.
func TimeZones(digits string) []string {
	for n := min(len(digits), zonePrefixMaxDigits); n > 0; n-- {
		p, err := strconv.ParseInt(digits[:n], 10, 64)
		if err != nil {
			return nil
		}
		i := sort.Search(len(zonePrefixes), func(i int) bool { return zonePrefixes[i].prefix >= p })
		if i < len(zonePrefixes) && zonePrefixes[i].prefix == p {
			return strings.Split(zoneSets[zonePrefixes[i].set], "&")
		}
	}
	return nil
}

// RegionName is the English name of an ISO 3166 region code, or the code.
func RegionName(id string) string {
	i := sort.Search(len(regionNames), func(i int) bool { return regionNames[i].id >= id })
	if i < len(regionNames) && regionNames[i].id == id {
		return regionNames[i].name
	}
	return id
}

// KnownRegion reports whether id (ISO 3166, upper case) has a numbering
// plan in the tables.
func KnownRegion(id string) bool {
	return regionIndex(id) >= 0
}

func regionIndex(id string) int {
	if id == NonGeographicRegion {
		return -1
	}
	for i := range regions {
		if regions[i].id == id {
			return i
		}
	}
	return -1
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Check reads to as a destination. An E.164 number of a possible length
// for its calling code is described; anything else is a Problem, with a
// suggestion when to reads as a national number of defaultRegion (ISO
// 3166, e.g. "US"; "" for none).
func Check(to, defaultRegion string) (Number, *Problem) {
	if strings.HasPrefix(to, "+") && isDigits(to[1:]) {
		return checkE164(to)
	}
	p := &Problem{}
	if s := suggest(to, defaultRegion); s != "" {
		p.Suggestion = s
		p.Reason = fmt.Sprintf("%q is not in E.164 form; read as a national number of %s (%s) it is %s: if that is the number you mean, call again with exactly %s (nothing was dialled)", truncate(to, 40), strings.ToUpper(defaultRegion), RegionName(strings.ToUpper(defaultRegion)), s, s)
		if strings.HasPrefix(strings.TrimSpace(to), "+") {
			p.Reason = fmt.Sprintf("%q is not in E.164 form (no spaces or punctuation): if you mean %s, call again with exactly %s (nothing was dialled)", truncate(to, 40), s, s)
		}
		return Number{}, p
	}
	p.Reason = fmt.Sprintf("%q is not a phone number in E.164 form: send + then the country code and the number, digits only, e.g. +14155550123 (nothing was dialled)", truncate(to, 40))
	return Number{}, p
}

func checkE164(to string) (Number, *Problem) {
	digits := to[1:]
	if len(digits) > 15 {
		return Number{}, &Problem{Reason: fmt.Sprintf("%s has %d digits, more than any phone number (E.164 allows 15 after the +): check the number with the user (nothing was dialled)", truncate(to, 40), len(digits))}
	}
	cc, nsn, ok := splitCode(digits)
	if !ok {
		return Number{}, &Problem{Reason: fmt.Sprintf("%s starts with no country calling code in use (+%s...): check the country code with the user (nothing was dialled)", truncate(to, 40), digits[:min(3, len(digits))])}
	}
	if v := lengthVerdict(cc, nsn); v != "" {
		return Number{}, &Problem{Reason: lengthReason(cc, nsn, v), Suggestion: ""}
	}
	n := Number{E164: to, CountryCode: cc.code, TimeZones: TimeZones(digits)}
	if i := regionOf(cc, nsn); i >= 0 {
		n.Region = regions[i].id
		n.Type, n.Valid = numberType(i, nsn)
	}
	return n, nil
}

func lengthReason(cc callingCode, nsn, verdict string) string {
	r := &regions[cc.first]
	who := "Numbers with country code +" + strconv.Itoa(cc.code)
	switch {
	case cc.code == 1:
		who = "US and Canadian numbers"
	case r.id == NonGeographicRegion:
		who = "Numbers with the international code +" + strconv.Itoa(cc.code)
	case cc.n == 1:
		who = RegionName(r.id) + " numbers"
	}
	lengths := lengthList(r.general.lengths)
	reason := fmt.Sprintf("%s have %s digits after +%d; +%d%s has %d", who, lengths, cc.code, cc.code, nsn, len(nsn))
	if verdict == "local only" {
		reason += " (a local number without its area code)"
	}
	return reason + ": check the number with the user (nothing was dialled)"
}

// suggest reads s as a number, E.164 with punctuation or national in
// defaultRegion, and returns its E.164 form when that is a possible number.
func suggest(s, defaultRegion string) string {
	s = strings.TrimSpace(s)
	if len(s) > 64 {
		return ""
	}
	plus := strings.HasPrefix(s, "+")
	var digits strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		case strings.ContainsRune(" -.()/\u00a0+", c):
		default:
			return "" // letters, extensions: not for us to guess
		}
	}
	d := digits.String()
	if d == "" {
		return ""
	}
	try := func(e164 string) string {
		if _, p := checkE164(e164); p == nil {
			return e164
		}
		return ""
	}
	if plus {
		return try("+" + d)
	}
	ri := regionIndex(strings.ToUpper(defaultRegion))
	if ri < 0 {
		return ""
	}
	r := &regions[ri]
	c := patterns[ri].load(r)
	// An international call prefix (011, 00): the rest is E.164.
	if c.intl != nil {
		if loc := c.intl.FindStringIndex(d); loc != nil && loc[1] > 0 {
			if e := try("+" + d[loc[1]:]); e != "" {
				return e
			}
		}
	}
	code := "+" + strconv.Itoa(r.code)
	nsn := d
	// A national prefix (1 in the US, 0 in the UK) goes.
	if c.npp != nil {
		if loc := c.npp.FindStringIndex(d); loc != nil && loc[1] > 0 && loc[1] < len(d) {
			if _, ok := numberType(ri, d[loc[1]:]); ok || !possibleIn(ri, d) {
				nsn = d[loc[1]:]
			}
		}
	} else if r.nationalPrefix != "" && strings.HasPrefix(d, r.nationalPrefix) && len(d) > len(r.nationalPrefix) {
		nsn = d[len(r.nationalPrefix):]
	}
	if e := try(code + nsn); e != "" {
		return e
	}
	return ""
}

func possibleIn(ri int, nsn string) bool {
	cc, ok := lookupCode(regions[ri].code)
	return ok && lengthVerdict(cc, nsn) == ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
