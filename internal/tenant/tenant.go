// Package tenant owns which By Your Side API key serves a request. The API is
// tenant-scoped by key: over HTTP each client may bring its own key in an
// Authorization header, and everything done for that request (API calls,
// dedupe, budgets, confirmation states, resources) is scoped to that key.
package tenant

import (
	"context"
	"strings"
)

type keyCtx struct{}

type clientCtx struct{}

// KeyPrefix is the prefix of every agent key.
const KeyPrefix = "bys_ak_"

// WithKey returns a context whose requests use key.
func WithKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtx{}, key)
}

// KeyFrom returns the key set on ctx by WithKey, or "".
func KeyFrom(ctx context.Context) string {
	k, _ := ctx.Value(keyCtx{}).(string)
	return k
}

// WithClient returns a context whose requests come from the named client
// (an OAuth client signed in with the key), for audit lines.
func WithClient(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, clientCtx{}, name)
}

// ClientFrom returns the client name set on ctx by WithClient, or "".
func ClientFrom(ctx context.Context) string {
	c, _ := ctx.Value(clientCtx{}).(string)
	return c
}

// BearerKey extracts an agent key from an Authorization header value
// ("Bearer bys_ak_..."). It returns "" when the header carries no agent key.
func BearerKey(header string) string {
	token, ok := BearerToken(header)
	if !ok || !strings.HasPrefix(token, KeyPrefix) || len(token) == len(KeyPrefix) {
		return ""
	}
	return token
}

// BearerToken returns the token of a "Bearer <token>" header value.
func BearerToken(header string) (string, bool) {
	const prefix = "bearer "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", false
	}
	token := strings.TrimSpace(header[len(prefix):])
	return token, token != ""
}
