package sandbox_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

var terminal = []string{"completed", "no_answer", "voicemail", "declined", "failed"}

// phase is "the call has this status from offset at until the next phase".
type phase struct {
	at     time.Duration
	status string
}

func TestLifecycleByNumber(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name, to string
		phases   []phase
		started  time.Duration // -1: never answered
		ended    time.Duration // -1: never ends
		errToken any
	}{
		{"completed", "+14155550123", []phase{{0, "queued"}, {s, "dialing"}, {3 * s, "in_progress"}, {11 * s, "completed"}}, 3 * s, 11 * s, nil},
		{"no answer", "+14155550001", []phase{{0, "queued"}, {s, "dialing"}, {21 * s, "no_answer"}}, -1, 21 * s, nil},
		{"voicemail", "+14155550002", []phase{{0, "queued"}, {s, "dialing"}, {7 * s, "in_progress"}, {11 * s, "voicemail"}}, 7 * s, 11 * s, nil},
		{"declined", "+14155550003", []phase{{0, "queued"}, {s, "dialing"}, {5 * s, "declined"}}, -1, 5 * s, nil},
		{"failed", "+14155550004", []phase{{0, "queued"}, {s, "dialing"}, {2 * s, "failed"}}, -1, 2 * s, "carrier_error"},
		{"completed, nothing found", "+14155550005", []phase{{0, "queued"}, {s, "dialing"}, {3 * s, "in_progress"}, {11 * s, "completed"}}, 3 * s, 11 * s, nil},
		{"long call", "+14155550006", []phase{{0, "queued"}, {s, "dialing"}, {3 * s, "in_progress"}, {93 * s, "completed"}}, 3 * s, 93 * s, nil},
		{"never ends", "+14155550007", []phase{{0, "queued"}, {s, "dialing"}, {3 * s, "in_progress"}}, 3 * s, -1, nil},
		{"slow start", "+442071230008", []phase{{0, "queued"}, {15 * s, "dialing"}, {20 * s, "in_progress"}, {40 * s, "completed"}}, 20 * s, 40 * s, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			id := e.place(keyA, map[string]any{"to": tc.to, "objective": "Book a table for 4 at 7 PM Friday.",
				"fields": []map[string]any{{"name": "booked", "type": "boolean"}}})
			horizon := tc.phases[len(tc.phases)-1].at + 5*s
			var last string
			for off := time.Duration(0); off <= horizon; off += 500 * time.Millisecond {
				want := ""
				for _, p := range tc.phases {
					if off >= p.at {
						want = p.status
					}
				}
				rec := e.get(keyA, id)
				checkRecord(t, rec, off)
				if rec["status"] != want {
					t.Fatalf("at +%v: status %v, want %s", off, rec["status"], want)
				}
				if last != "" && slices.Contains(terminal, last) && rec["status"] != last {
					t.Fatalf("left terminal status %s", last)
				}
				last = want
				isTerminal := slices.Contains(terminal, want)
				if started := tc.started >= 0 && off >= tc.started; started {
					if rec["startedAt"] != stampAt(tc.started) {
						t.Fatalf("at +%v: startedAt %v, want %s", off, rec["startedAt"], stampAt(tc.started))
					}
				} else if rec["startedAt"] != nil {
					t.Fatalf("at +%v: startedAt %v before answer", off, rec["startedAt"])
				}
				if !isTerminal {
					for _, k := range []string{"endedAt", "durationSec", "summary", "transcript", "extracted", "recordingUrl", "error"} {
						if rec[k] != nil {
							t.Fatalf("at +%v (%s): %s = %v, want null until the call ends", off, want, k, rec[k])
						}
					}
					e.clock.Advance(500 * time.Millisecond)
					continue
				}
				if rec["endedAt"] != stampAt(tc.ended) {
					t.Fatalf("endedAt %v, want %s", rec["endedAt"], stampAt(tc.ended))
				}
				wantDur := 0.0
				if tc.started >= 0 {
					wantDur = (tc.ended - tc.started).Seconds()
				}
				if rec["durationSec"] != wantDur {
					t.Fatalf("durationSec %v, want %v", rec["durationSec"], wantDur)
				}
				if rec["error"] != tc.errToken {
					t.Fatalf("error %v, want %v", rec["error"], tc.errToken)
				}
				if s, _ := rec["summary"].(string); s == "" {
					t.Fatal("terminal call without summary")
				}
				e.clock.Advance(500 * time.Millisecond)
			}
			// Hours later nothing changes any more (and the never-ending call is still live).
			e.clock.Advance(72 * time.Hour)
			rec := e.get(keyA, id)
			if rec["status"] != last {
				t.Fatalf("after 72h: status %v, want %s", rec["status"], last)
			}
			if tc.ended < 0 && (rec["endedAt"] != nil || rec["durationSec"] != nil) {
				t.Fatalf("never-ending call ended: %v", rec)
			}
		})
	}
}

// checkRecord asserts the record's shape: every documented key, of its type.
func checkRecord(t *testing.T, rec map[string]any, off time.Duration) {
	t.Helper()
	types := map[string]string{"id": "string", "status": "string", "to": "string", "objective": "string",
		"summary": "string?", "transcript": "string?", "extracted": "object?", "recordingUrl": "string?",
		"startedAt": "string?", "endedAt": "string?", "durationSec": "number?", "error": "string?",
		"language": "string", "languageSource": "string", "voice": "string?"}
	if len(rec) != len(types) {
		t.Fatalf("at +%v: record has %d keys, want %d: %v", off, len(rec), len(types), rec)
	}
	for k, typ := range types {
		v, ok := rec[k]
		if !ok {
			t.Fatalf("at +%v: key %s missing", off, k)
		}
		if v == nil {
			if !strings.HasSuffix(typ, "?") {
				t.Fatalf("at +%v: %s is null", off, k)
			}
			continue
		}
		var got string
		switch v.(type) {
		case string:
			got = "string"
		case float64:
			got = "number"
		case map[string]any:
			got = "object"
		}
		if got != strings.TrimSuffix(typ, "?") {
			t.Fatalf("at +%v: %s is %T", off, k, v)
		}
	}
	for _, k := range []string{"startedAt", "endedAt"} {
		if s, ok := rec[k].(string); ok {
			if _, err := time.Parse("2006-01-02T15:04:05.000Z", s); err != nil {
				t.Fatalf("%s %q is not ISO 8601 UTC with milliseconds", k, s)
			}
		}
	}
	if d, ok := rec["durationSec"].(float64); ok && d != math.Trunc(d) {
		t.Fatalf("durationSec %v is not whole", d)
	}
}

func stampAt(off time.Duration) string { return t0.Add(off).Format("2006-01-02T15:04:05.000Z") }

func TestCompletedCallContent(t *testing.T) {
	e := newEnv(t, sandbox.Options{RecordingBaseURL: "https://sandbox.test/"})
	fields := []map[string]any{
		{"name": "booked", "type": "boolean", "description": "Did they confirm the booking?"},
		{"name": "amount", "type": "number", "description": "Price quoted in USD"},
		{"name": "confirmed_time", "type": "string", "description": "The time they confirmed"},
		{"name": "contact_name", "description": "Name given for the reservation"},
	}
	objective := "Book a table for 4 at 7 PM Friday."
	place := func(to string, withFields bool) string {
		body := map[string]any{"to": to, "objective": objective, "context": "Window seat preferred."}
		if withFields {
			body["fields"] = fields
		}
		return e.place(keyA, body)
	}
	full, none, bare := place("+14155550123", true), place("+14155550005", true), place("+14155550123", false)
	voicemail, noAnswer, failed := place("+14155550002", true), place("+14155550001", true), place("+14155550004", true)
	e.clock.Advance(time.Minute)

	rec := e.get(keyA, full)
	ex, _ := rec["extracted"].(map[string]any)
	if ex["booked"] != true || ex["amount"] != 249.0 || ex["confirmed_time"] != "7 PM Friday" || ex["contact_name"] != "Smith" || len(ex) != 4 {
		t.Fatalf("extracted %v", rec["extracted"])
	}
	if s := rec["summary"].(string); !strings.Contains(s, objective) {
		t.Fatalf("summary %q does not mention the objective", s)
	}
	tr, _ := rec["transcript"].(string)
	lines := strings.Split(tr, "\n")
	if len(lines) < 6 || !strings.Contains(tr, objective) || !strings.Contains(tr, "background") {
		t.Fatalf("transcript %q", tr)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "AI: ") && !strings.HasPrefix(l, "Contact: ") {
			t.Fatalf("transcript line %q", l)
		}
	}
	if rec["recordingUrl"] != "https://sandbox.test/v1/agent/calls/"+full+"/recording" {
		t.Fatalf("recordingUrl %v", rec["recordingUrl"])
	}

	rec = e.get(keyA, none)
	ex, _ = rec["extracted"].(map[string]any)
	if rec["status"] != "completed" || len(ex) != 4 {
		t.Fatalf("nothing-found call: %v", rec)
	}
	for k, v := range ex {
		if v != nil {
			t.Fatalf("extracted %s = %v, want null", k, v)
		}
	}

	if rec := e.get(keyA, bare); rec["extracted"] == nil || len(rec["extracted"].(map[string]any)) != 0 {
		t.Fatalf("completed without fields: extracted %v, want {}", rec["extracted"])
	}
	rec = e.get(keyA, voicemail)
	// Voicemail: the requested fields are not in the greeting (null).
	if tr, _ := rec["transcript"].(string); !strings.HasPrefix(tr, "Voicemail: ") || rec["recordingUrl"] == nil {
		t.Fatalf("voicemail: %v", rec)
	}
	if ex, _ := rec["extracted"].(map[string]any); len(ex) != 4 || ex["booked"] != nil {
		t.Fatalf("voicemail extracted %v, want every requested field null", rec["extracted"])
	}
	for _, id := range []string{noAnswer, failed} {
		rec := e.get(keyA, id)
		if rec["transcript"] != nil || rec["extracted"] != nil || rec["recordingUrl"] != nil || rec["startedAt"] != nil || rec["durationSec"] != 0.0 {
			t.Fatalf("unanswered call: %v", rec)
		}
	}
	if e.get(keyA, failed)["error"] != "carrier_error" {
		t.Fatal("failed call without error token")
	}
}

// TestNumbersTable checks that every documented test number does what the
// README table says.
func TestNumbersTable(t *testing.T) {
	seen := map[string]bool{}
	for _, nb := range sandbox.Numbers() {
		t.Run(nb.Number, func(t *testing.T) {
			if seen[nb.Number] || nb.Description == "" || nb.Outcome == "" {
				t.Fatalf("bad table row %+v", nb)
			}
			seen[nb.Number] = true
			e := newEnv(t, sandbox.Options{})
			r := e.do("POST", "/v1/agent/calls", keyA, call(nb.Number))
			if !slices.Contains(terminal, nb.Outcome) && nb.Outcome != "in_progress" {
				if r.token() != nb.Outcome {
					t.Fatalf("POST: %d %s, want error %s", r.status, r.raw, nb.Outcome)
				}
				return
			}
			if r.status != 200 {
				t.Fatalf("POST: %d %s", r.status, r.raw)
			}
			e.clock.Advance(2 * time.Hour)
			if got := e.get(keyA, r.body["callId"].(string))["status"]; got != nb.Outcome {
				t.Fatalf("status %v, want %s", got, nb.Outcome)
			}
		})
	}
}

func TestTimeScale(t *testing.T) {
	e := newEnv(t, sandbox.Options{TimeScale: 10})
	id := e.place(keyA, call("+14155550123"))
	e.clock.Advance(1099 * time.Millisecond)
	if got := e.get(keyA, id)["status"]; got != "in_progress" {
		t.Fatalf("at 1.099 s: %v", got)
	}
	e.clock.Advance(time.Millisecond)
	rec := e.get(keyA, id)
	if rec["status"] != "completed" || rec["startedAt"] != stampAt(300*time.Millisecond) || rec["endedAt"] != stampAt(1100*time.Millisecond) || rec["durationSec"] != 1.0 {
		t.Fatalf("at 1.1 s: %v", rec)
	}

	t.Run("real clock by default", func(t *testing.T) {
		sb := sandbox.New(sandbox.Options{TimeScale: 1000})
		e := &env{t: t, sb: sb}
		e.srv = newServer(t, sb)
		id := e.place(keyA, call("+14155550123"))
		deadline := time.Now().Add(5 * time.Second)
		for e.get(keyA, id)["status"] != "completed" {
			if time.Now().After(deadline) {
				t.Fatal("call never completed on the real clock")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

func TestManualClock(t *testing.T) {
	c := sandbox.NewManualClock(t0)
	c.Advance(90 * time.Second)
	if !c.Now().Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("Now %v", c.Now())
	}
}
