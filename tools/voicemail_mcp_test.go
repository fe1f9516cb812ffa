package tools_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// postLog records the bodies of the POSTs that reach the API.
type postLog struct {
	base http.RoundTripper

	mu    sync.Mutex
	posts []map[string]any
}

func (p *postLog) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		p.mu.Lock()
		p.posts = append(p.posts, m)
		p.mu.Unlock()
	}
	return p.base.RoundTrip(r)
}

// count is the number of POSTs so far.
func (p *postLog) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts)
}

// to returns the bodies of the POSTs to a number, oldest first.
func (p *postLog) to(number string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, m := range p.posts {
		if m["to"] == number {
			out = append(out, m)
		}
	}
	return out
}

// postApp is a sandbox app (adjust may change its configuration) whose API
// POSTs are recorded.
func postApp(t *testing.T, adjust func(*config.Config)) (*testApp, *postLog) {
	t.Helper()
	log := &postLog{}
	a := testkit.SandboxApp(t, adjust, testkit.QuietLogger(), app.Options{
		SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll(),
		WrapTransport: func(base http.RoundTripper) http.RoundTripper { log.base = base; return log },
	})
	return &testApp{App: a, logs: &testkit.SyncBuffer{}}, log
}

const (
	hangUpSentence = "If you reach voicemail, hang up without leaving a message."
	leaveSentence  = "If you reach voicemail, leave this message and hang up: «Hi, this is Sam's assistant: please call back on 415 555 0100.»."
	leaveMessage   = "Hi, this is Sam's assistant: please call back on 415 555 0100."
)

func TestPlaceCallSendsTheVoicemailInstructionInTheContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		to          string
		args        map[string]any
		wantContext any // the context the API received; nil when none was sent
	}{
		{"no setting: the context as given", "+14155550110", map[string]any{"context": "Window seat."}, "Window seat."},
		{"no setting, no context: none sent", "+14155550111", nil, nil},
		{"hang_up after the agent's context", "+14155550112", map[string]any{"context": "Window seat.", "voicemail": "hang_up"}, "Window seat.\n\n" + hangUpSentence},
		{"hang_up as the whole context", "+14155550113", map[string]any{"voicemail": "hang_up"}, hangUpSentence},
		{"leave_message after the agent's context", "+14155550114", map[string]any{"context": "Window seat.", "voicemail": "leave_message", "voicemailMessage": leaveMessage}, "Window seat.\n\n" + leaveSentence},
		{"leave_message as the whole context", "+14155550115", map[string]any{"voicemail": "leave_message", "voicemailMessage": leaveMessage}, leaveSentence},
	}
	a, posts := postApp(t, nil)
	c := connect(t, a)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := placeArgs(map[string]any{"to": tt.to})
			for k, v := range tt.args {
				args[k] = v
			}
			wantOK(t, c.call("place_call", args))
			sent := posts.to(tt.to)
			if len(sent) != 1 {
				t.Fatalf("%d POSTs to %s, want 1", len(sent), tt.to)
			}
			if got := sent[0]["context"]; got != tt.wantContext {
				t.Errorf("context sent = %q, want %q", got, tt.wantContext)
			}
			for _, k := range []string{"voicemail", "voicemailMessage"} {
				if _, ok := sent[0][k]; ok {
					t.Errorf("the API received %s, which it does not know", k)
				}
			}
		})
	}
}

func TestPlaceCallRefusesVoicemailArgumentsThatDoNotGoTogether(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, nil)
	c := connect(t, a)
	tests := []struct {
		name, arg string
		args      map[string]any
	}{
		{"a message without voicemail", "voicemailMessage", map[string]any{"voicemailMessage": "Call back."}},
		{"a message with hang_up", "voicemailMessage", map[string]any{"voicemail": "hang_up", "voicemailMessage": "Call back."}},
		{"leave_message without a message", "voicemailMessage", map[string]any{"voicemail": "leave_message"}},
		{"a message of 501 characters", "voicemailMessage", map[string]any{"voicemail": "leave_message", "voicemailMessage": strings.Repeat("a", 501)}},
		{"an unknown mode", "voicemail", map[string]any{"voicemail": "sing"}},
		{"a mode that is not a string", "voicemail", map[string]any{"voicemail": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := wantToolError(t, c.call("place_call", placeArgs(tt.args)), "invalid_argument")
			if h, _ := m["hint"].(string); !strings.Contains(h, `"`+tt.arg+`"`) {
				t.Errorf("hint %q does not name %s", h, tt.arg)
			}
		})
		t.Run("place_calls: "+tt.name, func(t *testing.T) {
			args := map[string]any{"objective": "Ask about opening hours.", "calls": []any{map[string]any{"to": "+14155550123"}}}
			for k, v := range tt.args {
				args[k] = v
			}
			m := wantToolError(t, c.call("place_calls", args), "invalid_argument")
			if h, _ := m["hint"].(string); !strings.Contains(h, `"`+tt.arg+`"`) {
				t.Errorf("hint %q does not name %s", h, tt.arg)
			}
			item := map[string]any{"to": "+14155550123"}
			for k, v := range tt.args {
				item[k] = v
			}
			m = wantToolError(t, c.call("place_calls", map[string]any{"objective": "Ask about opening hours.", "calls": []any{item}}), "invalid_argument")
			// A wrong type is named by the decoder as calls.<argument>.
			if h, _ := m["hint"].(string); !strings.Contains(h, "calls[0]: argument \""+tt.arg+`"`) && !strings.Contains(h, `"calls.`+tt.arg+`"`) {
				t.Errorf("hint %q does not name calls[0] and %s", h, tt.arg)
			}
		})
	}
	for _, tt := range []struct {
		name    string
		retryOn any
	}{{"an empty retryOn", []any{}}, {"retryOn declined", []any{"declined"}}, {"retryOn not a list", "voicemail"}} {
		t.Run(tt.name, func(t *testing.T) {
			m := wantToolError(t, c.call("place_calls", map[string]any{"objective": "x", "retryOn": tt.retryOn, "calls": []any{map[string]any{"to": "+14155550123"}}}), "invalid_argument")
			if h, _ := m["hint"].(string); !strings.Contains(h, `"retryOn"`) {
				t.Errorf("hint %q does not name retryOn", h)
			}
		})
	}
	if n := posts.count(); n != 0 {
		t.Errorf("refused arguments sent %d POSTs", n)
	}
}

// A call that differs from an earlier one only in its voicemail setting is
// another call: it is dialled, not deduplicated; the same setting again is.
func TestVoicemailSettingsAreOneCallForDedupe(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, nil)
	c := connect(t, a)
	never := placeArgs(map[string]any{"to": "+14155550007"}) // never ends: nothing ends the dedupe
	first := wantOK(t, c.call("place_call", never))
	steps := []struct {
		name      string
		extra     map[string]any
		wantDedup bool
	}{
		{"the same call again", nil, true},
		{"with hang_up", map[string]any{"voicemail": "hang_up"}, false},
		{"with hang_up again", map[string]any{"voicemail": "hang_up"}, true},
		{"with a message", map[string]any{"voicemail": "leave_message", "voicemailMessage": "Call back."}, false},
		{"with another message", map[string]any{"voicemail": "leave_message", "voicemailMessage": "Call back tomorrow."}, false},
		{"with that message again", map[string]any{"voicemail": "leave_message", "voicemailMessage": "Call back tomorrow."}, true},
	}
	posted := 1
	for _, s := range steps {
		args := placeArgs(map[string]any{"to": "+14155550007"})
		for k, v := range s.extra {
			args[k] = v
		}
		m := wantOK(t, c.call("place_call", args))
		if m["deduplicated"] != s.wantDedup {
			t.Errorf("%s: deduplicated = %v, want %v", s.name, m["deduplicated"], s.wantDedup)
		}
		if !s.wantDedup {
			posted++
		}
		if s.name == "the same call again" && m["callId"] != first["callId"] {
			t.Errorf("the identical call joined %v, want %v", m["callId"], first["callId"])
		}
	}
	if n := posts.count(); n != posted {
		t.Errorf("%d POSTs, want %d", n, posted)
	}
}

func TestPlaceCallsSendsEachItemsVoicemailSetting(t *testing.T) {
	t.Parallel()
	a, posts := postApp(t, nil)
	c := connect(t, a)
	res := c.call("place_calls", map[string]any{
		"objective": "Ask about opening hours.", "context": "We are a family of four.",
		"voicemail": "leave_message", "voicemailMessage": leaveMessage,
		"calls": []any{
			map[string]any{"to": "+14155550120"},
			map[string]any{"to": "+14155550121", "voicemail": "hang_up"},
			map[string]any{"to": "+14155550122", "context": "Ask for Ana.", "voicemail": "leave_message", "voicemailMessage": "Ana, call back please."},
		},
	})
	id := wantOK(t, res)["campaignId"]
	wantOK(t, c.call("wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60}))
	want := map[string]string{
		"+14155550120": "We are a family of four.\n\n" + leaveSentence,
		"+14155550121": "We are a family of four.\n\n" + hangUpSentence,
		"+14155550122": "Ask for Ana.\n\nIf you reach voicemail, leave this message and hang up: «Ana, call back please.».",
	}
	for to, ctx := range want {
		sent := posts.to(to)
		if len(sent) != 1 || sent[0]["context"] != ctx {
			t.Errorf("%s: POSTs %v, want one with context %q", to, sent, ctx)
		}
	}
}
