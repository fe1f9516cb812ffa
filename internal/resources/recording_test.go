package resources_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/resources"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/sirupsen/logrus"
)

// ended places a call for key and waits until it has ended.
func (f *fixture) ended(t *testing.T, key, to string) string {
	t.Helper()
	id := f.place(t, key, to, "Ask about the opening hours.")
	if !eventually(5*time.Second, func() bool {
		call, err := f.api.WithAPIKey(key).GetCall(context.Background(), id)
		return err == nil && client.IsTerminalStatus(call.Status)
	}) {
		t.Fatal("the call did not end")
	}
	return id
}

func TestReadRecording(t *testing.T) {
	f := newFixture(t)
	completed, voicemail := f.ended(t, keyA, numCompletes), f.ended(t, keyA, "+14155550002")
	for _, era := range testkit.Eras {
		t.Run(era.Name, func(t *testing.T) {
			c := f.connect(t, keyA, era.Opts)
			for id, want := range map[string][]byte{completed: sandbox.Recording(completed, false), voicemail: sandbox.Recording(voicemail, true)} {
				uri := resources.Prefix + id + "/recording"
				res, err := c.read(uri)
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Contents) != 1 {
					t.Fatalf("%d contents", len(res.Contents))
				}
				blob, ok := mcp.AsBlobResourceContents(res.Contents[0])
				if !ok || blob.URI != uri || blob.MIMEType != sandbox.RecordingContentType {
					t.Fatalf("contents = %#v, want an %s blob", res.Contents[0], sandbox.RecordingContentType)
				}
				got, err := base64.StdEncoding.DecodeString(blob.Blob)
				if err != nil || string(got) != string(want) {
					t.Errorf("blob: %d bytes (%v), want the call's %d-byte recording", len(got), err, len(want))
				}
			}
		})
	}
}

func TestReadRecordingNotThere(t *testing.T) {
	f := newFixture(t)
	completed := f.ended(t, keyA, numCompletes)
	noAnswer := f.place(t, keyA, "+14155550001", "Nobody picks up.")
	running := f.place(t, keyA, numForever, "A call that never ends.")
	c := f.connect(t, keyA, modernEra)
	for _, tc := range []struct {
		name, uri string
		want      []string
	}{
		{"a running call", resources.Prefix + running + "/recording", []string{"no recording yet", "wait_for_call"}},
		{"an unknown call", resources.Prefix + "call_doesnotexist/recording", []string{"no call call_doesnotexist"}},
		{"not a recording URI", resources.Prefix + completed + "/recording/x", []string{"not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.read(tc.uri)
			if err == nil {
				t.Fatalf("reading %s succeeded", tc.uri)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// At TimeScale 20 the unanswered call ends within about a second.
	if !eventually(5*time.Second, func() bool {
		call, err := f.api.GetCall(context.Background(), noAnswer)
		return err == nil && call.Terminal()
	}) {
		t.Fatal("the unanswered call did not end")
	}
	if _, err := c.read(resources.Prefix + noAnswer + "/recording"); err == nil || !strings.Contains(err.Error(), "ended no_answer and has no recording") {
		t.Errorf("an unanswered call: %v", err)
	}
	// Another key learns nothing about key A's call.
	other := f.connect(t, keyB, modernEra)
	if _, err := other.read(resources.Prefix + completed + "/recording"); err == nil || !strings.Contains(err.Error(), "no call "+completed) {
		t.Errorf("key B reading key A's recording: %v, want not found", err)
	}
}

func TestRecordingSubscriptionAndCompletion(t *testing.T) {
	f := newFixtureScale(t, 2)
	id := f.place(t, keyA, numForever, "A call that never ends.")
	uri := resources.Prefix + id + "/recording"
	c := f.connect(t, keyA, legacyEra)
	c.subscribe(uri)
	countIs(t, f, 1, 1)
	if !eventually(5*time.Second, func() bool { return c.updates(uri) >= 1 }) {
		t.Errorf("no update for the recording URI as the call moved")
	}
	c.unsubscribe(uri)
	countIs(t, f, 0, 0)
	if got := c.complete(mcp.ResourceReference{Type: "ref/resource", URI: resources.RecordingTemplate}, "callId", ""); len(got) != 1 || got[0] != id {
		t.Errorf("callId completions for the recording template = %v, want [%s]", got, id)
	}
}

func TestParseRecordingURI(t *testing.T) {
	for uri, want := range map[string]string{
		"bys://calls/abc/recording":    "abc",
		"bys://calls//recording":       "",
		"bys://calls/a/b/recording":    "",
		"bys://calls/abc":              "",
		"bys://calls/abc/recording/x":  "",
		"bys://calls/a?x=1/recording":  "",
		"https://calls/abc/recording":  "",
		"bys://calls/abc/transcript":   "",
		"bys://calls/abc/recordingxyz": "",
	} {
		id, ok := resources.ParseRecordingURI(uri)
		if id != want || ok != (want != "") {
			t.Errorf("ParseRecordingURI(%q) = %q, %v; want %q", uri, id, ok, want)
		}
	}
}

// fakeAPI answers GET /v1/agent/calls/big with a record whose recordingUrl
// is given, and serves a 26 MiB recording (announced by its length, never
// sent) at /big.wav; requests to any other host are counted.
type fakeAPI struct {
	recordingURL string
	elsewhere    atomic.Int64
}

func (a *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	switch {
	case r.URL.Host != "api.test":
		a.elsewhere.Add(1)
		rec.WriteHeader(200)
	case r.URL.Path == "/v1/agent/calls/big":
		fmt.Fprintf(rec, `{"id":"big","status":"completed","recordingUrl":%q}`, a.recordingURL)
	case r.URL.Path == "/big.wav":
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"audio/mpeg"}}, ContentLength: 26 << 20, Body: io.NopCloser(strings.NewReader("")), Request: r}
		return resp, nil
	default:
		rec.WriteHeader(404)
		io.WriteString(rec, `{"error":"not_found"}`)
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func fakeResources(t *testing.T, api *fakeAPI, links bool) *conn {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: "https://api.test", APIKey: keyA, HTTPClient: &http.Client{Transport: api}})
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	res := resources.New(resources.Deps{Client: c, ServerKey: keyA, Log: log, Poll: func(time.Duration) time.Duration { return time.Second }, RecordingLinks: links})
	hooks := &server.Hooks{}
	srv := server.NewMCPServer("recording-test", "1", append(resources.ServerOptions(), server.WithHooks(hooks))...)
	res.Register(srv, hooks)
	return (&fixture{srv: srv}).connect(t, "", modernEra)
}

func TestRecordingTooLargeSaysWhereToListen(t *testing.T) {
	for _, links := range []bool{true, false} {
		api := &fakeAPI{recordingURL: "https://api.test/big.wav"}
		c := fakeResources(t, api, links)
		_, err := c.read(resources.Prefix + "big/recording")
		if err == nil || !strings.Contains(err.Error(), "larger than 25 MiB") || !strings.Contains(err.Error(), "recordingLink") {
			t.Errorf("links %v: a 26 MiB recording: %v, want an error saying it is over 25 MiB and pointing to recordingLink", links, err)
		}
		if !links && !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("without links: %v does not say --public-url gives one", err)
		}
	}
}

func TestRecordingOnAnotherOriginIsNotFetched(t *testing.T) {
	api := &fakeAPI{recordingURL: "https://storage.elsewhere.test/big.wav"}
	c := fakeResources(t, api, false)
	_, err := c.read(resources.Prefix + "big/recording")
	if err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("a recordingUrl on another origin: %v", err)
	}
	if n := api.elsewhere.Load(); n != 0 {
		t.Errorf("%d requests went to another origin", n)
	}
}
