package oauth

import (
	"errors"
	"net/url"
	"strings"
)

// maxRedirectURIs and maxRedirectURILen bound a registration.
const (
	maxRedirectURIs   = 20
	maxRedirectURILen = 2000
)

// refusedSchemes are never registered as redirect URIs: they would run
// code or read files in the browser.
var refusedSchemes = map[string]bool{"javascript": true, "data": true, "file": true, "vbscript": true, "about": true, "blob": true}

// checkRedirectURI says why raw may not be registered as a redirect URI, or
// nil: an absolute URI without fragment or credentials; https on any host,
// http on a loopback host only (127.0.0.1, [::1], localhost), or a
// private-use scheme of a native app (cursor://, vscode://); never
// javascript:, data:, file: or vbscript:.
func checkRedirectURI(raw string) error {
	if raw == "" {
		return errors.New("a redirect URI is empty")
	}
	if len(raw) > maxRedirectURILen {
		return errors.New("a redirect URI is too long")
	}
	if strings.ContainsAny(raw, " \t\r\n\\") {
		return errors.New("a redirect URI contains spaces or backslashes")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return errors.New("a redirect URI is not an absolute URI")
	}
	scheme := strings.ToLower(u.Scheme)
	if refusedSchemes[scheme] {
		return errors.New("redirect URIs with the " + scheme + ": scheme are refused")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("a redirect URI must not have a fragment")
	}
	if u.User != nil {
		return errors.New("a redirect URI must not carry credentials")
	}
	switch scheme {
	case "https":
		if u.Hostname() == "" {
			return errors.New("an https redirect URI needs a host")
		}
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return errors.New("plain http redirect URIs are accepted only on loopback hosts (http://127.0.0.1, http://[::1], http://localhost)")
		}
	default:
		// A private-use scheme (RFC 8252 §7.1): cursor://..., vscode://...
		if u.Opaque == "" && u.Host == "" && u.Path == "" {
			return errors.New("a redirect URI has nothing after its scheme")
		}
	}
	return nil
}

// matchRedirectURI returns the redirect URI to use for requested among the
// registered ones: an exact match, or on loopback (http://127.0.0.1,
// http://[::1], http://localhost) the same URI with any port (RFC 8252
// §7.3), since native apps listen on a port chosen at run time.
func matchRedirectURI(registered []string, requested string) (string, bool) {
	for _, r := range registered {
		if r == requested {
			return requested, true
		}
	}
	q, err := url.Parse(requested)
	if err != nil || q.Scheme != "http" || !isLoopbackHost(q.Hostname()) || q.User != nil || q.Fragment != "" {
		return "", false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || !isLoopbackHost(u.Hostname()) {
			continue
		}
		if strings.EqualFold(u.Hostname(), q.Hostname()) && pathOf(u) == pathOf(q) && u.RawQuery == q.RawQuery {
			return requested, true
		}
	}
	return "", false
}

func pathOf(u *url.URL) string {
	if u.Path == "" {
		return "/"
	}
	return u.EscapedPath()
}

// redirectHost is what the consent page shows as where the person is sent
// back: the host (and port) of an http(s) URI, else its scheme and host.
func redirectHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host
	}
	if u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + ":"
}

// redirectOrigin is the CSP source of a redirect URI, so that the browser
// may follow the redirect after the consent form is posted.
func redirectOrigin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + ":"
}

// withParams is uri with the given query parameters added (existing ones
// kept).
func withParams(uri string, params map[string]string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	for k, v := range params {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
