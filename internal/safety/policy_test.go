package safety

import (
	"strings"
	"testing"
)

func TestPolicyCheck(t *testing.T) {
	tests := []struct {
		name       string
		p          Policy
		to         string
		ok         bool
		reasonPart string
	}{
		{"empty lists allow all", Policy{}, "+14155550123", true, ""},
		{"empty lists allow all (UK)", Policy{}, "+442071234567", true, ""},
		{"allow prefix matches", Policy{Allow: []string{"+1415"}}, "+14155550123", true, ""},
		{"allow exact number matches itself", Policy{Allow: []string{"+14155550123"}}, "+14155550123", true, ""},
		{"allow list fails closed", Policy{Allow: []string{"+1415"}}, "+12125550123", false, "allow list"},
		{"allow list of several", Policy{Allow: []string{"+1415", "+44"}}, "+442071234567", true, ""},
		{"allow exact does not match longer number", Policy{Allow: []string{"+14155550123"}}, "+14155550124", false, "allow list"},
		{"deny prefix", Policy{Deny: []string{"+44"}}, "+442071234567", false, "deny list"},
		{"deny other prefix passes", Policy{Deny: []string{"+44"}}, "+14155550123", true, ""},
		{"deny wins over allow", Policy{Allow: []string{"+44"}, Deny: []string{"+4420"}}, "+442071234567", false, "deny list"},
		{"deny wins over exact allow", Policy{Allow: []string{"+442071234567"}, Deny: []string{"+44"}}, "+442071234567", false, "deny list"},
		{"allow with unrelated deny", Policy{Allow: []string{"+44"}, Deny: []string{"+4490"}}, "+442071234567", true, ""},
		{"empty allow entry allows nothing", Policy{Allow: []string{""}}, "+14155550123", false, "allow list"},
		{"empty deny entry denies nothing", Policy{Deny: []string{""}}, "+14155550123", true, ""},
		{"no normalisation", Policy{Allow: []string{"+1415"}}, "14155550123", false, "allow list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, reason := tc.p.Check(tc.to)
			if ok != tc.ok {
				t.Fatalf("Check(%q) ok = %v, want %v (reason %q)", tc.to, ok, tc.ok, reason)
			}
			if ok && reason != "" {
				t.Fatalf("allowed with reason %q", reason)
			}
			if !ok {
				if !strings.Contains(reason, tc.reasonPart) {
					t.Errorf("reason %q does not mention %q", reason, tc.reasonPart)
				}
				if strings.Contains(reason, tc.to) {
					t.Errorf("reason %q contains the unmasked number", reason)
				}
				if !strings.Contains(reason, MaskNumber(tc.to)) {
					t.Errorf("reason %q does not contain the masked number %q", reason, MaskNumber(tc.to))
				}
			}
		})
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+14155550123", "+*******0123"},
		{"+442071234567", "+********4567"},
		{"+12345", "+*2345"},
		{"+1234", "+1234"},
		{"+12", "+12"},
		{"+", "+"},
		{"", ""},
		{"14155550123", "*******0123"},
		{"+*******0123", "+*******0123"}, // idempotent
		{"++123456", "+***3456"},
		{"+12é45678", "+****5678"},
	}
	for _, tc := range tests {
		if got := MaskNumber(tc.in); got != tc.want {
			t.Errorf("MaskNumber(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := MaskNumber(MaskNumber(tc.in)); got != tc.want {
			t.Errorf("MaskNumber not idempotent for %q: %q", tc.in, got)
		}
	}
}
