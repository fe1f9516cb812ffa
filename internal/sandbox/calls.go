package sandbox

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/numbering"
)

// field is one requested extraction field, validated.
type field struct{ name, typ, desc string }

// call is a stored call. Its status is never stored: view derives it from the
// clock, so the lifecycle needs no goroutines.
type call struct {
	id        string
	seq       uint64
	to        string
	objective string
	created   time.Time
	dialAt    time.Time // queued -> dialing
	answerAt  time.Time // dialing -> in_progress (zero if never answered)
	endAt     time.Time // -> terminal (zero if the call never ends)
	final     string
	errToken  string

	// How the call speaks: the language sent (or inferred from the
	// number), whether it was sent ("explicit") or not ("inferred"), and
	// the voice sent ("" = null).
	language, languageSource, voice string

	// What the call reveals once it has ended.
	summary    string
	transcript string // "" = null
	extracted  map[string]any
	hasRecord  bool
}

// record is the wire shape of GET /v1/agent/calls/{id}: every key is always
// present, null where not set.
type record struct {
	ID           string         `json:"id"`
	Status       string         `json:"status"`
	To           string         `json:"to"`
	Objective    string         `json:"objective"`
	Summary      *string        `json:"summary"`
	Transcript   *string        `json:"transcript"`
	Extracted    map[string]any `json:"extracted"`
	RecordingURL *string        `json:"recordingUrl"`
	StartedAt    *string        `json:"startedAt"`
	EndedAt      *string        `json:"endedAt"`
	DurationSec  *int64         `json:"durationSec"`
	Error        *string        `json:"error"`

	Language       string  `json:"language"`
	LanguageSource string  `json:"languageSource"`
	Voice          *string `json:"voice"`
}

// timeLayout is ISO 8601 UTC with milliseconds, as in the reference.
const timeLayout = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) *string {
	s := t.UTC().Format(timeLayout)
	return &s
}

func strp(s string) *string { return &s }

// Where the call's language comes from.
const (
	languageExplicit = "explicit"
	languageInferred = "inferred"
)

// speech sets how c speaks: the language sent, or one inferred from the
// number's country code when none was.
func (c *call) speech(lang, voice string) {
	c.language, c.languageSource, c.voice = lang, languageExplicit, voice
	if lang == "" {
		c.language, c.languageSource = inferLanguage(c.to), languageInferred
	}
}

// inferLanguage guesses the language of a number from its country code;
// en-US when the code is not one of the countries the API dials.
func inferLanguage(to string) string {
	for _, p := range []struct{ prefix, lang string }{
		{"+1", "en-US"}, {"+44", "en-GB"}, {"+61", "en-AU"}, {"+64", "en-NZ"}, {"+972", "he-IL"},
	} {
		if strings.HasPrefix(to, p.prefix) {
			return p.lang
		}
	}
	return "en-US"
}

// newCall scripts a call to p, created at now; scale divides every phase.
func newCall(id string, seq uint64, now time.Time, to, objective string, hasContext bool, fields []field, p profile, scale float64) *call {
	sc := func(d time.Duration) time.Duration {
		return time.Duration(float64(d) / scale).Truncate(time.Millisecond)
	}
	c := &call{id: id, seq: seq, to: to, objective: objective, final: p.final, errToken: p.errToken}
	c.created = now.Truncate(time.Millisecond)
	c.dialAt = c.created.Add(sc(p.queued))
	ringEnd := c.dialAt.Add(sc(p.dialing))
	switch {
	case p.talk == forever:
		c.answerAt = ringEnd
	case p.talk > 0:
		c.answerAt = ringEnd
		c.endAt = ringEnd.Add(sc(p.talk))
	default:
		c.endAt = ringEnd
	}
	c.script(to, objective, hasContext, fields, p)
	c.answerReserved(to, fields, p, now)
	return c
}

// billedMinutes is what placing the call draws from the minute cap: its
// connected time rounded up to whole minutes (60 for a call that never ends).
func (c *call) billedMinutes() float64 {
	switch {
	case c.answerAt.IsZero():
		return 0
	case c.endAt.IsZero():
		return 60
	}
	return math.Ceil(c.endAt.Sub(c.answerAt).Minutes())
}

// view renders the call as seen at now.
func (c *call) view(now time.Time, recordingBase string) record {
	r := record{ID: c.id, To: c.to, Objective: c.objective, Language: c.language, LanguageSource: c.languageSource}
	if c.voice != "" {
		r.Voice = strp(c.voice)
	}
	answered := !c.answerAt.IsZero() && !now.Before(c.answerAt)
	ended := !c.endAt.IsZero() && !now.Before(c.endAt)
	switch {
	case now.Before(c.dialAt):
		r.Status = "queued"
	case ended:
		r.Status = c.final
	case answered:
		r.Status = "in_progress"
	default:
		r.Status = "dialing"
	}
	if answered {
		r.StartedAt = stamp(c.answerAt)
	}
	if !ended {
		return r
	}
	r.EndedAt = stamp(c.endAt)
	var d int64
	if !c.answerAt.IsZero() {
		d = int64(math.Round(c.endAt.Sub(c.answerAt).Seconds()))
	}
	r.DurationSec = &d
	r.Summary = strp(c.summary)
	if c.transcript != "" {
		r.Transcript = strp(c.transcript)
	}
	r.Extracted = c.extracted
	if c.hasRecord {
		r.RecordingURL = strp(recordingBase + "/v1/agent/calls/" + c.id + "/recording")
	}
	if c.errToken != "" {
		r.Error = strp(c.errToken)
	}
	return r
}

// script writes what the call will reveal when it ends.
func (c *call) script(to, objective string, hasContext bool, fields []field, p profile) {
	obj := shorten(strings.TrimSpace(objective), 300)
	switch p.final {
	case "no_answer":
		c.summary = "The destination did not pick up; nothing was discussed."
		return
	case "declined":
		c.summary = "The recipient declined the call; nothing was discussed."
		return
	case "failed":
		c.summary = "The call failed before it connected (carrier error). Retry if the issue is transient."
		return
	case "voicemail":
		c.summary = "The call reached voicemail; no message was left and the objective was not completed."
		c.extracted = make(map[string]any, len(fields))
		for _, f := range fields {
			c.extracted[f.name] = nil
		}
		c.transcript = "Voicemail: Hi, you've reached " + to + ". I can't take your call right now. Please leave a message after the tone."
		c.hasRecord = true
		return
	}
	c.hasRecord = true
	c.extracted = make(map[string]any, len(fields))
	var b strings.Builder
	line := func(who, format string, args ...any) {
		b.WriteString(who)
		b.WriteString(": ")
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	line("AI", "Hello, this is an AI assistant calling on behalf of a customer.")
	line("Contact", "Hi, how can I help you?")
	line("AI", "I'm calling about the following: %s", obj)
	if hasContext {
		line("AI", "I have some background notes from my customer, so I'll keep this brief.")
	}
	if p.noInfo {
		line("Contact", "I'm sorry, I can't help with that. You'd need to speak to someone else.")
		for _, f := range fields {
			c.extracted[f.name] = nil
			line("AI", "Do you know %s?", question(f))
			line("Contact", "No, I don't have that information.")
		}
		line("AI", "I understand. Thank you for your time. Goodbye.")
		line("Contact", "Goodbye.")
		c.transcript = strings.TrimSuffix(b.String(), "\n")
		c.summary = fmt.Sprintf("The call connected, but the contact could not help with the objective (“%s”). None of the requested details were obtained.", obj)
		return
	}
	line("Contact", "Sure, I can help with that.")
	var got []string
	for _, f := range fields {
		if isReserved(f.name) {
			continue
		}
		v := valueFor(f)
		c.extracted[f.name] = v
		line("AI", "Could you tell me %s?", question(f))
		switch v := v.(type) {
		case bool:
			line("Contact", "Yes, that's confirmed.")
		case int:
			line("Contact", "That would be %d.", v)
		default:
			line("Contact", "%v.", v)
		}
		got = append(got, fmt.Sprintf("%s: %v", f.name, v))
	}
	switch {
	case p.doNotCall:
		line("Contact", "One more thing: please don't call me again, and take this number off your list.")
		line("AI", "Understood, I'm sorry for the trouble. We won't call again. Goodbye.")
	case p.callback:
		line("Contact", "I have to go now. Could you call me back tomorrow at 10 in the morning?")
		line("AI", "Of course, tomorrow at 10 AM. Thank you, goodbye!")
	default:
		line("AI", "Thank you, that's everything I needed. Goodbye!")
		line("Contact", "You're welcome. Goodbye.")
	}
	c.transcript = strings.TrimSuffix(b.String(), "\n")
	c.summary = fmt.Sprintf("The call achieved its objective (“%s”); the contact agreed and confirmed the details.", obj)
	if len(got) > 0 {
		c.summary += " Obtained " + strings.Join(got, "; ") + "."
	}
}

// question turns a field into the thing the AI asks for.
func question(f field) string {
	if f.desc != "" {
		return strings.TrimRight(strings.ToLower(shorten(strings.TrimSpace(f.desc), 200)), "?.")
	}
	return "the " + strings.ReplaceAll(f.name, "_", " ")
}

// valueFor invents a plausible value of the field's declared type.
func valueFor(f field) any {
	hint := strings.ToLower(f.name + " " + f.desc)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(hint, w) {
				return true
			}
		}
		return false
	}
	switch f.typ {
	case "boolean":
		return true
	case "number":
		switch {
		case has("people", "party", "guest", "size", "count", "seats"):
			return 4
		case has("minute", "duration", "wait"):
			return 30
		}
		return 249
	}
	switch {
	case has("time"):
		return "7 PM Friday"
	case has("date", "day"):
		return "Friday, June 19"
	case has("email"):
		return "bookings@example.com"
	case has("phone"):
		return "+14155550123"
	case has("name"):
		return "Smith"
	case has("price", "amount", "cost", "quote", "fee"):
		return "$249"
	case has("address", "location"):
		return "123 Main Street"
	case has("next", "step"):
		return "They will email a signed contract by end of day Thursday"
	}
	return "Confirmed as requested"
}

// shorten cuts s to at most n runes, marking the cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// isReserved reports whether a field is one of bys-mcp's reserved outcome
// questions (bys_ names), which the sandbox answers from the scripted
// conversation as the API's extractor would.
func isReserved(name string) bool { return strings.HasPrefix(name, "bys_") }

// answerReserved answers the reserved outcome questions asked of the call:
// who answered, whether the person asked not to be called again, and when
// they asked to be called back (their local time, tomorrow at 10:00).
// Calls that reached nobody leave them null, as an extractor would with no
// conversation to read.
func (c *call) answerReserved(to string, fields []field, p profile, now time.Time) {
	if c.extracted == nil {
		return
	}
	for _, f := range fields {
		switch f.name {
		case "bys_reached":
			if p.final == "voicemail" {
				c.extracted[f.name] = "voicemail"
			} else {
				c.extracted[f.name] = "person"
			}
		case "bys_do_not_call":
			if p.final == "voicemail" {
				c.extracted[f.name] = nil
			} else {
				c.extracted[f.name] = p.doNotCall
			}
		case "bys_callback_at":
			switch {
			case p.final == "voicemail":
				c.extracted[f.name] = nil
			case p.callback:
				c.extracted[f.name] = callbackTime(to, now)
			default:
				c.extracted[f.name] = ""
			}
		}
	}
}

// callbackTime is tomorrow at 10:00 in the number's first time zone (UTC
// when the zone is not known), as YYYY-MM-DDTHH:MM.
func callbackTime(to string, now time.Time) string {
	loc := time.UTC
	if zones := numbering.TimeZones(strings.TrimPrefix(to, "+")); len(zones) > 0 {
		if l, err := time.LoadLocation(zones[0]); err == nil {
			loc = l
		}
	}
	local := now.In(loc).AddDate(0, 0, 1)
	return time.Date(local.Year(), local.Month(), local.Day(), 10, 0, 0, 0, loc).Format("2006-01-02T15:04")
}
