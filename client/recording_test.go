package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wav is a tiny WAV file (header and 8 samples) for the recording tests.
var wav = append([]byte("RIFF\x34\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x10\x00\x00\x00"), make([]byte, 16)...)

// serveRecordings mounts a call record (whose recordingUrl is on the
// client's base URL) and its recording, served by ServeContent, on mux.
func serveRecordings(t *testing.T, c *Client, mux *http.ServeMux, body []byte, contentType string) {
	t.Helper()
	mux.HandleFunc("GET /v1/agent/calls/c1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":"c1","status":"completed","recordingUrl":%q}`, c.BaseURL()+"/v1/agent/calls/c1/recording")
	})
	mux.HandleFunc("GET /v1/agent/calls/running", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"id":"running","status":"in_progress","recordingUrl":null}`)
	})
	mux.HandleFunc("GET /v1/agent/calls/c1/recording", func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "Bearer "+testKey)
		testHeader(t, r, "User-Agent", "bys-mcp/"+Version)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

func readAll(t *testing.T, rec *Recording) []byte {
	t.Helper()
	defer rec.Body.Close()
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatalf("reading the recording: %v", err)
	}
	return b
}

func TestGetRecording(t *testing.T) {
	c, mux := setup(t, Options{})
	serveRecordings(t, c, mux, wav, "audio/wav")
	rec, err := c.GetRecording(context.Background(), "c1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.StatusCode != 200 || rec.ContentType != "audio/wav" || rec.Size != int64(len(wav)) || rec.ContentLength != int64(len(wav)) {
		t.Errorf("recording = %d %q size %d length %d", rec.StatusCode, rec.ContentType, rec.Size, rec.ContentLength)
	}
	if rec.Header.Get("Accept-Ranges") != "bytes" || rec.Header.Get("ETag") != `"v1"` {
		t.Errorf("headers passed on: %v", rec.Header)
	}
	if got := readAll(t, rec); !bytes.Equal(got, wav) {
		t.Errorf("body = %d bytes, want the %d-byte file", len(got), len(wav))
	}

	_, err = c.GetRecording(context.Background(), "running", nil)
	var nr *NoRecordingError
	if !errors.As(err, &nr) || nr.CallID != "running" || nr.Status != "in_progress" {
		t.Errorf("a call without a recording: %v, want a *NoRecordingError naming it and its status", err)
	}
	if _, err := c.GetRecording(context.Background(), "unknown", nil); !IsNotFound(err) {
		t.Errorf("an unknown call: %v, want not found", err)
	}
}

func TestRecordingRangePassthrough(t *testing.T) {
	c, mux := setup(t, Options{})
	serveRecordings(t, c, mux, wav, "audio/wav")
	url := c.BaseURL() + "/v1/agent/calls/c1/recording"
	rec, err := c.Recording(context.Background(), url, &RecordingOptions{Range: "bytes=4-11"})
	if err != nil {
		t.Fatal(err)
	}
	if rec.StatusCode != 206 || rec.Header.Get("Content-Range") != fmt.Sprintf("bytes 4-11/%d", len(wav)) || rec.Size != int64(len(wav)) || rec.ContentLength != 8 {
		t.Errorf("range: %d %q size %d length %d", rec.StatusCode, rec.Header.Get("Content-Range"), rec.Size, rec.ContentLength)
	}
	if got := readAll(t, rec); !bytes.Equal(got, wav[4:12]) {
		t.Errorf("range body %q, want %q", got, wav[4:12])
	}
	rec, err = c.Recording(context.Background(), url, &RecordingOptions{Range: "bytes=0-3", IfRange: `"v0"`})
	if err != nil || rec.StatusCode != 200 {
		t.Fatalf("If-Range with a stale ETag: %v, %+v; want the whole file", err, rec)
	}
	rec.Body.Close()
	rec, err = c.Recording(context.Background(), url, &RecordingOptions{Range: "bytes=1000-"})
	if err != nil || rec.StatusCode != 416 || rec.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(wav)) {
		t.Fatalf("range past the end: %v, %+v", err, rec)
	}
	if got := readAll(t, rec); len(got) != 0 {
		t.Errorf("416 body has %d bytes", len(got))
	}
}

// The key goes only to the API's own origin: a recordingUrl anywhere else
// is refused before anything is sent.
func TestRecordingOnlyOnTheAPIsOrigin(t *testing.T) {
	c, mux := setup(t, Options{})
	serveRecordings(t, c, mux, wav, "audio/wav")
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the key reached another origin: %s", r.URL)
		}
	}))
	t.Cleanup(other.Close)
	base := c.BaseURL()                             // http://127.0.0.1:port/prefix
	hostport := strings.TrimPrefix(base, "http://") // 127.0.0.1:port/prefix
	host := hostport[:strings.Index(hostport, ":")]
	for _, raw := range []string{
		other.URL + "/prefix/v1/agent/calls/c1/recording",
		"https://" + hostport + "/v1/agent/calls/c1/recording",
		"http://" + host + ":1/prefix/v1/agent/calls/c1/recording",
		"http://user:pw@" + hostport + "/v1/agent/calls/c1/recording",
		"/prefix/v1/agent/calls/c1/recording",
		"//" + strings.TrimPrefix(other.URL, "http://") + "/x",
		"http://localhost" + hostport[len(host):],
		"",
		"::not a url",
	} {
		rec, err := c.Recording(context.Background(), raw, nil)
		if !errors.Is(err, ErrForeignRecordingURL) {
			t.Errorf("Recording(%q) = %v, %v; want ErrForeignRecordingURL", raw, rec, err)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("the error shows the key: %v", err)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("%d requests reached another origin", n)
	}
	// Same origin, another path, the scheme in upper case: accepted.
	rec, err := c.Recording(context.Background(), "HTTP://"+strings.TrimSuffix(hostport, "/prefix")+"/prefix/v1/agent/calls/c1/recording", nil)
	if err != nil {
		t.Fatalf("same origin: %v", err)
	}
	rec.Body.Close()
}

func TestRecordingOriginDefaultPorts(t *testing.T) {
	var sent []string
	c, err := New(Options{BaseURL: "https://api.example", APIKey: testKey, HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = append(sent, r.URL.String())
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"audio/mpeg"}}, Body: io.NopCloser(strings.NewReader("ID3")), ContentLength: 3, Request: r}, nil
	})}})
	if err != nil {
		t.Fatal(err)
	}
	for raw, ok := range map[string]bool{
		"https://api.example:443/v1/agent/calls/x/recording": true,
		"https://API.example/r#frag":                         true,
		"https://api.example:8443/r":                         false,
		"http://api.example/r":                               false,
		"https://api.example.evil.test/r":                    false,
	} {
		rec, err := c.Recording(context.Background(), raw, nil)
		if ok != (err == nil) {
			t.Errorf("Recording(%q): %v, want accepted %v", raw, err, ok)
		}
		if err == nil {
			if rec.ContentType != "audio/mpeg" {
				t.Errorf("content type %q", rec.ContentType)
			}
			rec.Body.Close()
		}
	}
	for _, u := range sent {
		if strings.Contains(u, "#") || !strings.HasPrefix(u, "https://") {
			t.Errorf("sent to %s", u)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRecordingSizeCap(t *testing.T) {
	c, mux := setup(t, Options{})
	big := bytes.Repeat([]byte{1}, 100)
	mux.HandleFunc("GET /known", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(big))
	})
	mux.HandleFunc("GET /chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.(http.Flusher).Flush() // no Content-Length
		w.Write(big)
	})
	ctx := context.Background()
	// Known size: refused before the body is read.
	_, err := c.Recording(ctx, c.BaseURL()+"/known", &RecordingOptions{MaxBytes: 99})
	if !IsRecordingTooLarge(err) {
		t.Fatalf("100 bytes with a cap of 99: %v, want recording_too_large", err)
	}
	// A range of a file over the cap: the whole file counts.
	_, err = c.Recording(ctx, c.BaseURL()+"/known", &RecordingOptions{MaxBytes: 99, Range: "bytes=0-9"})
	if !IsRecordingTooLarge(err) {
		t.Fatalf("a range of a 100-byte file with a cap of 99: %v, want recording_too_large", err)
	}
	// Unknown size: reading stops with the error past the cap.
	rec, err := c.Recording(ctx, c.BaseURL()+"/chunked", &RecordingOptions{MaxBytes: 99})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rec.Body)
	rec.Body.Close()
	if !IsRecordingTooLarge(err) || len(got) != 99 {
		t.Fatalf("chunked 100 bytes with a cap of 99: read %d bytes, %v", len(got), err)
	}
	// At the cap exactly: fine, both ways.
	for _, path := range []string{"/known", "/chunked"} {
		rec, err := c.Recording(ctx, c.BaseURL()+path, &RecordingOptions{MaxBytes: 100})
		if err != nil {
			t.Fatalf("%s at the cap: %v", path, err)
		}
		if got := readAll(t, rec); len(got) != 100 {
			t.Errorf("%s at the cap: %d bytes", path, len(got))
		}
	}
	if MaxRecordingBytes != 25<<20 {
		t.Errorf("MaxRecordingBytes = %d, want 25 MiB", MaxRecordingBytes)
	}
}

func TestRecordingAnswers(t *testing.T) {
	c, mux := setup(t, Options{})
	mux.HandleFunc("GET /html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html>sign in</html>")
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /octets", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(wav)
	})
	mux.HandleFunc("GET /gone", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		io.WriteString(w, `{"error":"not_found"}`)
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://storage.example/x", http.StatusFound)
	})
	var observed []string
	c.observer = func(method, route string, status int, _ time.Duration) {
		observed = append(observed, fmt.Sprintf("%s %s %d", method, route, status))
	}
	ctx := context.Background()
	for _, path := range []string{"/html", "/json"} {
		var ae *APIError
		if _, err := c.Recording(ctx, c.BaseURL()+path, nil); !errors.As(err, &ae) || ae.Token != TokenUnexpectedResponse || ae.Route != RouteGetRecording {
			t.Errorf("%s: %v, want unexpected_response", path, err)
		}
	}
	rec, err := c.Recording(ctx, c.BaseURL()+"/octets", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ContentType != "audio/wave" {
		t.Errorf("octet-stream WAV: content type %q, want it sniffed (audio/wave)", rec.ContentType)
	}
	if got := readAll(t, rec); !bytes.Equal(got, wav) {
		t.Errorf("sniffed body: %d bytes, want %d", len(got), len(wav))
	}
	if _, err := c.Recording(ctx, c.BaseURL()+"/gone", nil); !IsNotFound(err) {
		t.Errorf("404: %v", err)
	}
	var ae *APIError
	if _, err := c.Recording(ctx, c.BaseURL()+"/redirect", nil); !errors.As(err, &ae) || ae.HTTPStatus != 302 {
		t.Errorf("a redirect is not followed: %v", err)
	}
	if len(observed) != 5 || observed[0] != "GET "+RouteGetRecording+" 200" || observed[3] != "GET "+RouteGetRecording+" 404" {
		t.Errorf("observed %v", observed)
	}
}

// The answer's headers must come within the timeout; the body may stream
// for longer, for as long as the caller's context lasts.
func TestRecordingTimeouts(t *testing.T) {
	c, mux := setup(t, Options{Timeout: 150 * time.Millisecond})
	mux.HandleFunc("GET /slow-headers", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	mux.HandleFunc("GET /slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(wav[:20])
		w.(http.Flusher).Flush()
		time.Sleep(400 * time.Millisecond)
		w.Write(wav[20:])
	})
	var te *TransportError
	if _, err := c.Recording(context.Background(), c.BaseURL()+"/slow-headers", nil); !errors.As(err, &te) || te.Token != TokenTimeout {
		t.Errorf("slow headers: %v, want a timeout", err)
	}
	rec, err := c.Recording(context.Background(), c.BaseURL()+"/slow-body", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, rec); !bytes.Equal(got, wav) {
		t.Errorf("a body slower than the timeout was cut: %d bytes", len(got))
	}
	ctx, cancel := context.WithCancel(context.Background())
	rec, err = c.Recording(ctx, c.BaseURL()+"/slow-body", nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.ReadAll(rec.Body); err == nil {
		t.Error("the body went on after the caller's context ended")
	}
	rec.Body.Close()
}
