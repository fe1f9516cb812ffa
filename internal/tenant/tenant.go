// Package tenant owns which By Your Side API key serves a request, and for
// whom. The API is tenant-scoped by key: over HTTP each client may bring its
// own key in an Authorization header, and everything done for that request
// (API calls, dedupe, budgets, confirmation states, resources) is scoped to
// that key.
//
// Under --oauth-issuer one key (the server's) serves several people, each
// signed in at the team's identity provider: the request then also carries
// a Person, and the tenant is the pair (key, person). Credential joins the
// pair into the one string that the code keyed by key already handles
// (safety.KeyFingerprint of it keys dedupe, budgets, the do-not-call list,
// confirmations and campaigns; a campaign keeps it sealed to run on after a
// restart); SplitCredential gives the key back for the API.
package tenant

import (
	"context"
	"strings"
)

type keyCtx struct{}

type clientCtx struct{}

type personCtx struct{}

// Person is someone signed in at the team's identity provider
// (--oauth-issuer).
type Person struct {
	// ID is stable and opaque (a hash of the issuer and the subject): what
	// the person's state is keyed by. It never contains personSep.
	ID string
	// Subject is the access token's sub, as the identity provider names
	// the person: for audit lines.
	Subject string
}

// WithPerson returns a context whose requests act for p.
func WithPerson(ctx context.Context, p Person) context.Context {
	return context.WithValue(ctx, personCtx{}, p)
}

// PersonFrom returns the person set on ctx by WithPerson; ok is false when
// there is none (every mode but --oauth-issuer).
func PersonFrom(ctx context.Context) (Person, bool) {
	p, ok := ctx.Value(personCtx{}).(Person)
	return p, ok && p.ID != ""
}

// personSep separates the key from the person in a credential: no agent
// key contains it (keys are printable, and the HTTP header that would carry
// it refuses it).
const personSep = "\x00person:"

// Credential is the tenant (key, personID) as one string: key alone when
// personID is empty, so that everything keyed by key is unchanged without
// people.
func Credential(key, personID string) string {
	if personID == "" {
		return key
	}
	return key + personSep + personID
}

// SplitCredential undoes Credential.
func SplitCredential(cred string) (key, personID string) {
	key, personID, _ = strings.Cut(cred, personSep)
	return key, personID
}

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
