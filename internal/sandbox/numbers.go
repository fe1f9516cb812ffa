package sandbox

import (
	"strings"
	"time"
)

// OwnedCallerIDs are the numbers on the sandbox account. A callerId must be
// one of them (else 400 caller_id_not_owned); when callerId is omitted the
// first one is used. Do not modify the slice while a Sandbox is serving.
var OwnedCallerIDs = []string{"+12135550100", "+12135550101", "+442071838750"}

// NumberBehavior documents what the sandbox does when a call is placed to
// Number. Outcome is the final status of the call (or "in_progress" for the
// call that never ends), or the error token the POST is answered with.
type NumberBehavior struct{ Number, Outcome, Description string }

// Numbers returns the documented test numbers, in README table order. The
// outcome of a number is chosen by its last four digits, so any allowed
// number with the same ending behaves the same way (like payment test cards).
// Durations are at TimeScale 1.
func Numbers() []NumberBehavior {
	return []NumberBehavior{
		{"+14155550123", "completed", "Any other allowed number: queued 1 s, dialing 2 s, in_progress 8 s, then completed with a summary, transcript, a value of the declared type for every requested field, and a recording (a generated 1.5 s WAV at its recordingUrl)."},
		{"+14155550001", "no_answer", "Rings for 20 s and is never answered: startedAt null, durationSec 0."},
		{"+14155550002", "voicemail", "Answered by voicemail after 6 s; ends 4 s later. The transcript is the greeting; every requested field is null (bys_reached is voicemail); the recording is a beep then silence."},
		{"+14155550003", "declined", "Rejected by the recipient after ringing 4 s: startedAt null, durationSec 0."},
		{"+14155550004", "failed", "Fails while dialing (1 s) with error \"carrier_error\": startedAt null, durationSec 0."},
		{"+14155550005", "completed", "Completed (8 s) but the contact could not help: every requested field is null in extracted."},
		{"+14155550006", "completed", "A long call: in_progress for 90 s, so it outlasts the default 45 s wait_for_call."},
		{"+14155550007", "in_progress", "Never ends: answered after 3 s and stays in_progress forever (counted as 60 minutes against the minute cap)."},
		{"+14155550008", "completed", "Slow start: queued 15 s, dialing 5 s, in_progress 20 s (about 40 s in all, just inside the default wait)."},
		{"+14155550009", "completed", "Completed (8 s), and the person asks not to be called again: bys_do_not_call is true, so bys-mcp puts the number on the key's do-not-call list."},
		{"+14155550010", "completed", "Completed (8 s), and the person asks to be called back tomorrow at 10:00 their time: bys_callback_at holds that local date and time."},
		{"+14155550502", "placement_failed", "The POST answers 502 placement_failed and no call is created (it still counts against the rate limit)."},
		{"+14155550503", "store_error", "The POST answers 503 store_error and no call is created (it still counts against the rate limit)."},
		{"+33142685300", "destination_blocked", "France: only US, CA (all of +1), GB (+44), AU (+61), NZ (+64) and IL (+972) are allowed."},
		{"+19005550123", "destination_blocked", "Premium rate (+1 900, +1 976, +44 9, +61 19) is always blocked."},
		{"+881612345678", "destination_blocked", "Satellite (+881, +882, +870) is always blocked."},
		{"+447012345678", "destination_blocked", "The sandbox's IRSF-listed test range: UK personal numbers +44 70."},
		{"4155550123", "invalid_number", "Not E.164 (no leading + and country code): the API answers 400 invalid_number; through bys-mcp the number check refuses it first, suggesting +14155550123."},
	}
}

// allowedCountryCodes are the dialling codes of US/CA (all of NANP), GB, AU,
// NZ and IL.
var allowedCountryCodes = []string{"+1", "+44", "+61", "+64", "+972"}

// blockedPrefixes are always blocked whatever the country: premium rate,
// satellite and the sandbox's IRSF-listed test range.
var blockedPrefixes = []string{
	"+1900", "+1976", "+449", "+6119", // premium rate
	"+881", "+882", "+870", // satellite
	"+4470", // IRSF-listed test range (UK personal numbers)
}

// destinationBlocked reports whether an E.164 number may not be called.
func destinationBlocked(to string) bool {
	for _, p := range blockedPrefixes {
		if strings.HasPrefix(to, p) {
			return true
		}
	}
	for _, cc := range allowedCountryCodes {
		if strings.HasPrefix(to, cc) {
			return false
		}
	}
	return true
}

// forever marks a phase that never ends.
const forever time.Duration = -1

// profile is the scripted life of a call to a destination.
type profile struct {
	queued, dialing time.Duration
	talk            time.Duration // 0: never answered; forever: never ends
	final           string        // terminal status
	errToken        string        // "error" of a failed call
	noInfo          bool          // completed, but nothing extracted
	doNotCall       bool          // the person asks not to be called again
	callback        bool          // the person asks to be called back tomorrow at 10:00
	placeStatus     int           // non-zero: the POST fails with this HTTP status
	placeToken      string
}

func profileFor(to string) profile {
	p := profile{queued: time.Second, dialing: 2 * time.Second, talk: 8 * time.Second, final: "completed"}
	suffix := to
	if len(to) >= 4 {
		suffix = to[len(to)-4:]
	}
	switch suffix {
	case "0001":
		p.dialing, p.talk, p.final = 20*time.Second, 0, "no_answer"
	case "0002":
		p.dialing, p.talk, p.final = 6*time.Second, 4*time.Second, "voicemail"
	case "0003":
		p.dialing, p.talk, p.final = 4*time.Second, 0, "declined"
	case "0004":
		p.dialing, p.talk, p.final, p.errToken = time.Second, 0, "failed", "carrier_error"
	case "0005":
		p.noInfo = true
	case "0006":
		p.talk = 90 * time.Second
	case "0007":
		p.talk = forever
	case "0008":
		p.queued, p.dialing, p.talk = 15*time.Second, 5*time.Second, 20*time.Second
	case "0009":
		p.doNotCall = true
	case "0010":
		p.callback = true
	case "0502":
		p.placeStatus, p.placeToken = 502, "placement_failed"
	case "0503":
		p.placeStatus, p.placeToken = 503, "store_error"
	}
	return p
}
