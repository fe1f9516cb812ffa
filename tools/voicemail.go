package tools

import (
	"fmt"
	"slices"
	"strings"

	"github.com/byourside/bys-mcp/schema"
)

// validateVoicemail checks a voicemail / voicemailMessage pair (place_call,
// place_calls and each of its items): hang_up takes no message,
// leave_message needs one of 1 to schema.MaxVoicemailLen characters.
func validateVoicemail(mode, message string) *toolError {
	switch mode {
	case "":
		if message != "" {
			return invalidArgument("argument \"voicemailMessage\" goes with voicemail: leave_message: set voicemail to leave_message to leave it, or leave voicemailMessage out")
		}
	case schema.VoicemailHangUp:
		if message != "" {
			return invalidArgument("argument \"voicemailMessage\" cannot go with voicemail: hang_up (nothing is left): set voicemail to leave_message, or leave voicemailMessage out")
		}
	case schema.VoicemailLeaveMessage:
		if strings.TrimSpace(message) == "" {
			return invalidArgument("argument \"voicemailMessage\" is required with voicemail: leave_message: give the message to leave, at most %d characters", schema.MaxVoicemailLen)
		}
		return validateText("voicemailMessage", message, true, schema.MaxVoicemailLen)
	default:
		return invalidArgument("argument \"voicemail\" must be leave_message or hang_up (got %q), or be left out", truncate(mode, 32))
	}
	return nil
}

// voicemailInstruction is the one sentence the server adds to the context
// sent to the API for a voicemail setting ("" for none).
func voicemailInstruction(mode, message string) string {
	switch mode {
	case schema.VoicemailLeaveMessage:
		return fmt.Sprintf("If you reach voicemail, leave this message and hang up: «%s».", strings.TrimSpace(message))
	case schema.VoicemailHangUp:
		return "If you reach voicemail, hang up without leaving a message."
	}
	return ""
}

// apiContext is the context sent to the API for in: the agent's context,
// then the voicemail instruction (or the instruction alone when the agent
// gave no context). Without a voicemail setting it is the agent's context
// unchanged, so that dedupe identities of such calls keep their value.
func apiContext(in schema.PlaceCallInput) string {
	sentence := voicemailInstruction(in.Voicemail, in.VoicemailMessage)
	switch {
	case sentence == "":
		return in.Context
	case strings.TrimSpace(in.Context) == "":
		return sentence
	}
	return in.Context + "\n\n" + sentence
}

// voicemailWords says a voicemail setting in a confirmation question ("" for
// none).
func voicemailWords(mode, message string) string {
	switch mode {
	case schema.VoicemailLeaveMessage:
		return fmt.Sprintf("leave this message: «%s»", strings.TrimSpace(message))
	case schema.VoicemailHangUp:
		return "hang up without leaving a message"
	}
	return ""
}

// readRetryOn checks place_calls' retryOn (given: the argument was there)
// and returns the statuses, each once, in the order given; nil for the
// default.
func readRetryOn(list []string, given bool) ([]string, *toolError) {
	if !given {
		return nil, nil
	}
	if len(list) == 0 {
		return nil, invalidArgument("argument \"retryOn\" must list at least one of %s, or be left out for the default (%s)", strings.Join(schema.RetryOnStatuses, ", "), strings.Join(schema.DefaultRetryOn, " and "))
	}
	var out []string
	for i, s := range list {
		if !slices.Contains(schema.RetryOnStatuses, s) {
			return nil, invalidArgument("argument \"retryOn\" may list only %s (retryOn[%d] is %q)", strings.Join(schema.RetryOnStatuses, ", "), i, truncate(s, 32))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
