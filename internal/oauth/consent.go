package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"
	"sync"
)

// cookieName is the consent cookie of one page (several pages may be open
// in one browser).
func (s *Server) cookieName(id string) string {
	name := "bys_consent_" + id[:min(len(id), 12)]
	if s.secure {
		return "__Host-" + name
	}
	return name
}

// consentCookie carries the nonce the page's anti-forgery token is bound
// to.
func (s *Server) consentCookie(id, nonce string) *http.Cookie {
	return &http.Cookie{
		Name: s.cookieName(id), Value: nonce, Path: "/", MaxAge: int(ConsentTTL.Seconds()),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	}
}

// csrfToken binds the form to its page (the consent request id) and to the
// browser that opened it (the cookie's nonce).
func (s *Server) csrfToken(id, nonce string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(id + "\x00" + nonce))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) checkCSRF(id, nonce, token string) bool {
	if nonce == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(s.csrfToken(id, nonce)), []byte(token))
}

// pageHeaders are the headers of every page of the authorization endpoint:
// no framing, no caching, no referrer, nothing loaded from elsewhere.
func pageHeaders(w http.ResponseWriter, styleNonce, formTarget string) {
	csp := "default-src 'none'; style-src 'nonce-" + styleNonce + "'; img-src data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	if formTarget != "" {
		csp += " " + formTarget
	}
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", "text/html; charset=utf-8")
}

type consentView struct {
	StyleNonce   string
	Request      string
	CSRF         string
	ClientName   string
	Document     bool
	ClientID     string
	RedirectHost string
	Write        bool
	Sandbox      bool
	Error        string
	Server       string
}

// consentPage renders the consent page (msg: a problem to show).
func (s *Server) consentPage(w http.ResponseWriter, status int, id, nonce string, rec *consentRecord, msg string) {
	v := consentView{
		StyleNonce:   randomID(),
		Request:      id,
		CSRF:         s.csrfToken(id, nonce),
		ClientName:   rec.ClientName,
		Document:     rec.Document,
		ClientID:     rec.Client,
		RedirectHost: redirectHost(rec.RedirectURI),
		Write:        scopeHasWrite(rec.Scope),
		Sandbox:      s.opts.SandboxKey != "",
		Error:        msg,
		Server:       strings.TrimPrefix(strings.TrimPrefix(s.issuer, "https://"), "http://"),
	}
	target := redirectOrigin(rec.RedirectURI)
	if strings.ContainsAny(target, " ;,'\"") {
		target = ""
	}
	pageHeaders(w, v.StyleNonce, target)
	w.WriteHeader(status)
	_ = consentTemplate().Execute(w, v)
}

// errorPage renders an error the person can read; nothing is redirected.
func (s *Server) errorPage(w http.ResponseWriter, status int, title, detail string) {
	nonce := randomID()
	pageHeaders(w, nonce, "")
	w.WriteHeader(status)
	_ = errorTemplate().Execute(w, map[string]string{"StyleNonce": nonce, "Title": title, "Detail": detail})
}

const pageStyle = `
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f5f4;color:#1c1917}
main{max-width:30rem;margin:3rem auto;background:#fff;border:1px solid #e7e5e4;border-radius:12px;padding:2rem}
h1{font-size:1.3rem;margin:0 0 1rem}
.host{font-size:1.15rem;font-weight:700;word-break:break-all;background:#fef3c7;padding:.2rem .4rem;border-radius:4px}
.muted{color:#57534e;font-size:.9rem}
.error{background:#fee2e2;border:1px solid #fca5a5;padding:.6rem .8rem;border-radius:8px}
label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=password]{width:100%;box-sizing:border-box;padding:.6rem;font:inherit;border:1px solid #a8a29e;border-radius:8px}
.check{display:flex;gap:.5rem;align-items:flex-start;font-weight:400}
.buttons{display:flex;gap:.8rem;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:8px;border:1px solid #a8a29e;background:#fff;cursor:pointer}
button.primary{background:#1c1917;color:#fff;border-color:#1c1917}
@media (prefers-color-scheme:dark){body{background:#1c1917;color:#f5f5f4}main{background:#292524;border-color:#44403c}.muted{color:#a8a29e}.host{background:#78350f;color:#fff}input[type=password],button{background:#1c1917;color:#f5f5f4}button.primary{background:#f5f5f4;color:#1c1917}.error{background:#7f1d1d;border-color:#b91c1c}}
`

// consentTemplate and errorTemplate are parsed when first used: parsing
// them at package init cost every start of the server 20 KB of
// allocations (test/startup), sign-in or not.
var consentTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Allow {{.ClientName}} to use By Your Side</title>
<style nonce="{{.StyleNonce}}">` + pageStyle + `</style></head>
<body><main>
<h1>Allow <span id="client-name">{{.ClientName}}</span> to use your By Your Side phone calls?</h1>
<p>After you answer, you will be sent back to <span class="host" id="redirect-host">{{.RedirectHost}}</span>.
Continue only if that is the app you are signing in to.</p>
{{if .Document}}<p class="muted">The application is identified by <span id="client-id">{{.ClientID}}</span>.</p>{{else}}<p class="muted">The application named itself; this server ({{.Server}}) does not vouch for the name.</p>{{end}}
<p>It will be able to:</p>
<ul>
<li>see your calls, their status, transcripts and results</li>
{{if .Write}}<li><strong>place phone calls to real people, in your name</strong>, and run or cancel campaigns of calls</li>{{end}}
</ul>
{{if .Error}}<p class="error" id="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/authorize">
<input type="hidden" name="request" value="{{.Request}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
{{if .Sandbox}}<p>This server runs against the <strong>sandbox</strong>: no calls reach anyone and no key is needed.</p>
<label for="key">Sandbox key (optional)</label>
<input type="password" id="key" name="key" autocomplete="off" placeholder="leave empty to use the sandbox">
{{else}}<label for="key">Your By Your Side agent key</label>
<input type="password" id="key" name="key" autocomplete="off" required placeholder="bys_ak_...">
<p class="muted">It is checked with By Your Side once, then kept encrypted on this server; the app never sees it.</p>{{end}}
{{if .Write}}<label class="check"><input type="checkbox" name="write" value="1" id="write" checked> Allow placing calls (untick to allow reading only)</label>{{end}}
<div class="buttons">
<button class="primary" type="submit" name="action" value="approve" id="approve">Allow</button>
<button type="submit" name="action" value="deny" id="deny" formnovalidate>Deny</button>
</div>
</form>
</main></body></html>
`))
})

var errorTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style nonce="{{.StyleNonce}}">` + pageStyle + `</style></head>
<body><main><h1>{{.Title}}</h1><p id="detail">{{.Detail}}</p></main></body></html>
`))
})
