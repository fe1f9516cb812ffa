// Package inproc serves HTTP requests with an http.Handler in the same
// process, without a socket: the server uses it to reach the embedded
// sandbox, and tests use it to put a fake API behind a client.
package inproc

import (
	"net/http"
	"net/http/httptest"
)

// Transport is an http.RoundTripper that answers each request with Handler.
// A request whose context is already over fails with the context's error
// and does not reach Handler, as it would not reach a server over a socket.
type Transport struct{ Handler http.Handler }

// RoundTrip serves r with t.Handler and returns the recorded response.
func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
