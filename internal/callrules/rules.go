package callrules

import "time"

// The published rules, as data. Each names its source; the README's
// "Respecting the people you call" documents the same table. Times are the
// called person's local time; a day's hours run from Open up to, not
// including, Close ("before 8 a.m. or after 9 p.m." is 8:00-21:00: a call
// may start at 8:00 and at 20:59, not at 21:00).
//
// A rule here is never looser than another that applies with it: the
// engine requires every applicable rule (and the --calling-hours window)
// to hold at once, so the United States rule and a state's rule together
// give the stricter of the two.
var rules = []Rule{
	{
		ID:     "us",
		Place:  "United States",
		Source: "47 CFR § 64.1200(c)(1)",
		URL:    "https://www.ecfr.gov/current/title-47/chapter-I/subchapter-B/part-64/subpart-L/section-64.1200",
		// The FCC's rule binds callers to any "residential telephone
		// subscriber" in the United States, which the Communications Act
		// defines to include the territories and possessions (47 U.S.C.
		// § 153): the territories with their own region code in the
		// numbering plan are held to it too.
		Regions: usRegions,
		Week:    every(span(8, 0, 21, 0)),
	},
	{
		ID:        "us-fl",
		Place:     "Florida",
		Source:    "Fla. Stat. § 501.616(6)(a)",
		URL:       "https://www.flsenate.gov/Laws/Statutes/2024/501.616",
		Regions:   []string{"US"},
		AreaCodes: floridaAreaCodes,
		Week:      every(span(8, 0, 20, 0)),
	},
	{
		ID:        "us-ok",
		Place:     "Oklahoma",
		Source:    "Telephone Solicitation Act of 2022, 15 O.S. § 775C.1 et seq.",
		URL:       "http://www.oklegislature.gov/BillInfo.aspx?Bill=HB3168&Session=2200",
		Regions:   []string{"US"},
		AreaCodes: oklahomaAreaCodes,
		Week:      every(span(8, 0, 20, 0)),
	},
	{
		ID:        "us-tx",
		Place:     "Texas",
		Source:    "Tex. Bus. & Com. Code § 301.051",
		URL:       "https://statutes.capitol.texas.gov/Docs/BC/htm/BC.301.htm#301.051",
		Regions:   []string{"US"},
		AreaCodes: texasAreaCodes,
		Week: [7]Hours{
			time.Monday:    span(9, 0, 21, 0),
			time.Tuesday:   span(9, 0, 21, 0),
			time.Wednesday: span(9, 0, 21, 0),
			time.Thursday:  span(9, 0, 21, 0),
			time.Friday:    span(9, 0, 21, 0),
			time.Saturday:  span(9, 0, 21, 0),
			time.Sunday:    span(12, 0, 21, 0),
		},
	},
	{
		ID:      "ca",
		Place:   "Canada",
		Source:  "CRTC Unsolicited Telecommunications Rules, Part III (Telemarketing Rules)",
		URL:     "https://crtc.gc.ca/eng/trules-reglest.htm",
		Regions: []string{"CA"},
		Week: [7]Hours{
			time.Monday:    span(9, 0, 21, 30),
			time.Tuesday:   span(9, 0, 21, 30),
			time.Wednesday: span(9, 0, 21, 30),
			time.Thursday:  span(9, 0, 21, 30),
			time.Friday:    span(9, 0, 21, 30),
			time.Saturday:  span(10, 0, 18, 0),
			time.Sunday:    span(10, 0, 18, 0),
		},
	},
	{
		ID:      "au",
		Place:   "Australia",
		Source:  "Telecommunications (Telemarketing and Research Calls) Industry Standard 2017",
		URL:     "https://www.donotcall.gov.au/consumers/consumer-overview/industry-standards/",
		Regions: []string{"AU"},
		Week: [7]Hours{
			time.Monday:    span(9, 0, 20, 0),
			time.Tuesday:   span(9, 0, 20, 0),
			time.Wednesday: span(9, 0, 20, 0),
			time.Thursday:  span(9, 0, 20, 0),
			time.Friday:    span(9, 0, 20, 0),
			time.Saturday:  span(9, 0, 17, 0),
			// Sunday: no calls.
		},
		HolidayNote: "national public holidays",
		Holidays:    australianHolidays,
	},
}

// usRegions are the United States and its territories that have a region
// code of their own in the numbering plan (Puerto Rico, the US Virgin
// Islands, Guam, American Samoa, the Northern Mariana Islands).
var usRegions = []string{"US", "PR", "VI", "GU", "AS", "MP"}

// The states' rules apply by area code: a number's area code is all the
// server knows of where its holder lives, and Florida's and Oklahoma's
// telephone solicitation laws themselves presume that a call to one of the
// state's area codes is made to a person in the state (Fla. Stat.
// § 501.059; the Oklahoma act likewise). The lists are every area code (overlays
// included) that libphonenumber's geocoding data places in the state; a
// test compares them with it, so that a new overlay cannot go unnoticed.
var (
	floridaAreaCodes = []string{
		"239", "305", "321", "324", "352", "386", "407", "448", "561", "645", "656", "689",
		"727", "728", "754", "772", "786", "813", "850", "863", "904", "941", "954",
	}
	oklahomaAreaCodes = []string{"405", "539", "572", "580", "918"}
	texasAreaCodes    = []string{
		"210", "214", "254", "281", "325", "346", "361", "409", "430", "432", "469", "512", "682", "713",
		"726", "737", "806", "817", "830", "832", "903", "915", "936", "940", "945", "956", "972", "979",
	}
)

// australianHolidays are the Industry Standard's "national public
// holidays", on which it allows no telemarketing calls. Public holidays
// are declared by each state and territory, so this reads "national" as
// a public holiday in every state and territory: New Year's Day,
// Australia Day, Good Friday, Easter Monday, Anzac Day, Christmas Day and
// Boxing Day.
// Easter Saturday, Easter Sunday and the King's Birthday are not holidays
// in every state and territory, and are left out (Easter Sunday is a
// Sunday, with no calls anyway). When New Year's Day, Australia Day,
// Christmas Day or Boxing Day falls on a weekend, every state and
// territory also gives the next weekday that is not already a holiday
// (Christmas on a Saturday: Monday 27 and Tuesday 28 December), and those
// days are kept free of calls too; the day itself stays free of calls
// (a Saturday Christmas has no calls). Anzac Day has no substitute day in
// every state (New South Wales and Victoria give none), so a weekend Anzac
// Day moves nothing. Easter is computed (see Easter), not tabled.
var australianHolidays = []Holiday{
	{Name: "New Year's Day", Month: time.January, Day: 1, Substitute: true},
	{Name: "Australia Day", Month: time.January, Day: 26, Substitute: true},
	{Name: "Good Friday", Easter: true, Day: -2},
	{Name: "Easter Monday", Easter: true, Day: 1},
	{Name: "Anzac Day", Month: time.April, Day: 25},
	{Name: "Christmas Day", Month: time.December, Day: 25, Substitute: true},
	{Name: "Boxing Day", Month: time.December, Day: 26, Substitute: true},
}

// span is the hours from h1:m1 up to h2:m2.
func span(h1, m1, h2, m2 int) Hours { return Hours{Open: h1*60 + m1, Close: h2*60 + m2} }

// every is the same hours on each day of the week.
func every(h Hours) [7]Hours {
	var w [7]Hours
	for i := range w {
		w[i] = h
	}
	return w
}
