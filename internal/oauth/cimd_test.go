package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// docServer serves Client ID Metadata Documents from loopback: doc(url)
// builds the document served at that URL.
type docServer struct {
	ts      *httptest.Server
	fetches atomic.Int64
}

func newDocServer(t *testing.T, doc func(url string) (status int, header http.Header, body string)) *docServer {
	d := &docServer{}
	d.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fetches.Add(1)
		if strings.HasSuffix(r.URL.Path, "/slow.json") {
			// Longer than the 5 s a fetch may take.
			select {
			case <-time.After(6 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		status, header, body := doc(d.ts.URL + r.URL.Path)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(d.ts.Close)
	return d
}

func jsonDoc(v map[string]any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestClientIDMetadataDocuments(t *testing.T) {
	forEachStore(t, func(t *testing.T, k storeKind) {
		e := newEnv(t, k, envOptions{})
		docs := newDocServer(t, func(u string) (int, http.Header, string) {
			good := map[string]any{"client_id": u, "client_name": "Claude Code", "redirect_uris": []string{"http://localhost/callback"}, "grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none"}
			switch {
			case strings.HasSuffix(u, "/good.json"):
				return 200, http.Header{"Cache-Control": {"max-age=600"}}, jsonDoc(good)
			case strings.HasSuffix(u, "/other-id.json"):
				good["client_id"] = "https://elsewhere.example/client.json"
				return 200, nil, jsonDoc(good)
			case strings.HasSuffix(u, "/big.json"):
				good["client_name"] = strings.Repeat("x", 17<<10)
				return 200, nil, jsonDoc(good)
			case strings.HasSuffix(u, "/redirect.json"):
				return 302, http.Header{"Location": {strings.TrimSuffix(u, "redirect.json") + "good.json"}}, ""
			case strings.HasSuffix(u, "/secret.json"):
				good["token_endpoint_auth_method"] = "client_secret_post"
				return 200, nil, jsonDoc(good)
			case strings.HasSuffix(u, "/javascript.json"):
				good["redirect_uris"] = []string{"javascript:alert(1)"}
				return 200, nil, jsonDoc(good)
			}
			return 404, nil, "not found"
		})
		t.Run("honoured when its client_id is its URL", func(t *testing.T) {
			e := e.with(t)
			c := registered{id: docs.ts.URL + "/good.json", redirect: "http://localhost:61000/callback"}
			p := newPKCE()
			b := e.browser()
			f := e.openConsent(b, e.authzQuery(c, p, nil))
			if !strings.Contains(f.page.body, "Claude Code") || !strings.Contains(f.page.body, c.id) {
				t.Errorf("the page does not name the document's client")
			}
			r := e.submit(b, f, "approve", "bys_ak_cimd", true)
			q := mustLocation(t, r)
			tok := mustTokens(t, e.exchange(c, q.Get("code"), p.verifier, nil))
			if got := e.mcp(tok.access, `{}`).json(t)["key"]; got != "bys_ak_cimd" {
				t.Fatalf("served with %v", got)
			}
			// Cached: a second sign-in does not fetch it again.
			before := docs.fetches.Load()
			e.openConsent(e.browser(), e.authzQuery(c, newPKCE(), nil))
			if docs.fetches.Load() != before {
				t.Errorf("the document was fetched again within its max-age")
			}
		})
		t.Run("a redirect URI it does not list is refused", func(t *testing.T) {
			e := e.with(t)
			c := registered{id: docs.ts.URL + "/good.json", redirect: "https://evil.example/callback"}
			r := e.get(e.browser(), PathAuthorize+"?"+e.authzQuery(c, newPKCE(), nil).Encode())
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
				t.Fatalf("%d %q", r.status, r.header.Get("Location"))
			}
		})
		for _, bad := range []string{"other-id.json", "big.json", "redirect.json", "secret.json", "javascript.json", "missing.json", "slow.json"} {
			t.Run("refused/"+bad, func(t *testing.T) {
				t.Parallel()
				e := e.with(t)
				if bad == "slow.json" && testing.Short() {
					t.Skip("waits 5 s")
				}
				c := registered{id: docs.ts.URL + "/" + bad, redirect: "http://localhost/callback"}
				r := e.get(e.browser(), PathAuthorize+"?"+e.authzQuery(c, newPKCE(), nil).Encode())
				if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
					t.Fatalf("%d %q", r.status, r.header.Get("Location"))
				}
				if !strings.Contains(r.body, "Unknown application") {
					t.Errorf("page: %s", r.body)
				}
			})
		}
	})
}

func TestDocumentURLRules(t *testing.T) {
	t.Parallel()
	newSrv := func(public string) *Server {
		s, err := New(Options{PublicURL: public, Store: storeKinds(t)[0].new(t, nil), Secret: make([]byte, 32), CheckKey: func(context.Context, string) error { return nil }})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	public, loop := newSrv("https://mcp.example.com"), newSrv("http://127.0.0.1:8080")
	cases := []struct {
		url            string
		public, onLoop bool
	}{
		{"https://claude.ai/oauth/claude-code-client-metadata", true, true},
		{"https://claude.ai/", false, false},
		{"https://claude.ai", false, false},
		{"http://claude.ai/client.json", false, false},
		{"http://127.0.0.1:9000/client.json", false, true},
		{"https://localhost:9000/client.json", false, true},
		{"https://u:p@claude.ai/client.json", false, false},
		{"https://claude.ai/client.json#x", false, false},
	}
	for _, c := range cases {
		if got := public.checkDocumentURL(c.url) == nil; got != c.public {
			t.Errorf("public server, %s: accepted %v, want %v", c.url, got, c.public)
		}
		if got := loop.checkDocumentURL(c.url) == nil; got != c.onLoop {
			t.Errorf("loopback server, %s: accepted %v, want %v", c.url, got, c.onLoop)
		}
	}
	// A public server never connects to a loopback or private address, even
	// when a public name resolves to one.
	for _, ip := range []string{"127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254", "100.64.0.1", "::1", "fe80::1", "fd00::1", "0.0.0.0", "::ffff:127.0.0.1"} {
		if isPublicAddr(netip.MustParseAddr(ip).Unmap()) {
			t.Errorf("%s counted as public", ip)
		}
	}
	for _, ip := range []string{"160.79.104.10", "2607:6bc0::10"} {
		if !isPublicAddr(netip.MustParseAddr(ip)) {
			t.Errorf("%s not counted as public", ip)
		}
	}
	_, err := public.cimd.Get("http://127.0.0.1:1/client.json")
	if err == nil || !strings.Contains(err.Error(), "public addresses only") {
		t.Errorf("public server fetched from loopback: %v", err)
	}
}

func mustLocation(t *testing.T, r response) url.Values {
	t.Helper()
	if r.status != http.StatusSeeOther {
		t.Fatalf("%d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
