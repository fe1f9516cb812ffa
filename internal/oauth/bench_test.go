package oauth

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/state"
)

// BenchmarkCheck measures the token check every request to /mcp pays: from
// this process's cache (no store read), and uncached (one store read, plus
// the key's decryption) on each store.
func BenchmarkCheck(b *testing.B) {
	for _, cached := range []bool{true, false} {
		for _, k := range storeKinds(b) {
			name := k.name + "/uncached"
			if cached {
				if k.name != "memory" {
					continue // the cache does not depend on the store
				}
				name = "cached"
			}
			b.Run(name, func(b *testing.B) {
				s, token := benchServer(b, k, cached)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := s.Check(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// benchServer is a server with one signed-in grant, and its access token.
func benchServer(b *testing.B, k storeKind, cached bool) (*Server, string) {
	ttl := DefaultCacheTTL
	if !cached {
		ttl = -1
	}
	s, err := New(Options{PublicURL: "https://mcp.example.com", Store: k.new(b, nil), Secret: make([]byte, 32),
		CheckKey: func(context.Context, string) error { return nil }, CacheTTL: ttl})
	if err != nil {
		b.Fatal(err)
	}
	g := &grantRecord{ID: randomID(), Client: "bysmcp_client_bench", Scope: ScopeAll, Resource: s.resource, KeyFP: "fp"}
	g.Key = s.sealer.seal("bys_ak_bench", g.ID)
	tok, err := s.issueTokens(context.Background(), g, g.Scope)
	if err != nil {
		b.Fatal(err)
	}
	return s, tok.AccessToken
}

// countingStore is a real store that counts record reads.
type countingStore struct {
	state.Store
	state.Records
	reads atomic.Int64
}

func (c *countingStore) GetRecord(ctx context.Context, kind, id string) ([]byte, bool, error) {
	c.reads.Add(1)
	return c.Records.GetRecord(ctx, kind, id)
}

func TestCheckReadsTheStoreAtMostOnce(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		inner := k.new(t, nil)
		store := &countingStore{Store: inner, Records: inner.(state.Records)}
		s, err := New(Options{PublicURL: "https://mcp.example.com", Store: store, Secret: make([]byte, 32), CheckKey: func(context.Context, string) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		g := &grantRecord{ID: randomID(), Client: "c", Scope: ScopeAll, Resource: s.resource, KeyFP: "fp"}
		g.Key = s.sealer.seal("bys_ak_x", g.ID)
		tok, err := s.issueTokens(context.Background(), g, g.Scope)
		if err != nil {
			t.Fatal(err)
		}
		store.reads.Store(0)
		if _, err := s.Check(context.Background(), tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		if n := store.reads.Load(); n != 1 {
			t.Fatalf("first check: %d store reads, want 1", n)
		}
		for range 100 {
			if _, err := s.Check(context.Background(), tok.AccessToken); err != nil {
				t.Fatal(err)
			}
		}
		if n := store.reads.Load(); n != 1 {
			t.Fatalf("cached checks read the store: %d reads", n)
		}
		if _, err := s.Check(context.Background(), "bysmcp_at_unknown"); err != ErrInvalidToken {
			t.Fatal(err)
		}
		if n := store.reads.Load(); n != 2 {
			t.Fatalf("an unknown token: %d reads in all, want 2", n)
		}
	})
}

// BenchmarkIssuerCheck measures the check of a team identity provider's
// JWT (--oauth-issuer) on every request to /mcp: from this process's cache,
// and uncached (the signature verified and the claims read; the keys are
// in memory).
func BenchmarkIssuerCheck(b *testing.B) {
	testKeys(b)
	for _, k := range []signingKey{rsaKey, ecKey, edKey} {
		for _, cached := range []bool{true, false} {
			name := string(k.alg) + "/uncached"
			if cached {
				name = string(k.alg) + "/cached"
			}
			b.Run(name, func(b *testing.B) {
				is := newTestIssuer(b, k)
				r := newTestResource(b, is, clock.NewManual(testStart))
				token := sign(b, k, is.claims(testStart))
				ctx := context.Background()
				if _, err := r.Check(ctx, token); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if !cached {
						r.cache.mu.Lock()
						clear(r.cache.m)
						r.cache.mu.Unlock()
					}
					if _, err := r.Check(ctx, token); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
