package e2e_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Through the binary, over real HTTP: a server on the standalone sandbox
// (its recordingUrl is the sandbox's own origin, the server's --base-url)
// with --public-url and per-client keys. Key A's ended call has a
// recordingLink that streams the WAV with Range and no credentials, and
// its resource is the same audio; key B reads neither A's resource nor,
// through its own call's link, A's recording.
func TestRecordingsThroughTheBinary(t *testing.T) {
	t.Parallel()
	api := startStandaloneSandbox(t, "10")
	srv := startHTTP(t, "http", []string{"BYS_BASE_URL=" + api}, "--public-url", "http://{addr}", "--require-client-keys", "--calling-hours", "off")
	kind := transportKind{Name: "http", Transport: "http"}
	a := connect(t, kind, srv, "bys_ak_e2e_recordings_alpha")
	b := connect(t, kind, srv, "bys_ak_e2e_recordings_bravo")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	ended := func(c *client, to string) map[string]any {
		t.Helper()
		placed := c.callTool(t, ctx, "place_call", map[string]any{"to": to, "objective": "Ask for the opening hours"})
		mustOK(t, "place_call", placed)
		res := c.callTool(t, ctx, "wait_for_call", map[string]any{"callId": structured(t, placed)["callId"], "timeoutSec": 30})
		mustOK(t, "wait_for_call", res)
		rec := structured(t, res)
		if rec["timedOut"] != false {
			t.Fatalf("the call did not end: %v", rec)
		}
		return rec
	}
	recA, recB := ended(a, "+14155550123"), ended(b, "+14155550124")
	idA := recA["id"].(string)
	if url, _ := recA["recordingUrl"].(string); !strings.HasPrefix(url, api+"/v1/agent/calls/") {
		t.Fatalf("recordingUrl %q is not on the sandbox's origin %s", url, api)
	}
	linkA, _ := recA["recordingLink"].(string)
	linkB, _ := recB["recordingLink"].(string)
	if !strings.HasPrefix(linkA, srv.URL+"/recordings/") || !strings.HasPrefix(linkB, srv.URL+"/recordings/") {
		t.Fatalf("recordingLink %q and %q, want links on %s", linkA, linkB, srv.URL)
	}
	if strings.Contains(linkA, "bys_ak_") || strings.Contains(linkA, idA) {
		t.Errorf("the link shows a key or the call id: %s", linkA)
	}

	// The resource, for key A: the WAV itself.
	rr, err := a.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "bys://calls/" + idA + "/recording"})
	if err != nil {
		t.Fatalf("read the recording: %v", err)
	}
	wav := rr.Contents[0].Blob
	if rr.Contents[0].MIMEType != "audio/wav" || len(wav) < 44 || string(wav[:4]) != "RIFF" || string(wav[8:12]) != "WAVE" {
		t.Fatalf("recording resource: %q, %d bytes", rr.Contents[0].MIMEType, len(wav))
	}
	if rate := binary.LittleEndian.Uint32(wav[24:28]); rate != 8000 {
		t.Errorf("sample rate %d", rate)
	}
	if _, err := b.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "bys://calls/" + idA + "/recording"}); err == nil {
		t.Error("key B read key A's recording")
	}

	// The link, with no credentials at all: the same bytes, and a range.
	get := func(link, rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", link, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}
	res, body := get(linkA, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" || string(body) != string(wav) {
		t.Fatalf("GET the link: %d %q, %d bytes; want the resource's %d", res.StatusCode, res.Header.Get("Content-Type"), len(body), len(wav))
	}
	res, body = get(linkA, "bytes=8-11")
	if res.StatusCode != 206 || string(body) != "WAVE" || !strings.HasPrefix(res.Header.Get("Content-Range"), "bytes 8-11/") {
		t.Errorf("GET a range: %d %q %q", res.StatusCode, res.Header.Get("Content-Range"), body)
	}
	// B's link serves B's recording. (The sandbox picks one of 12 pitches
	// by call id, so two calls' recordings are the same bytes one time in
	// 12: compare with B's own.)
	rb, err := b.Session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "bys://calls/" + recB["id"].(string) + "/recording"})
	if err != nil {
		t.Fatalf("key B reads its recording: %v", err)
	}
	if _, body := get(linkB, ""); string(body) != string(rb.Contents[0].Blob) {
		t.Error("key B's link does not serve key B's recording")
	}
	if res, _ := get(srv.URL+"/recordings/"+strings.Repeat("x", 43), ""); res.StatusCode != 404 {
		t.Errorf("a made-up link: %d, want 404", res.StatusCode)
	}
	// /mcp needs a key on this server; the link did not.
	if res, err := http.Get(srv.URL + "/mcp"); err != nil || res.StatusCode != 401 {
		t.Errorf("/mcp without a key: %v %v, want 401", res, err)
	}
}
