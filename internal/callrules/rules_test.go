package callrules_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/callrules"
	"github.com/byourside/bys-mcp/internal/numbering"
	"github.com/nyaruka/phonenumbers"
)

// The data is whole: every rule is named, sourced and sane, and its
// places are ones the numbering plan knows.
func TestData(t *testing.T) {
	all := callrules.All()
	if len(all) == 0 || all[0].ID != "us" {
		t.Fatalf("the United States' rule must come first: %v", all)
	}
	ids := map[string]bool{}
	areaCodes := map[string]string{}
	for _, r := range all {
		if r.ID == "" || ids[r.ID] {
			t.Errorf("rule ID %q empty or repeated", r.ID)
		}
		ids[r.ID] = true
		if r.Place == "" || r.Source == "" || !strings.HasPrefix(r.URL, "http") {
			t.Errorf("%s: place %q, source %q, URL %q: each rule names its place and source", r.ID, r.Place, r.Source, r.URL)
		}
		if len(r.Regions) == 0 {
			t.Errorf("%s: no regions", r.ID)
		}
		for _, region := range r.Regions {
			if !numbering.KnownRegion(region) {
				t.Errorf("%s: region %q unknown to the numbering plan", r.ID, region)
			}
		}
		open := 0
		for d, h := range r.Week {
			if h != (callrules.Hours{}) && (h.Open < 0 || h.Close > 24*60 || h.Open >= h.Close) {
				t.Errorf("%s: %s hours %+v", r.ID, time.Weekday(d), h)
			}
			if !h.Closed() {
				open++
			}
		}
		if open == 0 {
			t.Errorf("%s: no day with calls", r.ID)
		}
		if (len(r.Holidays) == 0) != (r.HolidayNote == "") {
			t.Errorf("%s: holidays without a note, or a note without holidays", r.ID)
		}
		for _, ac := range r.AreaCodes {
			if len(ac) != 3 || ac[0] < '2' || strings.Trim(ac, "0123456789") != "" {
				t.Errorf("%s: area code %q", r.ID, ac)
			}
			if other, ok := areaCodes[ac]; ok {
				t.Errorf("area code %s in both %s and %s", ac, other, r.ID)
			}
			areaCodes[ac] = r.ID
			if len(numbering.TimeZones("1"+ac)) == 0 {
				t.Errorf("%s: area code %s has no time zone in the numbering data", r.ID, ac)
			}
		}
		if !slices.IsSorted(r.AreaCodes) {
			t.Errorf("%s: area codes out of order", r.ID)
		}
	}
}

// The contract's hours, one check per published figure.
func TestContractHours(t *testing.T) {
	type day = callrules.Hours
	h := func(h1, m1, h2, m2 int) day { return day{Open: h1*60 + m1, Close: h2*60 + m2} }
	want := map[string][7]day{
		"us":    {h(8, 0, 21, 0), h(8, 0, 21, 0), h(8, 0, 21, 0), h(8, 0, 21, 0), h(8, 0, 21, 0), h(8, 0, 21, 0), h(8, 0, 21, 0)},
		"us-fl": {h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0)},
		"us-ok": {h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0), h(8, 0, 20, 0)},
		// Sunday first (time.Weekday order).
		"us-tx": {h(12, 0, 21, 0), h(9, 0, 21, 0), h(9, 0, 21, 0), h(9, 0, 21, 0), h(9, 0, 21, 0), h(9, 0, 21, 0), h(9, 0, 21, 0)},
		"ca":    {h(10, 0, 18, 0), h(9, 0, 21, 30), h(9, 0, 21, 30), h(9, 0, 21, 30), h(9, 0, 21, 30), h(9, 0, 21, 30), h(10, 0, 18, 0)},
		"au":    {{}, h(9, 0, 20, 0), h(9, 0, 20, 0), h(9, 0, 20, 0), h(9, 0, 20, 0), h(9, 0, 20, 0), h(9, 0, 17, 0)},
	}
	for _, r := range callrules.All() {
		if w, ok := want[r.ID]; !ok || r.Week != w {
			t.Errorf("%s: week %v, want %v", r.ID, r.Week, w)
		}
	}
	if len(callrules.All()) != len(want) {
		t.Errorf("%d rules, want %d", len(callrules.All()), len(want))
	}
}

// The states' area codes are every one libphonenumber's geocoding data
// places in the state, and no other: a new overlay fails this test until
// it is added to the rule.
func TestAreaCodesMatchLibphonenumber(t *testing.T) {
	suffix := map[string]string{"us-fl": "FL", "us-ok": "OK", "us-tx": "TX"}
	names := map[string]string{"us-fl": "Florida", "us-ok": "Oklahoma", "us-tx": "Texas"}
	found := map[string][]string{}
	for ac := 200; ac <= 999; ac++ {
		// A number's place is the state's name, or a town followed by its
		// state; 22 exchanges of each area code are asked.
		seen := map[string]bool{}
		for exchange := 201; exchange <= 999; exchange += 37 {
			num, err := phonenumbers.Parse(fmt.Sprintf("+1%d%d4567", ac, exchange), "")
			if err != nil {
				continue
			}
			place, _ := phonenumbers.GetGeocodingForNumber(num, "en")
			for id, st := range suffix {
				if !seen[id] && (place == names[id] || strings.HasSuffix(place, ", "+st)) {
					seen[id] = true
					found[id] = append(found[id], fmt.Sprint(ac))
				}
			}
		}
	}
	for id := range suffix {
		r := rule(t, id)
		if !slices.Equal(r.AreaCodes, found[id]) {
			t.Errorf("%s: area codes %v, libphonenumber places %v in %s", id, r.AreaCodes, found[id], names[id])
		}
	}
}
