package testkit

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// MustFreeAddr is FreeAddr failing the test on error.
func MustFreeAddr(tb testing.TB) string {
	tb.Helper()
	addr, err := FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// FreePort is the port of MustFreeAddr.
func FreePort(tb testing.TB) string {
	tb.Helper()
	_, port, _ := net.SplitHostPort(MustFreeAddr(tb))
	return port
}

// RawPost sends one POST of body to url as a Streamable HTTP client would
// (Content-Type application/json; Accept application/json and
// text/event-stream), header replacing or adding headers (a Host entry sets
// the request's host instead), and returns the status, the headers and the
// body's first 256 KiB. The test fails when no answer comes within timeout.
func RawPost(tb testing.TB, url string, header http.Header, body []byte, timeout time.Duration) (int, http.Header, string) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, vs := range header {
		if strings.EqualFold(k, "Host") {
			req.Host = vs[0]
			continue
		}
		req.Header.Del(k)
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	c := &http.Client{Timeout: timeout}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	return resp.StatusCode, resp.Header, string(b)
}
