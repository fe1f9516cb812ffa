package oauth

import (
	"context"
	"net/http"
	"time"

	"github.com/byourside/bys-mcp/internal/tenant"
)

// WatchRefusals wraps the API client's transport: when the API answers 401
// to a request made with an agent key, onRefused gets that key (to revoke
// its grants) before the answer goes on.
func WatchRefusals(base http.RoundTripper, onRefused func(ctx context.Context, key string)) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return refusalWatcher{base: base, onRefused: onRefused}
}

type refusalWatcher struct {
	base      http.RoundTripper
	onRefused func(ctx context.Context, key string)
}

func (t refusalWatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		if key := tenant.BearerKey(r.Header.Get("Authorization")); key != "" {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
			t.onRefused(ctx, key)
			cancel()
		}
	}
	return resp, err
}
