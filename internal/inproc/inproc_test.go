package inproc_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/byourside/bys-mcp/internal/inproc"
)

func TestTransportServesWithTheHandler(t *testing.T) {
	served := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "short and stout")
	})
	c := &http.Client{Transport: inproc.Transport{Handler: h}}
	resp, err := c.Get("http://api.invalid/v1/agent/calls/c1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTeapot || string(body) != "short and stout" || resp.Header.Get("X-Path") != "/v1/agent/calls/c1" {
		t.Errorf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp.Request == nil || resp.Request.URL.Path != "/v1/agent/calls/c1" {
		t.Errorf("response's request = %v, want the request sent", resp.Request)
	}
	if served != 1 {
		t.Errorf("handler served %d requests, want 1", served)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://api.invalid/", nil)
	if _, err := (inproc.Transport{Handler: h}).RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip with a cancelled context: %v, want context.Canceled", err)
	}
	if served != 1 {
		t.Errorf("a cancelled request reached the handler (%d served)", served)
	}
}
