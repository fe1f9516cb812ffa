package oauth

import (
	"context"
	"testing"
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
