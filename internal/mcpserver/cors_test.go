package mcpserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestSSEHasNoWildcardCORS(t *testing.T) {
	base := serveApp(t, "sse")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sse", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sse from a loopback origin: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got == "*" {
		t.Fatal("GET /sse answers Access-Control-Allow-Origin: *")
	}
}
