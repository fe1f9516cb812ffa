package sandbox_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
)

// fetchRaw sends method to url with key and extra headers and returns the
// answer with its whole body.
func (e *env) fetchRaw(method, url, key string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res, body
}

// wavInfo reads the canonical 44-byte header of a PCM WAV file.
type wavInfo struct {
	format, channels, bits uint16
	rate, dataLen          uint32
}

func readWAV(t *testing.T, b []byte) wavInfo {
	t.Helper()
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" {
		t.Fatalf("not a canonical WAV header: % x", b[:min(len(b), 44)])
	}
	le := binary.LittleEndian
	if got := le.Uint32(b[4:8]); int(got) != len(b)-8 {
		t.Errorf("RIFF size %d, want %d", got, len(b)-8)
	}
	w := wavInfo{format: le.Uint16(b[20:22]), channels: le.Uint16(b[22:24]), rate: le.Uint32(b[24:28]), bits: le.Uint16(b[34:36]), dataLen: le.Uint32(b[40:44])}
	if int(w.dataLen) != len(b)-44 {
		t.Errorf("data size %d, want %d", w.dataLen, len(b)-44)
	}
	if br := le.Uint32(b[28:32]); br != w.rate*uint32(w.channels)*uint32(w.bits)/8 {
		t.Errorf("byte rate %d does not match the format", br)
	}
	return w
}

func TestRecordingIsAShortPCMWAVOfItsCall(t *testing.T) {
	a, b := sandbox.Recording("call-a", false), sandbox.Recording("call-b", false)
	w := readWAV(t, a)
	if w.format != 1 || w.channels != 1 || w.bits != 16 || w.rate != 8000 {
		t.Errorf("format %+v, want 16-bit mono PCM at 8 kHz", w)
	}
	if secs := float64(w.dataLen) / float64(w.rate*2); secs < 1 || secs > 2 {
		t.Errorf("%.2f s long, want 1 to 2 s", secs)
	}
	if !bytes.Equal(a, sandbox.Recording("call-a", false)) {
		t.Error("the same call's recording differs from one time to the next")
	}
	if bytes.Equal(a, b) {
		t.Error("two calls have the same recording")
	}
	var peak int16
	for i := 44; i+1 < len(a); i += 2 {
		peak = max(peak, int16(binary.LittleEndian.Uint16(a[i:])))
	}
	if peak < 5000 {
		t.Errorf("peak sample %d: the recording is (nearly) silent", peak)
	}
	vm := sandbox.Recording("call-a", true)
	readWAV(t, vm)
	if bytes.Equal(vm, a) || len(vm) != len(a) {
		t.Error("a voicemail's recording should be the same length as, and differ from, a completed call's")
	}
}

func TestRecordingServedAtTheRecordsURLToItsKeyOnly(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	completed, voicemail, noAnswer := e.place(keyA, call("+14155550123")), e.place(keyA, call("+14155550002")), e.place(keyA, call("+14155550001"))
	path := func(id string) string { return e.srv.URL + "/v1/agent/calls/" + id + "/recording" }

	// Before the call has ended there is none.
	if res, body := e.fetchRaw("GET", path(completed), keyA, nil); res.StatusCode != 404 || !bytes.Contains(body, []byte(`"not_found"`)) {
		t.Fatalf("before the end: %d %s, want 404 not_found", res.StatusCode, body)
	}
	e.clock.Advance(time.Minute)

	rec := e.get(keyA, completed)
	if rec["recordingUrl"] != path(completed) {
		t.Fatalf("recordingUrl %v, want %s (the origin the record was read from)", rec["recordingUrl"], path(completed))
	}
	res, body := e.fetchRaw("GET", path(completed), keyA, nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != sandbox.RecordingContentType || res.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("GET: %d %q Accept-Ranges %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Accept-Ranges"))
	}
	if !bytes.Equal(body, sandbox.Recording(completed, false)) || res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Fatalf("GET: %d bytes (Content-Length %s), want the call's recording", len(body), res.Header.Get("Content-Length"))
	}
	readWAV(t, body)
	if res, body := e.fetchRaw("HEAD", path(completed), keyA, nil); res.StatusCode != 200 || len(body) != 0 || res.ContentLength != int64(len(sandbox.Recording(completed, false))) {
		t.Fatalf("HEAD: %d, %d bytes, length %d", res.StatusCode, len(body), res.ContentLength)
	}

	if rec := e.get(keyA, voicemail); rec["recordingUrl"] != path(voicemail) {
		t.Fatalf("voicemail recordingUrl %v", rec["recordingUrl"])
	}
	if res, body := e.fetchRaw("GET", path(voicemail), keyA, nil); res.StatusCode != 200 || !bytes.Equal(body, sandbox.Recording(voicemail, true)) {
		t.Fatalf("voicemail: %d, %d bytes", res.StatusCode, len(body))
	}
	if rec := e.get(keyA, noAnswer); rec["recordingUrl"] != nil {
		t.Fatalf("no_answer recordingUrl %v, want null", rec["recordingUrl"])
	}

	for _, tc := range []struct {
		name, method, url, key string
		status                 int
	}{
		{"unanswered call", "GET", path(noAnswer), keyA, 404},
		{"another key", "GET", path(completed), keyB, 404},
		{"unknown call", "GET", path("00000000-0000-4000-8000-000000000000"), keyA, 404},
		{"no key", "GET", path(completed), "", 401},
		{"POST", "POST", path(completed), keyA, 405},
		{"path under the recording", "GET", path(completed) + "/x", keyA, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := e.with(t).fetchRaw(tc.method, tc.url, tc.key, nil)
			if res.StatusCode != tc.status || res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %q %s, want %d with a JSON error", res.StatusCode, res.Header.Get("Content-Type"), body, tc.status)
			}
		})
	}
}

func TestRecordingRanges(t *testing.T) {
	e := newEnv(t, sandbox.Options{RecordingBaseURL: "https://sandbox.test"})
	id := e.place(keyA, call("+14155550123"))
	e.clock.Advance(time.Minute)
	if rec := e.get(keyA, id); rec["recordingUrl"] != "https://sandbox.test/v1/agent/calls/"+id+"/recording" {
		t.Fatalf("recordingUrl %v: RecordingBaseURL should win over the request's origin", rec["recordingUrl"])
	}
	url := e.srv.URL + "/v1/agent/calls/" + id + "/recording"
	whole := sandbox.Recording(id, false)
	total := strconv.Itoa(len(whole))

	res, body := e.fetchRaw("GET", url, keyA, map[string]string{"Range": "bytes=0-43"})
	etag := res.Header.Get("ETag")
	if res.StatusCode != 206 || res.Header.Get("Content-Range") != "bytes 0-43/"+total || !bytes.Equal(body, whole[:44]) {
		t.Fatalf("first 44 bytes: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Range"), len(body))
	}
	res, body = e.fetchRaw("GET", url, keyA, map[string]string{"Range": "bytes=-100"})
	if res.StatusCode != 206 || !bytes.Equal(body, whole[len(whole)-100:]) {
		t.Fatalf("last 100 bytes: %d, %d bytes", res.StatusCode, len(body))
	}
	res, _ = e.fetchRaw("GET", url, keyA, map[string]string{"Range": "bytes=999999-"})
	if res.StatusCode != http.StatusRequestedRangeNotSatisfiable || res.Header.Get("Content-Range") != "bytes */"+total {
		t.Fatalf("range past the end: %d %q", res.StatusCode, res.Header.Get("Content-Range"))
	}
	// If-Range with the ETag keeps the range; with another, the whole file.
	if etag == "" {
		t.Fatal("no ETag")
	}
	if res, _ := e.fetchRaw("GET", url, keyA, map[string]string{"Range": "bytes=0-9", "If-Range": etag}); res.StatusCode != 206 {
		t.Fatalf("If-Range with the ETag: %d, want 206", res.StatusCode)
	}
	if res, body := e.fetchRaw("GET", url, keyA, map[string]string{"Range": "bytes=0-9", "If-Range": `"other"`}); res.StatusCode != 200 || len(body) != len(whole) {
		t.Fatalf("If-Range with another ETag: %d, %d bytes; want the whole file", res.StatusCode, len(body))
	}
}
