package safety

import (
	"regexp"
	"strings"
	"testing"
)

var hex16 = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestKeyFingerprint(t *testing.T) {
	keys := []string{
		"bys_ak_live_0123456789abcdefABCDEF",
		"bys_ak_test_zzzzzzzzzzzzzzzzzzzzzzzz",
		"k",
		"0123456789abcdef0123456789abcdef", // hex-looking key
	}
	seen := map[string]string{}
	for _, k := range keys {
		fp := KeyFingerprint(k)
		if fp != KeyFingerprint(k) {
			t.Fatalf("fingerprint of %q not stable", k)
		}
		if !hex16.MatchString(fp) {
			t.Errorf("KeyFingerprint(%q) = %q, want 16 lowercase hex chars", k, fp)
		}
		if strings.Contains(fp, k) {
			t.Errorf("fingerprint %q contains the key", fp)
		}
		for i := 0; i+8 <= len(k); i++ {
			if strings.Contains(fp, k[i:i+8]) {
				t.Errorf("fingerprint %q contains key substring %q", fp, k[i:i+8])
			}
		}
		if other, dup := seen[fp]; dup {
			t.Errorf("keys %q and %q share fingerprint %q", k, other, fp)
		}
		seen[fp] = k
	}
	if got := KeyFingerprint(""); got != "none" {
		t.Errorf(`KeyFingerprint("") = %q, want "none"`, got)
	}
	// Pinned value: changing the label or algorithm changes every state key.
	// Value computed independently: HMAC-SHA256("bys-mcp key fingerprint v1", "bys_ak_test")[:16 hex].
	if got, want := KeyFingerprint("bys_ak_test"), "0398fb8a93356d0f"; got != want {
		t.Errorf("KeyFingerprint(bys_ak_test) = %q, want %q", got, want)
	}
}

func baseIntent() Intent {
	return Intent{
		KeyFingerprint: KeyFingerprint("bys_ak_test_key"),
		To:             "+14155550123",
		Objective:      "Book a table for two at 7pm",
		Context:        "Name: Alex",
		CallerID:       "+14155550100",
		Fields: []IntentField{
			{Name: "confirmed", Type: "boolean", Description: "whether the booking was confirmed"},
			{Name: "time", Type: "string", Description: "the booked time"},
		},
	}
}

func TestIntentFingerprint(t *testing.T) {
	base := baseIntent()
	fp := base.Fingerprint()
	if fp != baseIntent().Fingerprint() {
		t.Fatal("identical intents have different fingerprints")
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) {
		t.Fatalf("fingerprint %q is not hex SHA-256", fp)
	}

	changes := []struct {
		name   string
		mutate func(*Intent)
	}{
		{"key", func(i *Intent) { i.KeyFingerprint = KeyFingerprint("bys_ak_other") }},
		{"to", func(i *Intent) { i.To = "+14155550124" }},
		{"objective", func(i *Intent) { i.Objective += "." }},
		{"context", func(i *Intent) { i.Context = "" }},
		{"callerId", func(i *Intent) { i.CallerID = "" }},
		{"field order", func(i *Intent) { i.Fields[0], i.Fields[1] = i.Fields[1], i.Fields[0] }},
		{"field name", func(i *Intent) { i.Fields[0].Name = "booked" }},
		{"field type", func(i *Intent) { i.Fields[0].Type = "number" }},
		{"field description", func(i *Intent) { i.Fields[1].Description = "the time" }},
		{"field removed", func(i *Intent) { i.Fields = i.Fields[:1] }},
		{"field added", func(i *Intent) { i.Fields = append(i.Fields, IntentField{Name: "x"}) }},
		{"no fields", func(i *Intent) { i.Fields = nil }},
		// Ambiguity checks: moving text between adjacent fields must matter.
		{"shift objective into context", func(i *Intent) {
			i.Objective, i.Context = "Book a table for two at 7pmName:", " Alex"
		}},
		{"shift name into description", func(i *Intent) {
			i.Fields[1].Name, i.Fields[1].Description = "ti", "methe booked time"
		}},
		{"to and callerId swapped", func(i *Intent) { i.To, i.CallerID = i.CallerID, i.To }},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			i := baseIntent()
			c.mutate(&i)
			if got := i.Fingerprint(); got == fp {
				t.Errorf("changing %s did not change the fingerprint", c.name)
			}
		})
	}

	t.Run("empty type equals string", func(t *testing.T) {
		a, b := baseIntent(), baseIntent()
		a.Fields[1].Type = ""
		if a.Fingerprint() != b.Fingerprint() {
			t.Error(`"" type and "string" differ`)
		}
	})
	t.Run("nil and empty fields equal", func(t *testing.T) {
		a, b := baseIntent(), baseIntent()
		a.Fields, b.Fields = nil, []IntentField{}
		if a.Fingerprint() != b.Fingerprint() {
			t.Error("nil and empty Fields differ")
		}
	})
	t.Run("does not mutate fields", func(t *testing.T) {
		a := baseIntent()
		a.Fields[0].Type = ""
		a.Fingerprint()
		if a.Fields[0].Type != "" {
			t.Error("Fingerprint modified the caller's fields")
		}
	})
}
