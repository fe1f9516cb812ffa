package numbering_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/byourside/bys-mcp/internal/numbering"
	"github.com/nyaruka/phonenumbers"
)

// The tables are an extract of libphonenumber's metadata: these tests
// compare them with the library itself on many numbers, so that the
// extract cannot drift from its source (regenerate with go generate
// ./internal/numbering after a library update).

var libTypes = map[phonenumbers.PhoneNumberType]numbering.Type{
	phonenumbers.FIXED_LINE: numbering.FixedLine, phonenumbers.MOBILE: numbering.Mobile,
	phonenumbers.FIXED_LINE_OR_MOBILE: numbering.FixedLineOrMobile, phonenumbers.TOLL_FREE: numbering.TollFree,
	phonenumbers.PREMIUM_RATE: numbering.PremiumRate, phonenumbers.SHARED_COST: numbering.SharedCost,
	phonenumbers.VOIP: numbering.VoIP, phonenumbers.PERSONAL_NUMBER: numbering.PersonalNumber,
	phonenumbers.PAGER: numbering.Pager, phonenumbers.UAN: numbering.UAN, phonenumbers.VOICEMAIL: numbering.Voicemail,
	phonenumbers.UNKNOWN: "",
}

var allLibTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE,
	phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

func sortedRegions() []string {
	var ids []string
	for id := range phonenumbers.GetSupportedRegions() {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// corpus is every example number of every region and type, each with
// neighbours (last digit changed, one digit more, one less), and random
// digit strings after every calling code.
func corpus() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if len(s) >= 2 && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	addWithNeighbours := func(e string) {
		add(e)
		last := e[len(e)-1]
		add(e[:len(e)-1] + string('0'+(last-'0'+1)%10))
		add(e + "5")
		add(e[:len(e)-1])
	}
	for _, id := range sortedRegions() {
		for _, t := range allLibTypes {
			if n := phonenumbers.GetExampleNumberForType(id, t); n != nil {
				addWithNeighbours(phonenumbers.Format(n, phonenumbers.E164))
			}
		}
	}
	var codes []int
	for c := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(c); n != nil {
			addWithNeighbours(phonenumbers.Format(n, phonenumbers.E164))
		}
	}
	rng := rand.New(rand.NewPCG(14, 2026))
	for _, c := range codes {
		cs := strconv.Itoa(c)
		for i := 0; i < 40; i++ {
			n := 1 + rng.IntN(15-len(cs))
			d := []byte(cs)
			for j := 0; j < n; j++ {
				d = append(d, byte('0'+rng.IntN(10)))
			}
			add("+" + string(d))
		}
	}
	return out
}

func TestTablesMatchTheLibrary(t *testing.T) {
	numbers := corpus()
	if len(numbers) < 8000 {
		t.Fatalf("corpus has only %d numbers", len(numbers))
	}
	compared, possible, valid := 0, 0, 0
	for _, e164 := range numbers {
		lib, err := phonenumbers.Parse(e164, "")
		got, problem := numbering.Check(e164, "")
		if err != nil || phonenumbers.Format(lib, phonenumbers.E164) != e164 {
			// The library reads it differently (a national prefix after
			// the country code, say): it is not a canonical E.164 number.
			continue
		}
		if len(e164) > 16 {
			// E.164 allows 15 digits; the library takes a few longer
			// German ones as possible. Such a number is refused here.
			if problem == nil {
				t.Errorf("%s: more than 15 digits accepted", e164)
			}
			continue
		}
		compared++
		reason := phonenumbers.IsPossibleNumberWithReason(lib)
		libPossible := reason == phonenumbers.IS_POSSIBLE
		if libPossible != (problem == nil) {
			t.Errorf("%s: library possible=%v (reason %v), tables problem %v", e164, libPossible, reason, problem)
			continue
		}
		if problem != nil {
			continue
		}
		possible++
		wantRegion := phonenumbers.GetRegionCodeForNumber(lib)
		wantType := libTypes[phonenumbers.GetNumberType(lib)]
		wantValid := phonenumbers.IsValidNumber(lib)
		if got.Region != wantRegion || got.Type != wantType || got.Valid != wantValid || got.CountryCode != int(lib.GetCountryCode()) {
			t.Errorf("%s: tables region %q type %q valid %v cc %d; library region %q type %q valid %v cc %d",
				e164, got.Region, got.Type, got.Valid, got.CountryCode, wantRegion, wantType, wantValid, lib.GetCountryCode())
		}
		if got.Valid {
			valid++
		}
		zones, _ := phonenumbers.GetTimezonesForNumber(lib)
		if len(zones) == 1 && zones[0] == phonenumbers.UNKNOWN_TIMEZONE {
			zones = nil
		}
		if !slices.Equal(got.TimeZones, zones) {
			t.Errorf("%s: tables zones %v, library %v", e164, got.TimeZones, zones)
		}
	}
	t.Logf("compared %d of %d numbers: %d possible, %d valid", compared, len(numbers), possible, valid)
	if compared < 6000 || possible < 2000 || valid < 1000 {
		t.Errorf("too few numbers compared (%d), possible (%d) or valid (%d) for the comparison to mean anything", compared, possible, valid)
	}
}

// A national number of the default region is suggested in E.164 form
// exactly as the library parses it, and never wrongly.
func TestSuggestionsMatchTheLibrary(t *testing.T) {
	tried, suggested := 0, 0
	for _, id := range sortedRegions() {
		for _, typ := range allLibTypes {
			ex := phonenumbers.GetExampleNumberForType(id, typ)
			if ex == nil {
				continue
			}
			for _, format := range []phonenumbers.PhoneNumberFormat{phonenumbers.NATIONAL, phonenumbers.INTERNATIONAL} {
				text := phonenumbers.Format(ex, format)
				lib, err := phonenumbers.Parse(text, id)
				if err != nil || !phonenumbers.IsValidNumber(lib) {
					continue
				}
				want := phonenumbers.Format(lib, phonenumbers.E164)
				_, problem := numbering.Check(text, id)
				if problem == nil {
					t.Errorf("%s %q: accepted as E.164", id, text)
					continue
				}
				tried++
				switch problem.Suggestion {
				case want:
					suggested++
				case "":
				default:
					t.Errorf("%s %q: suggested %s, the library reads %s", id, text, problem.Suggestion, want)
				}
			}
		}
	}
	t.Logf("suggested %d of %d national and international forms", suggested, tried)
	if tried < 1000 || float64(suggested) < 0.95*float64(tried) {
		t.Errorf("suggested %d of %d: want at least 95%%", suggested, tried)
	}
}

func ExampleCheck() {
	_, p := numbering.Check("+1415555", "US")
	fmt.Println(p.Reason)
	_, p = numbering.Check("(415) 555-0123", "US")
	fmt.Println(p.Suggestion)
	n, _ := numbering.Check("+18002752273", "US")
	fmt.Println(n.Region, n.Type, n.TiedToPlace())
	// Output:
	// US and Canadian numbers have 10 digits after +1; +1415555 has 6: check the number with the user (nothing was dialled)
	// +14155550123
	// US toll_free false
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"+14155550123", "+1415555", "(415) 555-0123", "020 7183 8750", "+", "+0", "011 44 20 7183 8750", "+999999999999999999", "\x00", "+1 415 555 0123"} {
		f.Add(s, "US")
	}
	f.Add("020 7183 8750", "GB")
	f.Fuzz(func(t *testing.T, to, region string) {
		n, p := numbering.Check(to, region)
		if p == nil {
			if n.E164 != to || to[0] != '+' || len(to) > 16 {
				t.Fatalf("%q accepted as %+v", to, n)
			}
			return
		}
		if p.Reason == "" {
			t.Fatalf("%q refused without a reason", to)
		}
		if p.Suggestion != "" {
			// A suggestion is itself a possible E.164 number.
			if _, q := numbering.Check(p.Suggestion, ""); q != nil {
				t.Fatalf("%q suggested %q, which is refused: %v", to, p.Suggestion, q)
			}
		}
	})
}
