package schema

import (
	"regexp"
	"strings"
	"testing"
)

// The hand-written matchers must agree with the patterns the schemas show.
func TestMatchersAgreeWithSchemaPatterns(t *testing.T) {
	cases := []struct {
		pattern string
		match   func(string) bool
		inputs  []string
	}{
		{E164Pattern, IsE164, []string{"+14155550123", "+1415555", "+141555", "+123456789012345", "+1234567890123456", "+0415555012", "14155550123", "+1415 5550123", "+", "", "+1415555012a"}},
		{CallIDPattern, IsCallID, []string{"f47ac10b-58cc-4372-a567-0e02b2c3d479", "a", "", "a/b", "a b", "_-", strings.Repeat("a", 128), strings.Repeat("a", 129), "é"}},
		{CampaignIDPattern, IsCampaignID, []string{"cmp_0123456789abcdef", "cmp_0123456789abcde", "cmp_0123456789ABCDEF", "cmp_" + strings.Repeat("a", 64), "cmp_" + strings.Repeat("a", 65), "cmpx0123456789abcdef", "", "cmp_"}},
		{FieldNamePattern, IsFieldName, []string{"booked", "_x", "x1", "1x", "", "a-b", strings.Repeat("a", 64), strings.Repeat("a", 65), "confirmed_time"}},
	}
	for _, c := range cases {
		re := regexp.MustCompile(c.pattern)
		for _, in := range c.inputs {
			if got, want := c.match(in), re.MatchString(in); got != want {
				t.Errorf("%s on %q: matcher says %v, pattern says %v", c.pattern, in, got, want)
			}
		}
	}
}

func FuzzMatchersAgreeWithSchemaPatterns(f *testing.F) {
	for _, s := range []string{"+14155550123", "abc", "f47ac10b-58cc", "_x1"} {
		f.Add(s)
	}
	e164, callID, field := regexp.MustCompile(E164Pattern), regexp.MustCompile(CallIDPattern), regexp.MustCompile(FieldNamePattern)
	f.Fuzz(func(t *testing.T, s string) {
		if IsE164(s) != e164.MatchString(s) || IsCallID(s) != callID.MatchString(s) || IsFieldName(s) != field.MatchString(s) {
			t.Fatalf("matchers disagree with the schema patterns on %q", s)
		}
	})
}
