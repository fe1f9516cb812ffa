package numbering_test

import (
	"testing"

	"github.com/byourside/bys-mcp/internal/numbering"
	"github.com/nyaruka/phonenumbers"
)

// BenchmarkCheck is one number check of a valid E.164 number, once its
// region's patterns are compiled (the first check of a region compiles
// them: see BenchmarkFirstCheckOfARegion).
func BenchmarkCheck(b *testing.B) {
	for _, to := range []string{"+14155550123", "+442071838750", "+18002752273"} {
		b.Run(to, func(b *testing.B) {
			numbering.Check(to, "US")
			b.ReportAllocs()
			for b.Loop() {
				if _, p := numbering.Check(to, "US"); p != nil {
					b.Fatal(p)
				}
			}
		})
	}
}

// BenchmarkRefusal is the check of a number of an impossible length.
func BenchmarkRefusal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, p := numbering.Check("+1415555", "US"); p == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkLibraryCheck is the same facts from the library itself (parse,
// possible, region, type, valid, time zones), for comparison.
func BenchmarkLibraryCheck(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		n, err := phonenumbers.Parse("+14155550123", "US")
		if err != nil || !phonenumbers.IsPossibleNumber(n) {
			b.Fatal(err)
		}
		_ = phonenumbers.GetRegionCodeForNumber(n)
		_ = phonenumbers.GetNumberType(n)
		_ = phonenumbers.IsValidNumber(n)
		_, _ = phonenumbers.GetTimezonesForNumber(n)
	}
}
