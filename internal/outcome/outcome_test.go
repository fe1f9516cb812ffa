package outcome_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/outcome"
)

func TestFieldsAddAsManyReservedAsFit(t *testing.T) {
	agent := func(n int) []client.Field {
		var out []client.Field
		for i := range n {
			out = append(out, client.Field{Name: fmt.Sprintf("f%d", i)})
		}
		return out
	}
	tests := []struct {
		name  string
		agent int
		on    bool
		want  int
		last  string
		isNil bool
	}{
		{"none asked: all three", 0, true, 3, outcome.Reached, false},
		{"three asked", 3, true, 6, outcome.Reached, false},
		{"18 asked: two fit", 18, true, 20, outcome.CallbackAt, false},
		{"19 asked: one fits", 19, true, 20, outcome.DoNotCall, false},
		{"20 asked: none fit", 20, true, 20, "f19", false},
		{"off, none asked: nothing sent", 0, false, 0, "", true},
		{"off, three asked: the agent's only", 3, false, 3, "f2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outcome.Fields(agent(tt.agent), tt.on)
			if len(got) != tt.want || (tt.isNil && got != nil) {
				t.Fatalf("got %d fields (nil %v), want %d", len(got), got == nil, tt.want)
			}
			if tt.want > 0 && got[len(got)-1].Name != tt.last {
				t.Errorf("last field %q, want %q", got[len(got)-1].Name, tt.last)
			}
			for i := range tt.agent {
				if got[i].Name != fmt.Sprintf("f%d", i) {
					t.Errorf("agent field %d moved: %q", i, got[i].Name)
				}
			}
		})
	}
	for _, f := range outcome.Fields(nil, true) {
		if f.Description == "" || (f.Type != "boolean" && f.Type != "string") {
			t.Errorf("reserved field %+v lacks a description or type", f)
		}
	}
}

func TestOfReadsOnlyWellFormedAnswers(t *testing.T) {
	tests := []struct {
		name      string
		extracted map[string]any
		want      string
	}{
		{"nothing", nil, `{"doNotCall":null,"callbackAt":null,"reached":null}`},
		{"all three", map[string]any{"bys_do_not_call": true, "bys_callback_at": "2026-12-08T10:00", "bys_reached": "person"}, `{"doNotCall":true,"callbackAt":"2026-12-08T10:00","reached":"person"}`},
		{"empty callback and a capitalised answer", map[string]any{"bys_do_not_call": false, "bys_callback_at": "", "bys_reached": "Voicemail"}, `{"doNotCall":false,"callbackAt":null,"reached":"voicemail"}`},
		{"wrong types and forms", map[string]any{"bys_do_not_call": "yes", "bys_callback_at": "tomorrow at 10", "bys_reached": "a robot"}, `{"doNotCall":null,"callbackAt":null,"reached":null}`},
		{"impossible date", map[string]any{"bys_callback_at": "2026-13-40T25:00"}, `{"doNotCall":null,"callbackAt":null,"reached":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(outcome.Of(tt.extracted))
			if string(b) != tt.want {
				t.Errorf("Of = %s, want %s", b, tt.want)
			}
		})
	}
}

func TestPresentMovesReservedFieldsToOutcome(t *testing.T) {
	raw := `{"id":"c1","status":"completed","extracted":{"booked":true,"bys_do_not_call":true,"bys_callback_at":"","bys_reached":"person"},"language":"en-US"}`
	var c client.Call
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	p := outcome.Present(&c)
	var m map[string]any
	if err := json.Unmarshal(p.Raw, &m); err != nil {
		t.Fatal(err)
	}
	ex, _ := m["extracted"].(map[string]any)
	if len(ex) != 1 || ex["booked"] != true {
		t.Errorf("extracted = %v, want the agent's field only", m["extracted"])
	}
	o, _ := m["outcome"].(map[string]any)
	if o["doNotCall"] != true || o["reached"] != "person" || o["callbackAt"] != nil {
		t.Errorf("outcome = %v", m["outcome"])
	}
	if m["language"] != "en-US" {
		t.Error("an unknown field of the record was lost")
	}
	if len(p.Extracted) != 1 || len(c.Extracted) != 4 {
		t.Errorf("typed extracted = %v; the original must not change (%v)", p.Extracted, c.Extracted)
	}
	// A record without extracted gets an all-null outcome.
	var q client.Call
	_ = json.Unmarshal([]byte(`{"id":"c2","status":"queued","extracted":null}`), &q)
	_ = json.Unmarshal(outcome.Present(&q).Raw, &m)
	if m["extracted"] != nil || m["outcome"] == nil {
		t.Errorf("queued record = %v", m)
	}
	if !outcome.IsReserved("BYS_reached") || outcome.IsReserved("booked") {
		t.Error("IsReserved is wrong")
	}
}

func TestCallbackTimeIsReadInTheNumbersZone(t *testing.T) {
	tests := []struct {
		name, at, to string
		want         string // RFC 3339, "" when not ok
		zone         string
	}{
		{"San Francisco in summer", "2026-06-18T10:00", "+14155550010", "2026-06-18T10:00:00-07:00", "America/Los_Angeles"},
		{"San Francisco in winter", "2026-12-03T10:00", "+14155550010", "2026-12-03T10:00:00-08:00", "America/Los_Angeles"},
		{"New York", "2026-06-18T09:30", "+12125550123", "2026-06-18T09:30:00-04:00", "America/New_York"},
		{"London", "2026-06-18T10:00", "+442071838750", "2026-06-18T10:00:00+01:00", "Europe/London"},
		{"spaces around", " 2026-06-18T10:00 ", "+14155550010", "2026-06-18T10:00:00-07:00", "America/Los_Angeles"},
		{"malformed", "tomorrow at ten", "+14155550010", "", ""},
		{"with seconds", "2026-06-18T10:00:00", "+14155550010", "", ""},
		{"no zone for the number", "2026-06-18T10:00", "+99912345678", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, loc, ok := outcome.CallbackTime(tt.at, tt.to)
			if tt.want == "" {
				if ok {
					t.Fatalf("CallbackTime = %v in %v, want not ok", at, loc)
				}
				return
			}
			if !ok || at.Format(time.RFC3339) != tt.want || loc.String() != tt.zone {
				t.Fatalf("CallbackTime = %v in %v (ok %v), want %s in %s", at.Format(time.RFC3339), loc, ok, tt.want, tt.zone)
			}
		})
	}
}

func TestPresentKeepsTheAgentsValuesAsSent(t *testing.T) {
	raw := `{"id":"c3","status":"completed","extracted":{"order":12345678901234567890,"note":"<b>5 & 6</b>","bys_reached":"person"}}`
	var c client.Call
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	got := string(outcome.Present(&c).Raw)
	for _, want := range []string{`"order":12345678901234567890`, `"note":"<b>5 & 6</b>"`, `"reached":"person"`} {
		if !strings.Contains(got, want) {
			t.Errorf("record %s lacks %s", got, want)
		}
	}
	if strings.Contains(got, "bys_reached") {
		t.Errorf("a reserved field stayed in extracted: %s", got)
	}
}
