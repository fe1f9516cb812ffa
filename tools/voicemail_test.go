package tools

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/schema"
)

func TestValidateVoicemail(t *testing.T) {
	tests := []struct {
		name, mode, message string
		wantArg             string // "" = valid; else the argument the refusal names
	}{
		{"nothing said", "", "", ""},
		{"hang up", "hang_up", "", ""},
		{"leave a message", "leave_message", "Please call back on 415 555 0100.", ""},
		{"a message of exactly 500 characters", "leave_message", strings.Repeat("a", 500), ""},
		{"500 characters counted as code points, not bytes", "leave_message", strings.Repeat("é", 500), ""},
		{"a message of 501 characters", "leave_message", strings.Repeat("a", 501), "voicemailMessage"},
		{"leave_message without a message", "leave_message", "", "voicemailMessage"},
		{"leave_message with a blank message", "leave_message", "   ", "voicemailMessage"},
		{"a message without voicemail", "", "Call me back.", "voicemailMessage"},
		{"a message with hang_up", "hang_up", "Call me back.", "voicemailMessage"},
		{"an unknown mode", "shout", "", "voicemail"},
		{"a message that is not UTF-8", "leave_message", "\xff\xfe", "voicemailMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			terr := validateVoicemail(tt.mode, tt.message)
			if tt.wantArg == "" {
				if terr != nil {
					t.Fatalf("refused: %v", terr)
				}
				return
			}
			if terr == nil || terr.Token != "invalid_argument" || !strings.Contains(terr.Hint, `"`+tt.wantArg+`"`) {
				t.Fatalf("got %v, want invalid_argument naming %q", terr, tt.wantArg)
			}
		})
	}
}

func TestAPIContextAddsOneVoicemailSentence(t *testing.T) {
	tests := []struct {
		name                   string
		context, mode, message string
		want                   string
	}{
		{"no setting: the agent's context unchanged", "Window seat.", "", "", "Window seat."},
		{"no setting and no context", "", "", "", ""},
		{"hang up after the context", "Window seat.", "hang_up", "", "Window seat.\n\nIf you reach voicemail, hang up without leaving a message."},
		{"hang up as the whole context", "", "hang_up", "", "If you reach voicemail, hang up without leaving a message."},
		{"a blank context is replaced", "  \n", "hang_up", "", "If you reach voicemail, hang up without leaving a message."},
		{"the message, quoted", "Window seat.", "leave_message", " Please call Sam back. ", "Window seat.\n\nIf you reach voicemail, leave this message and hang up: «Please call Sam back.»."},
		{"the message as the whole context", "", "leave_message", "Call back.", "If you reach voicemail, leave this message and hang up: «Call back.»."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apiContext(schema.PlaceCallInput{Context: tt.context, Voicemail: tt.mode, VoicemailMessage: tt.message})
			if got != tt.want {
				t.Errorf("apiContext = %q, want %q", got, tt.want)
			}
			if strings.Count(got, "If you reach voicemail") > 1 {
				t.Errorf("more than one instruction: %q", got)
			}
		})
	}
}

// Voicemail settings make another call for dedupe and for confirmation,
// and a call without them keeps the identities it had before they existed.
func TestVoicemailIsPartOfWhatMakesTheSameCall(t *testing.T) {
	base := schema.PlaceCallInput{To: "+14155550123", Objective: "Book a table.", Context: "Window seat."}
	ids := func(in schema.PlaceCallInput) (string, string) {
		a := &attempt{in: in, keyFP: "fp"}
		fp := intentOf(a).Fingerprint()
		return fp, confirmationFingerprint(fp, in)
	}
	plainFP, plainConfirm := ids(base)
	// The values these had before voicemail settings existed: the intent of
	// the agent's context, and the confirmation of intent and webhookUrl.
	oldFP := safety.Intent{KeyFingerprint: "fp", To: base.To, Objective: base.Objective, Context: base.Context, Fields: []safety.IntentField{}}.Fingerprint()
	sum := sha256.Sum256([]byte("bys-mcp confirmation v1\x00" + oldFP + "\x00"))
	if plainFP != oldFP || plainConfirm != hex.EncodeToString(sum[:]) {
		t.Error("a call without voicemail changed its dedupe or confirmation identity")
	}
	variants := map[string]schema.PlaceCallInput{}
	hang := base
	hang.Voicemail = "hang_up"
	variants["hang_up"] = hang
	leave := base
	leave.Voicemail, leave.VoicemailMessage = "leave_message", "Call back."
	variants["leave_message"] = leave
	other := leave
	other.VoicemailMessage = "Call back tomorrow."
	variants["another message"] = other
	seenFP, seenConfirm := map[string]string{plainFP: "none"}, map[string]string{plainConfirm: "none"}
	for name, in := range variants {
		fp, confirm := ids(in)
		if prev, ok := seenFP[fp]; ok {
			t.Errorf("%s has the dedupe identity of %s", name, prev)
		}
		if prev, ok := seenConfirm[confirm]; ok {
			t.Errorf("%s has the confirmation identity of %s", name, prev)
		}
		seenFP[fp], seenConfirm[confirm] = name, name
	}
}

func TestReadRetryOn(t *testing.T) {
	tests := []struct {
		name  string
		list  []string
		given bool
		want  string // fmt of the result, or "refused"
	}{
		{"left out: the default", nil, false, "[]"},
		{"voicemail added", []string{"no_answer", "failed", "voicemail"}, true, "[no_answer failed voicemail]"},
		{"voicemail only", []string{"voicemail"}, true, "[voicemail]"},
		{"repeats count once", []string{"failed", "failed", "no_answer"}, true, "[failed no_answer]"},
		{"an empty list", []string{}, true, "refused"},
		{"a status that is not redialled", []string{"declined"}, true, "refused"},
		{"completed", []string{"no_answer", "completed"}, true, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, terr := readRetryOn(tt.list, tt.given)
			if tt.want == "refused" {
				if terr == nil || !strings.Contains(terr.Hint, `"retryOn"`) {
					t.Fatalf("got %v, %v; want a refusal naming retryOn", got, terr)
				}
				return
			}
			if terr != nil {
				t.Fatal(terr)
			}
			if s := "[" + strings.Join(got, " ") + "]"; s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
}

// The user who confirms a call is told what it leaves on an answering
// machine.
func TestConfirmationQuestionSaysTheVoicemailSetting(t *testing.T) {
	tests := []struct {
		mode, message, want string
	}{
		{"", "", ""},
		{"hang_up", "", "On voicemail: hang up without leaving a message"},
		{"leave_message", "Call Sam back.", "On voicemail: leave this message: «Call Sam back.»"},
	}
	for _, tt := range tests {
		msg := confirmMessage(&attempt{in: schema.PlaceCallInput{To: "+14155550123", Objective: "Book.", Voicemail: tt.mode, VoicemailMessage: tt.message}})
		if tt.want == "" {
			if strings.Contains(msg, "voicemail") {
				t.Errorf("no setting, yet the question speaks of voicemail: %q", msg)
			}
		} else if !strings.Contains(msg, tt.want) {
			t.Errorf("%s: the question lacks %q: %q", tt.mode, tt.want, msg)
		}
	}
}
