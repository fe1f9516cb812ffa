package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/byourside/bys-mcp/internal/clock"
)

// RouteGetRecording is the route of a call's recording, as reported to
// Options.Observer and in errors.
const RouteGetRecording = "GET /v1/agent/calls/{id}/recording"

// MaxRecordingBytes is the default cap on a recording's size (25 MiB).
const MaxRecordingBytes = 25 << 20

// TokenRecordingTooLarge: the recording is larger than the cap asked for
// (RecordingOptions.MaxBytes): said before any of it is read when the API
// gives its size, else when reading passes the cap.
const TokenRecordingTooLarge = "recording_too_large"

// ErrForeignRecordingURL is returned for a recordingUrl that is not on the
// API's own origin (scheme, host and port of the base URL): the key is
// never sent anywhere else.
var ErrForeignRecordingURL = errors.New("bys api: the recording URL is not on the API's origin, so the key is not sent to it")

// NoRecordingError is GetRecording's error for a call that has no
// recording: it has not ended yet, or it ended without one (never
// answered, declined, failed).
type NoRecordingError struct {
	CallID, Status string
}

func (e *NoRecordingError) Error() string {
	return fmt.Sprintf("bys api: call %s has no recording (status %s)", e.CallID, e.Status)
}

// IsRecordingTooLarge reports whether err says that a recording is larger
// than the cap.
func IsRecordingTooLarge(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Token == TokenRecordingTooLarge
}

// RecordingOptions shape a recording request.
type RecordingOptions struct {
	// Range and IfRange are passed on as the Range and If-Range headers
	// (a person's player asks for parts of the file); empty: the whole file.
	Range, IfRange string
	// MaxBytes caps the whole recording's size; 0 selects
	// MaxRecordingBytes.
	MaxBytes int64
}

// Recording is a call's recording as the API streams it. The caller reads
// Body and must close it; the body fails with a TokenRecordingTooLarge
// *APIError if it runs past the cap.
type Recording struct {
	// StatusCode is 200 (the whole file), 206 (the range asked for) or 416
	// (a range outside the file; Body is then empty).
	StatusCode int
	// ContentType is the audio media type (from the API's Content-Type,
	// else sniffed from the first bytes).
	ContentType string
	// ContentLength is the length of Body, -1 when unknown.
	ContentLength int64
	// Size is the whole file's size when the API gives it, else -1.
	Size int64
	// Header has the API's Content-Range, Accept-Ranges, ETag and
	// Last-Modified, for passing on.
	Header http.Header
	Body   io.ReadCloser
}

// passedHeaders are the API's answer headers a Recording keeps.
var passedHeaders = []string{"Content-Range", "Accept-Ranges", "ETag", "Last-Modified"}

// GetRecording streams the recording of call id: it reads the call's record
// and then its recordingUrl (see Recording). A call without one gives a
// *NoRecordingError; an unknown call an error for which IsNotFound is true.
func (c *Client) GetRecording(ctx context.Context, id string, opts *RecordingOptions) (*Recording, error) {
	call, err := c.GetCall(ctx, id)
	if err != nil {
		return nil, err
	}
	if call.RecordingURL == nil || *call.RecordingURL == "" {
		return nil, &NoRecordingError{CallID: call.ID, Status: call.Status}
	}
	return c.Recording(ctx, *call.RecordingURL, opts)
}

// Recording streams the recording at recordingURL (a record's recordingUrl)
// with the client's key. The URL must be on the API's origin (else
// ErrForeignRecordingURL, and nothing is sent). The request is made once:
// the answer's headers must arrive within the client's Timeout, and the
// body then streams for as long as ctx lasts. A recording known to be
// larger than the cap is refused before its body is read.
func (c *Client) Recording(ctx context.Context, recordingURL string, opts *RecordingOptions) (*Recording, error) {
	if opts == nil {
		opts = &RecordingOptions{}
	}
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = MaxRecordingBytes
	}
	u, err := c.sameOrigin(recordingURL)
	if err != nil {
		return nil, err
	}
	r, err := c.newRequest(http.MethodGet, RouteGetRecording, "", nil)
	if err != nil {
		return nil, err
	}
	r.url = u.String()

	rctx, cancel := context.WithCancel(ctx)
	hreq, err := http.NewRequestWithContext(rctx, http.MethodGet, r.url, nil)
	if err != nil {
		cancel()
		return nil, &TransportError{Method: r.method, Route: r.route, Token: TokenConnectionFailed, Err: err}
	}
	hreq.Header.Set("Accept", "audio/*, */*;q=0.5")
	hreq.Header.Set("User-Agent", "bys-mcp/"+Version)
	if key := c.key(); key != "" {
		hreq.Header.Set("Authorization", "Bearer "+key)
	}
	if opts.Range != "" {
		hreq.Header.Set("Range", opts.Range)
		if opts.IfRange != "" {
			hreq.Header.Set("If-Range", opts.IfRange)
		}
	}

	// The headers must come within the timeout; the body may take longer.
	headersDue := time.AfterFunc(c.timeout, cancel)
	start := c.clock.Now()
	resp, err := c.httpClient.Do(hreq)
	timedOut := !headersDue.Stop()
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	if c.observer != nil {
		c.observer(r.method, r.route, status, clock.Since(c.clock, start))
	}
	if err == nil && timedOut {
		// The timer fired as the headers came: the body is cut off already.
		resp.Body.Close()
		err = context.DeadlineExceeded
	}
	if err != nil {
		defer cancel()
		if timedOut && ctx.Err() == nil {
			return nil, &TransportError{Method: r.method, Route: r.route, Token: TokenTimeout, MayHaveReachedAPI: true, Err: err}
		}
		return nil, c.transportError(ctx, rctx, r, err)
	}
	rec, err := c.recordingAnswer(r, resp, maxBytes)
	if err != nil {
		resp.Body.Close()
		cancel()
		return nil, err
	}
	rec.Body = &recordingBody{r: rec.Body, rc: resp.Body, cancel: cancel, left: maxBytes, err: c.tooLarge(r, status)}
	return rec, nil
}

// sameOrigin parses raw and checks that it is an absolute URL on the base
// URL's scheme, host and port.
func (c *Client) sameOrigin(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return nil, ErrForeignRecordingURL
	}
	if !strings.EqualFold(u.Scheme, c.baseURL.Scheme) || !strings.EqualFold(hostPort(u), hostPort(c.baseURL)) {
		return nil, ErrForeignRecordingURL
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// hostPort is u's host with its port, the scheme's default one when absent.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}

// recordingAnswer reads the status and headers of a recording answer.
func (c *Client) recordingAnswer(r *request, resp *http.Response, maxBytes int64) (*Recording, error) {
	status := resp.StatusCode
	rec := &Recording{StatusCode: status, ContentLength: resp.ContentLength, Size: -1, Header: http.Header{}, Body: resp.Body}
	for _, h := range passedHeaders {
		if v := resp.Header.Get(h); v != "" {
			rec.Header.Set(h, v)
		}
	}
	switch status {
	case http.StatusOK:
		rec.Size = resp.ContentLength
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
		rec.Size = rangeTotal(resp.Header.Get("Content-Range"))
	default:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return nil, c.apiError(r, resp, errorToken(data))
	}
	if rec.Size > maxBytes || (status == http.StatusOK || status == http.StatusPartialContent) && rec.ContentLength > maxBytes {
		return nil, c.tooLarge(r, status)
	}
	if status == http.StatusRequestedRangeNotSatisfiable {
		rec.ContentLength, rec.Body = 0, http.NoBody
		rec.ContentType = mediaType(resp.Header.Get("Content-Type"))
		return rec, nil
	}
	mt := mediaType(resp.Header.Get("Content-Type"))
	switch {
	case mt == "" || mt == "application/octet-stream" || mt == "binary/octet-stream":
		br := bufio.NewReaderSize(resp.Body, 512)
		head, _ := br.Peek(512)
		rec.Body = io.NopCloser(br)
		mt = "application/octet-stream"
		switch sniffed := mediaType(http.DetectContentType(head)); {
		case strings.HasPrefix(sniffed, "audio/"):
			mt = sniffed
		case sniffed == "application/ogg":
			mt = "audio/ogg"
		}
	case strings.HasPrefix(mt, "text/"), mt == "application/json", strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "xml"):
		// A page or an error document with a success status is no recording.
		return nil, c.unexpected(r, status)
	}
	rec.ContentType = mt
	return rec, nil
}

func (c *Client) tooLarge(r *request, status int) *APIError {
	return &APIError{HTTPStatus: status, Token: TokenRecordingTooLarge, Method: r.method, Route: r.route}
}

// mediaType is the lower-case media type of a Content-Type, without
// parameters ("" when absent or malformed).
func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// rangeTotal reads the complete length of a Content-Range ("bytes 0-9/100"
// or "bytes */100"); -1 when it is unknown ("*") or malformed.
func rangeTotal(cr string) int64 {
	_, total, ok := strings.Cut(cr, "/")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// recordingBody is a recording's body: it fails with err once more than
// left bytes come, and ends the request when closed.
type recordingBody struct {
	r      io.Reader
	rc     io.Closer
	cancel context.CancelFunc
	left   int64
	err    error
}

func (b *recordingBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), b.err
	}
	return n, err
}

func (b *recordingBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}
