package tools_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/tools"
)

// With --public-url, the results of an ended call with a recording carry
// recordingLink (valid against the output schemas); a running call's and an
// unanswered call's do not.
func TestResultsCarryARecordingLink(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.Transport, c.PublicURL = "http", "https://calls.example.com" })
	c := connect(t, a)
	// An agent-given webhookUrl, so that the calls are polled (the sandbox
	// does not deliver to the public URL's host, which is not loopback).
	hook := map[string]any{"webhookUrl": "https://hooks.example.com/bys"}
	id := wantOK(t, c.call("place_call", placeArgs(hook)))["callId"].(string)
	if rec := wantOK(t, c.call("get_call", map[string]any{"callId": id})); rec["recordingLink"] != nil {
		t.Errorf("a running call has a recordingLink: %v", rec)
	}
	waited := c.waitEnded(id)
	link, _ := waited["recordingLink"].(string)
	if !strings.HasPrefix(link, "https://calls.example.com/recordings/") {
		t.Fatalf("wait_for_call: recordingLink %q", link)
	}
	res := c.call("get_call", map[string]any{"callId": id})
	rec := wantOK(t, res)
	if l, _ := rec["recordingLink"].(string); !strings.HasPrefix(l, "https://calls.example.com/recordings/") {
		t.Fatalf("get_call: recordingLink %q", l)
	}
	if rec["recordingUrl"] == nil || rec["summary"] == nil || rec["id"] != id {
		t.Errorf("get_call lost fields of the record when adding the link: %v", rec)
	}
	if !strings.Contains(testkit.TextOf(res), rec["recordingLink"].(string)) {
		t.Errorf("the text does not give the link: %s", testkit.TextOf(res))
	}
	unanswered := wantOK(t, c.call("place_call", placeArgs(map[string]any{"to": "+14155550001", "webhookUrl": "https://hooks.example.com/bys"})))["callId"].(string)
	if rec := c.waitEnded(unanswered); rec["recordingLink"] != nil {
		t.Errorf("an unanswered call has a recordingLink: %v", rec)
	}
}

type brokenLinks struct{}

func (brokenLinks) Link(context.Context, string, *client.Call) (string, error) {
	return "", errors.New("state store unavailable")
}

// A link that cannot be made leaves the result as it was.
func TestResultWithoutALinkWhenNoneCanBeMade(t *testing.T) {
	d, _ := directDeps(t)
	d.RecordingLinks = brokenLinks{}
	_, place := tools.PlaceCall(d)
	id := structured(t, callDirect(t, context.Background(), place, placeArgs(nil)))["callId"].(string)
	_, wait := tools.WaitForCall(d)
	res := callDirect(t, context.Background(), wait, map[string]any{"callId": id, "timeoutSec": 10})
	rec := structured(t, res)
	if res.IsError || rec["status"] != "completed" {
		t.Fatalf("wait_for_call: %v", rec)
	}
	if _, has := rec["recordingLink"]; has || strings.Contains(testkit.TextOf(res), "listen") {
		t.Errorf("a link that could not be made shows: %v", rec)
	}
}
