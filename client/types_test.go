package client

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

const fullCall = `{
  "id": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
  "status": "completed",
  "to": "+14155550123",
  "objective": "Book a table for 4 at 7 PM Friday.",
  "summary": "Confirmed.",
  "extracted": {"booked": true, "confirmed_time": "7 PM Friday", "amount": 249, "missing": null},
  "transcript": "...",
  "recordingUrl": "https://api.byourside.ai/v1/agent/calls/f47ac10b/recording",
  "startedAt": "2026-06-17T14:03:12.000Z",
  "endedAt": "2026-06-17T14:05:48.000Z",
  "durationSec": 156,
  "error": null,
  "sentiment": "positive",
  "newObj": {"a": [1, 2.50, "x"], "b": {"c": null}},
  "bigInt": 12345678901234567890
}`

func TestCallRoundTripKeepsUnknownFields(t *testing.T) {
	var c Call
	if err := json.Unmarshal([]byte(fullCall), &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "f47ac10b-58cc-4372-a567-0e02b2c3d479" || c.Status != "completed" || *c.DurationSec != 156 ||
		c.Error != nil || *c.RecordingURL == "" || c.Extracted["amount"] != float64(249) || !c.Terminal() {
		t.Errorf("typed fields = %+v", c)
	}

	got, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(fullCall)) {
		t.Errorf("MarshalJSON changed the record:\n%s", got)
	}

	// Through json.Marshal (value and pointer) the record is only compacted.
	var want bytes.Buffer
	json.Compact(&want, []byte(fullCall))
	for _, v := range []any{c, &c, []*Call{&c}} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, want.Bytes()) {
			t.Errorf("json.Marshal(%T) = %s", v, b)
		}
	}

	m, err := c.Fields()
	if err != nil {
		t.Fatal(err)
	}
	if m["sentiment"] != "positive" || m["newObj"].(map[string]any)["b"] == nil || m["durationSec"] != float64(156) {
		t.Errorf("Fields() = %v", m)
	}
	if _, ok := m["error"]; !ok {
		t.Error("Fields() dropped a null field")
	}

	// The decoded Raw must not alias the input.
	in := []byte(`{"id":"a"}`)
	var c2 Call
	json.Unmarshal(in, &c2)
	in[2] = 'X'
	if string(c2.Raw) != `{"id":"a"}` {
		t.Errorf("Raw aliases the input: %s", c2.Raw)
	}
}

func TestCallMarshalWithoutRaw(t *testing.T) {
	s := "done"
	c := Call{ID: "c1", Status: "queued", Summary: &s}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"c1","status":"queued","to":"","objective":"","summary":"done","transcript":null,` +
		`"extracted":null,"recordingUrl":null,"startedAt":null,"endedAt":null,"durationSec":null,"error":null}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s\nwant %s", b, want)
	}
	m, err := c.Fields()
	if err != nil {
		t.Fatal(err)
	}
	if m["summary"] != "done" || m["error"] != nil || len(m) != 12 {
		t.Errorf("Fields() = %v", m)
	}
	var nilCall *Call
	if _, err := nilCall.Fields(); err == nil || nilCall.Terminal() {
		t.Error("nil Call")
	}
}

func TestCallUnmarshalNullAndErrors(t *testing.T) {
	c := Call{ID: "keep"}
	if err := json.Unmarshal([]byte("null"), &c); err != nil || c.ID != "keep" {
		t.Errorf("null: err %v, call %+v", err, c)
	}
	for _, in := range []string{`[]`, `"x"`, `{"id":1}`, `{"extracted":[]}`, `{"durationSec":"5"}`} {
		var c Call
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", in)
		}
	}
}

func TestIsTerminalStatus(t *testing.T) {
	for s, want := range map[string]bool{
		"queued": false, "dialing": false, "in_progress": false, "": false, "COMPLETED": false,
		"completed": true, "no_answer": true, "voicemail": true, "declined": true, "failed": true,
	} {
		if got := IsTerminalStatus(s); got != want {
			t.Errorf("IsTerminalStatus(%q) = %v", s, got)
		}
	}
}

func TestPlaceCallRequestJSON(t *testing.T) {
	b, _ := json.Marshal(PlaceCallRequest{To: "+1", Objective: "o", Fields: []Field{{Name: "n"}}})
	if want := `{"to":"+1","objective":"o","fields":[{"name":"n"}]}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var r PlaceCallResponse
	json.Unmarshal([]byte(`{"callId":"c","status":"queued"}`), &r)
	if !reflect.DeepEqual(r, PlaceCallResponse{CallID: "c", Status: "queued"}) {
		t.Errorf("got %+v", r)
	}
}

func FuzzDecodeCall(f *testing.F) {
	f.Add([]byte(fullCall))
	f.Add([]byte(`{"calls":[` + fullCall + `,{"id":"2"}]}`))
	f.Add([]byte(`{"id":"x","status":"queued","summary":null,"extracted":{}}`))
	f.Add([]byte(`{"id":"<&>\u2028","extracted":{"a":{"b":[true,false,null]}}}`))
	f.Add([]byte(`{"calls":[null]}`))
	f.Add([]byte(`{"id":"dup","id":"dup2"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`[]`))
	f.Add([]byte("{\"id\":\"\xff\"}"))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Call
		if err := json.Unmarshal(data, &c); err == nil {
			b1, err := json.Marshal(c)
			if err != nil {
				t.Fatalf("Marshal after Unmarshal(%q): %v", data, err)
			}
			var c2 Call
			if err := json.Unmarshal(b1, &c2); err != nil {
				t.Fatalf("Unmarshal(%q) of our own output: %v", b1, err)
			}
			b2, err := json.Marshal(c2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Fatalf("round trip not stable:\n%q\n%q", b1, b2)
			}
			if _, err := c.Fields(); err != nil {
				t.Fatalf("Fields() of %q: %v", data, err)
			}
			c.Terminal()
		}

		var list struct {
			Calls *[]*Call `json:"calls"`
		}
		if err := json.Unmarshal(data, &list); err == nil && list.Calls != nil {
			if _, err := json.Marshal(list.Calls); err != nil {
				t.Fatalf("Marshal list of %q: %v", data, err)
			}
		}
		errorToken(data)
		isJSONObject(data)
	})
}
