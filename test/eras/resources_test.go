package eras_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

func readResource(c *mcpclient.Client, uri string) (*mcp.ReadResourceResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := mcp.ReadResourceRequest{}
	req.Params.URI = uri
	return c.ReadResource(ctx, req)
}

func onlyText(t *testing.T, res *mcp.ReadResourceResult) *mcp.TextResourceContents {
	t.Helper()
	if len(res.Contents) != 1 {
		t.Fatalf("got %d contents, want 1", len(res.Contents))
	}
	tc, ok := mcp.AsTextResourceContents(res.Contents[0])
	if !ok {
		t.Fatalf("contents are not text: %#v", res.Contents[0])
	}
	return tc
}

// resources/read of a call and its transcript, in both eras on both
// transports: the record is get_call's, the transcript text masks the
// destination.
func TestResourceReadsInBothEras(t *testing.T) {
	forEach(t, func(t *testing.T, tr string, e era) {
		s := newServer(t, tr, nil)
		c := connect(t, s, e, connectOpts{})
		id := c.place(numCompletes, "Ask for the opening hours.")
		wantOK(t, c.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": 15}))
		rec := wantOK(t, c.call("get_call", map[string]any{"callId": id}))

		uri := "bys://calls/" + id
		res, err := readResource(c.Client, uri)
		if err != nil {
			t.Fatalf("resources/read %s: %v", uri, err)
		}
		body := onlyText(t, res)
		if body.MIMEType != "application/json" || body.URI != uri {
			t.Errorf("record contents: uri %q mimeType %q", body.URI, body.MIMEType)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(body.Text), &got); err != nil {
			t.Fatalf("record is not JSON: %v: %s", err, body.Text)
		}
		if !reflect.DeepEqual(got, rec) {
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(rec)
			t.Errorf("resource record differs from get_call:\nresource: %s\nget_call: %s", a, b)
		}

		res, err = readResource(c.Client, uri+"/transcript")
		if err != nil {
			t.Fatalf("resources/read transcript: %v", err)
		}
		tx := onlyText(t, res)
		if tx.MIMEType != "text/plain" {
			t.Errorf("transcript mimeType %q, want text/plain", tx.MIMEType)
		}
		if strings.Contains(tx.Text, numCompletes) || !strings.Contains(tx.Text, "0123") || !strings.Contains(tx.Text, "*") {
			t.Errorf("transcript header does not mask the destination: %q", tx.Text)
		}
		if !strings.Contains(tx.Text, "completed") || !strings.Contains(tx.Text, id) {
			t.Errorf("transcript header lacks id or status: %q", tx.Text)
		}
		if tr, _ := rec["transcript"].(string); tr != "" && !strings.Contains(tx.Text, tr) {
			t.Errorf("transcript text lacks the record's transcript")
		}

		if _, err := readResource(c.Client, "bys://calls/call_doesnotexist0000"); err == nil {
			t.Errorf("reading an unknown call succeeded")
		}
		// An unknown call is "resource not found" (-32002), not an internal
		// error, for the record and the transcript alike.
		for _, u := range []string{"bys://calls/call_doesnotexist0000", "bys://calls/call_doesnotexist0000/transcript"} {
			resp := c.raw("resources/read", map[string]any{"uri": u}, nil)
			if resp.Error == nil || resp.Error.Code != -32002 || !strings.Contains(resp.Error.Message, "call_doesnotexist0000") {
				t.Errorf("resources/read %s: error %+v, want -32002 naming the call", u, resp.Error)
			}
		}
	})
}

// Resource updates: resources/subscribe (2025-11-25) and
// subscriptions/listen (2026-07-28) deliver notifications/resources/updated
// when the call's status changes, and the watch ends with the call.
func TestResourceUpdatesInBothEras(t *testing.T) {
	forEach(t, func(t *testing.T, tr string, e era) {
		s := newServer(t, tr, nil)
		// A legacy HTTP client hears session notifications on its GET stream.
		c := connect(t, s, e, connectOpts{listen: e.legacy && tr == "http"})
		// The slow number changes status three times over about 2 s.
		id := c.place(numSlow, "Watch me change.")
		uri := "bys://calls/" + id
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if e.legacy {
			req := mcp.SubscribeRequest{}
			req.Params.URI = uri
			if err := c.Subscribe(ctx, req); err != nil {
				t.Fatalf("resources/subscribe: %v", err)
			}
		} else {
			stop, err := c.ListenAsync(ctx, mcp.SubscriptionFilter{ResourceSubscriptions: []string{uri}}, func(err error) { t.Logf("listen: %v", err) })
			if err != nil {
				t.Fatalf("subscriptions/listen: %v", err)
			}
			defer stop()
		}
		updated := func() int { return c.notes.Updates(uri) }
		if !eventually(10*time.Second, func() bool { return updated() >= 2 }) {
			t.Fatalf("got %d notifications/resources/updated for %s, want one per status change", updated(), uri)
		}
		// The watch ends with the call; only the subscribed URI was notified.
		wantOK(t, c.call("wait_for_call", map[string]any{"callId": id, "timeoutSec": 15}))
		// The update for the terminal status may reach the client just
		// after wait_for_call's answer (both come from one follower): let
		// it arrive, so that it is not left queued in mcp-go's stdio
		// session, which the next stdio server of this process inherits.
		eventually(5*time.Second, func() bool { return updated() >= 3 })
		for _, note := range c.notes.Of(string(mcp.MethodNotificationResourceUpdated)) {
			got, _ := note.Params.AdditionalFields["uri"].(string)
			// Another call's URI can only be a previous in-process stdio
			// server's last update (mcp-go's stdio session is one
			// package-level value): this server knows no other call.
			if got != uri && (strings.HasPrefix(got, uri) || !strings.HasPrefix(got, "bys://calls/")) {
				t.Errorf("notification for a URI not subscribed to: %v", note.Params.AdditionalFields)
			}
		}
	})
}
