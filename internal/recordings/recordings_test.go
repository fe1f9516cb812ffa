package recordings_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/recordings"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
)

const (
	keyA      = "bys_ak_recordings_alpha"
	keyB      = "bys_ak_recordings_bravo"
	publicURL = "https://calls.example.com"
)

// inProcess serves API requests with the sandbox, without a socket.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

type fixture struct {
	clock *clock.Manual
	sb    *sandbox.Sandbox
	api   *client.Client
	store *state.Memory
	svc   *recordings.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 6, 17, 14, 0, 0, 0, time.UTC))
	sb := sandbox.New(sandbox.Options{Clock: clk})
	t.Cleanup(sb.Close)
	api, err := client.New(client.Options{BaseURL: "http://sandbox.invalid", HTTPClient: &http.Client{Transport: inProcess{sb}}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	store := state.NewMemoryWithClock(clk)
	f := &fixture{clock: clk, sb: sb, api: api, store: store}
	f.svc = f.service(t, store)
	return f
}

func (f *fixture) service(t *testing.T, store recordings.Store) *recordings.Service {
	t.Helper()
	svc, err := recordings.New(recordings.Options{PublicURL: publicURL, Client: f.api, Store: store, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// ended places a call to `to` with key and moves the clock past its end.
func (f *fixture) ended(t *testing.T, key, to string) *client.Call {
	t.Helper()
	c := f.api.WithAPIKey(key)
	placed, err := c.PlaceCall(context.Background(), &client.PlaceCallRequest{To: to, Objective: "Ask about the opening hours."})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	call, err := c.GetCall(context.Background(), placed.CallID)
	if err != nil || !call.Terminal() {
		t.Fatalf("the call has not ended: %v %v", call, err)
	}
	return call
}

func (f *fixture) link(t *testing.T, key string, call *client.Call) string {
	t.Helper()
	link, err := f.svc.Link(context.Background(), key, call)
	if err != nil || link == "" {
		t.Fatalf("Link = %q, %v", link, err)
	}
	return link
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// open requests a link's path from h as a browser would, with no
// credentials.
func open(t *testing.T, h http.Handler, method, link string, header map[string]string) answer {
	t.Helper()
	req := httptest.NewRequest(method, strings.TrimPrefix(link, publicURL), nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{rec.Code, rec.Header(), rec.Body.Bytes()}
}

func TestLinkStreamsTheRecording(t *testing.T) {
	f := newFixture(t)
	call := f.ended(t, keyA, "+14155550123")
	link := f.link(t, keyA, call)
	token, ok := strings.CutPrefix(link, publicURL+recordings.PathPrefix)
	if !ok || len(token) != 43 || strings.ContainsAny(token, "/+=") {
		t.Fatalf("link %s is not {public-url}/recordings/{43-character token}", link)
	}
	for _, secret := range []string{keyA, strings.TrimPrefix(keyA, "bys_ak_"), safety.KeyFingerprint(keyA), call.ID} {
		if strings.Contains(link, secret) {
			t.Errorf("the link shows %q", secret)
		}
	}
	if other := f.link(t, keyA, call); other == link {
		t.Error("two links to one recording are the same")
	}

	want := sandbox.Recording(call.ID, false)
	a := open(t, f.svc, "GET", link, nil)
	if a.status != 200 || !bytes.Equal(a.body, want) {
		t.Fatalf("GET: %d, %d bytes: %s", a.status, len(a.body), a.body[:min(len(a.body), 200)])
	}
	for k, v := range map[string]string{
		"Content-Type":            sandbox.RecordingContentType,
		"Content-Length":          fmt.Sprint(len(want)),
		"Accept-Ranges":           "bytes",
		"Content-Disposition":     `inline; filename=call-` + call.ID + `.wav`,
		"Cache-Control":           "private, no-store",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	} {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}

	a = open(t, f.svc, "GET", link, map[string]string{"Range": "bytes=44-"})
	if a.status != 206 || a.header.Get("Content-Range") != fmt.Sprintf("bytes 44-%d/%d", len(want)-1, len(want)) || !bytes.Equal(a.body, want[44:]) {
		t.Fatalf("Range: %d %q, %d bytes", a.status, a.header.Get("Content-Range"), len(a.body))
	}
	if a = open(t, f.svc, "GET", link, map[string]string{"Range": "bytes=0-9", "If-Range": a.header.Get("ETag")}); a.status != 206 || len(a.body) != 10 {
		t.Fatalf("If-Range with the ETag: %d, %d bytes", a.status, len(a.body))
	}
	if a = open(t, f.svc, "GET", link, map[string]string{"Range": "bytes=99999999-"}); a.status != 416 || len(a.body) != 0 {
		t.Fatalf("a range past the end: %d", a.status)
	}
	if a = open(t, f.svc, "HEAD", link, nil); a.status != 200 || len(a.body) != 0 || a.header.Get("Content-Length") != fmt.Sprint(len(want)) {
		t.Fatalf("HEAD: %d, %d bytes, length %q", a.status, len(a.body), a.header.Get("Content-Length"))
	}
	if a = open(t, f.svc, "POST", link, nil); a.status != 405 || a.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d Allow %q", a.status, a.header.Get("Allow"))
	}

	// A voicemail's recording too; a restarted server (another Service on
	// the same store) still serves the link.
	vm := f.ended(t, keyA, "+14155550002")
	vmLink := f.link(t, keyA, vm)
	if a := open(t, f.service(t, f.store), "GET", vmLink, nil); a.status != 200 || !bytes.Equal(a.body, sandbox.Recording(vm.ID, true)) {
		t.Fatalf("voicemail through a restarted service: %d, %d bytes", a.status, len(a.body))
	}
}

func TestNoLinkWithoutARecording(t *testing.T) {
	f := newFixture(t)
	c := f.api.WithAPIKey(keyA)
	placed, err := c.PlaceCall(context.Background(), &client.PlaceCallRequest{To: "+14155550123", Objective: "Ask."})
	if err != nil {
		t.Fatal(err)
	}
	running, _ := c.GetCall(context.Background(), placed.CallID)
	noAnswer := f.ended(t, keyA, "+14155550001")
	for name, call := range map[string]*client.Call{"running": running, "no answer": noAnswer, "nil": nil} {
		if link, err := f.svc.Link(context.Background(), keyA, call); link != "" || err != nil {
			t.Errorf("%s: Link = %q, %v; want none", name, link, err)
		}
	}
	if link, err := f.svc.Link(context.Background(), "", f.ended(t, keyA, "+14155550123")); link != "" || err != nil {
		t.Errorf("no key: Link = %q, %v; want none", link, err)
	}
}

func TestLinkExpires(t *testing.T) {
	f := newFixture(t)
	call := f.ended(t, keyA, "+14155550123")
	link := f.link(t, keyA, call)
	f.clock.Advance(recordings.DefaultTTL - time.Second)
	if a := open(t, f.svc, "GET", link, nil); a.status != 200 {
		t.Fatalf("a second before the hour: %d", a.status)
	}
	f.clock.Advance(time.Second)
	a := open(t, f.svc, "GET", link, nil)
	if a.status != http.StatusGone || !strings.Contains(string(a.body), "expired") || !strings.Contains(string(a.body), "1 hour") || a.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("after the hour: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	// Long after, the link is forgotten.
	f.clock.Advance(48 * time.Hour)
	if a := open(t, f.svc, "GET", link, nil); a.status != http.StatusNotFound {
		t.Fatalf("two days later: %d %s", a.status, a.body)
	}
}

func TestForgedLinks(t *testing.T) {
	f := newFixture(t)
	call := f.ended(t, keyA, "+14155550123")
	link := f.link(t, keyA, call)
	token := strings.TrimPrefix(link, publicURL+recordings.PathPrefix)
	flip := []byte(token)
	flip[10] ^= 1
	for name, path := range map[string]string{
		"another token":     publicURL + recordings.PathPrefix + strings.Repeat("A", 43),
		"one character off": publicURL + recordings.PathPrefix + string(flip),
		"too short":         publicURL + recordings.PathPrefix + token[:42],
		"not base64url":     publicURL + recordings.PathPrefix + token[:42] + "*",
		"a path below":      link + "/" + call.ID,
		"no token":          publicURL + recordings.PathPrefix,
		"the call id":       publicURL + recordings.PathPrefix + call.ID,
	} {
		a := open(t, f.svc, "GET", path, nil)
		if a.status != http.StatusNotFound || !strings.Contains(string(a.body), "No such recording link") {
			t.Errorf("%s: %d %s, want 404", name, a.status, a.body)
		}
	}
	// A store with another secret (another deployment) cannot open the key.
	other := state.NewMemoryWithClock(f.clock)
	raw, _, _ := f.store.GetRecord(context.Background(), "recording-link", hashOf(token))
	if err := other.PutRecord(context.Background(), "recording-link", hashOf(token), raw, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	if a := open(t, f.service(t, other), "GET", link, nil); a.status != http.StatusNotFound {
		t.Errorf("a copied record under another secret: %d, want 404", a.status)
	}
}

// A link serves its own call with its own key and nothing else: key A's
// and key B's links each give their own call's recording, and a link made
// with key A for a record of key B's (a key that cannot read that call)
// gives nothing.
func TestLinkBoundToItsCallAndKey(t *testing.T) {
	f := newFixture(t)
	callA, callB := f.ended(t, keyA, "+14155550123"), f.ended(t, keyB, "+14155550123")
	linkA, linkB := f.link(t, keyA, callA), f.link(t, keyB, callB)
	if a := open(t, f.svc, "GET", linkA, nil); a.status != 200 || !bytes.Equal(a.body, sandbox.Recording(callA.ID, false)) {
		t.Errorf("key A's link: %d, not call A's recording", a.status)
	}
	if a := open(t, f.svc, "GET", linkB, nil); a.status != 200 || !bytes.Equal(a.body, sandbox.Recording(callB.ID, false)) {
		t.Errorf("key B's link: %d, not call B's recording", a.status)
	}
	crossed := f.link(t, keyA, callB)
	if a := open(t, f.svc, "GET", crossed, nil); a.status != http.StatusGone || bytes.Contains(a.body, []byte("RIFF")) {
		t.Errorf("key A's link to key B's call: %d %q, want 410 and no audio", a.status, a.body)
	}
}

// failingStore cannot be reached.
type failingStore struct{ recordings.Store }

func (failingStore) GetRecord(context.Context, string, string) ([]byte, bool, error) {
	return nil, false, errors.New("redis: connection refused")
}

func TestStoreDown(t *testing.T) {
	f := newFixture(t)
	link := f.link(t, keyA, f.ended(t, keyA, "+14155550123"))
	a := open(t, f.service(t, failingStore{f.store}), "GET", link, nil)
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || strings.Contains(string(a.body), "redis") {
		t.Errorf("store down: %d %s", a.status, a.body)
	}
}

func hashOf(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
