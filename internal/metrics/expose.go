package metrics

import (
	"compress/gzip"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// textContentType is the text format's media type, as the client library
// names it (its name escaping scheme is a parameter; every name here is a
// valid legacy name, so the scheme changes nothing in the body).
const textContentType = "text/plain; version=0.0.4; charset=utf-8"

// serve writes the families as promhttp.HandlerFor(registry,
// HandlerOpts{}) does in the text format: families sorted by name, the
// empty ones left out, "name[]" query parameters selecting families, gzip
// when the client prefers it. The client library also offers its protobuf
// format to a scraper that asks for it first; the text format carries the
// same families (none here is a native histogram), and every Prometheus
// scraper accepts it.
func serve(w http.ResponseWriter, r *http.Request, collectors []collector) {
	var fams []family
	for _, c := range collectors {
		for _, f := range c.families() {
			if !f.empty {
				fams = append(fams, f)
			}
		}
	}
	slices.SortFunc(fams, func(a, b family) int { return strings.Compare(a.name, b.name) })
	if r.URL != nil {
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			fams = slices.DeleteFunc(fams, func(f family) bool { return !slices.Contains(names, f.name) })
		}
	}
	tw := &textWriter{b: make([]byte, 0, 16<<10)}
	for _, f := range fams {
		tw.header(f.name, f.help, f.typ)
		f.write(tw)
	}

	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Type", textContentType+"; escaping="+escapingScheme(r.Header.Get("Accept")))
	if negotiateEncoding(r.Header["Accept-Encoding"]) == "gzip" {
		h.Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		_, _ = gz.Write(tw.b)
		_ = gz.Close()
		return
	}
	_, _ = w.Write(tw.b)
}

// textWriter writes the text format (expfmt.MetricFamilyToText).
type textWriter struct{ b []byte }

// appendEscaped escapes a help text (backslash, newline) or, with quote,
// a label value (also the double quote), as expfmt does.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func (w *textWriter) header(name, help, typ string) {
	w.b = append(w.b, "# HELP "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = appendEscaped(w.b, help, false)
	w.b = append(w.b, "\n# TYPE "...)
	w.b = append(w.b, name...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, typ...)
	w.b = append(w.b, '\n')
}

// sample writes one line: name, the labels, then extra="extraValue" when
// extra is set (le of a bucket, quantile of a summary), and the value.
func (w *textWriter) sample(name string, labels []labelPair, extra string, extraValue, value float64) {
	w.b = append(w.b, name...)
	if len(labels) > 0 || extra != "" {
		sep := byte('{')
		for _, l := range labels {
			w.b = append(w.b, sep)
			w.b = append(w.b, l.name...)
			w.b = append(w.b, `="`...)
			w.b = appendEscaped(w.b, l.value, true)
			w.b = append(w.b, '"')
			sep = ','
		}
		if extra != "" {
			w.b = append(w.b, sep)
			w.b = append(w.b, extra...)
			w.b = append(w.b, `="`...)
			w.b = appendFloat(w.b, extraValue)
			w.b = append(w.b, '"')
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ' ')
	w.b = appendFloat(w.b, value)
	w.b = append(w.b, '\n')
}

// appendFloat formats a value as the text format does (expfmt's writeFloat).
func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// escapingScheme is the name escaping scheme named in the response's
// content type, chosen from the Accept header as expfmt.NegotiateAccept
// chooses it for the text format: the escaping parameter of the clauses
// read (best first) up to the one accepting text/plain version 0.0.4, or
// of all of them when none does; underscores by default.
func escapingScheme(accept string) string {
	scheme := "underscores"
	for _, ac := range parseAccept(accept) {
		switch e := ac.params["escaping"]; e {
		case "allow-utf-8", "underscores", "dots", "values":
			scheme = e
		}
		if ac.acceptsText() {
			break
		}
	}
	return scheme
}

// acceptClause is one clause of an Accept header (goautoneg.Accept).
type acceptClause struct {
	typ, subType string
	q            float64
	params       map[string]string
}

// acceptsText reports whether the clause accepts the text format (expfmt's
// matchFormat against FmtText).
func (a acceptClause) acceptsText() bool {
	if a.typ != "*" && a.typ != "text" || a.subType != "*" && a.subType != "plain" {
		return false
	}
	version := a.params["version"]
	if version == "" && a.typ == "text" && a.subType == "plain" {
		version = "0.0.4"
	}
	return version == "0.0.4"
}

// parseAccept parses an Accept header as goautoneg.ParseAccept does,
// sorted the same way.
func parseAccept(header string) []acceptClause {
	var out acceptClauses
	remaining := header
	for len(remaining) > 0 {
		var part string
		part, remaining = splitNext(remaining, ",")
		part = strings.Trim(part, " ")
		a := acceptClause{q: 1}
		sp, rest := splitNext(part, ";")
		t, st := splitNext(sp, "/")
		a.typ = strings.Trim(t, " ")
		if st == "" {
			if a.typ != "*" {
				continue
			}
			a.subType = "*"
		} else {
			s1, more := splitNext(st, "/")
			if more != "" {
				continue
			}
			a.subType = strings.Trim(s1, " ")
		}
		if rest != "" {
			a.params = map[string]string{}
			for len(rest) > 0 {
				var p string
				p, rest = splitNext(rest, ";")
				k, v := splitNext(p, "=")
				if v == "" {
					continue
				}
				v1, more := splitNext(v, "=")
				if more != "" {
					continue
				}
				if k = strings.Trim(k, " "); k == "q" {
					q, _ := strconv.ParseFloat(v1, 32)
					a.q = q
				} else {
					a.params[k] = strings.Trim(v1, " ")
				}
			}
		}
		out = append(out, a)
	}
	sort.Sort(out)
	return out
}

type acceptClauses []acceptClause

func (s acceptClauses) Len() int      { return len(s) }
func (s acceptClauses) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s acceptClauses) Less(i, j int) bool {
	a, b := s[i], s[j]
	if a.q > b.q {
		return true
	}
	if a.typ != "*" && b.typ == "*" {
		return true
	}
	return a.subType != "*" && b.subType == "*"
}

func splitNext(s, sep string) (item, rest string) {
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// negotiateEncoding picks identity or gzip from Accept-Encoding headers as
// promhttp does (gddo's NegotiateContentEncoding over [identity, gzip]).
func negotiateEncoding(headers []string) string {
	best, bestQ := "identity", -1.0
	specs := parseAcceptEncoding(headers)
	for _, offer := range []string{"identity", "gzip"} {
		for _, s := range specs {
			if s.q > bestQ && (s.value == "*" || s.value == offer) {
				best, bestQ = offer, s.q
			}
		}
	}
	if bestQ == 0 {
		return "identity" // promhttp falls back to no compression
	}
	return best
}

type encodingSpec struct {
	value string
	q     float64
}

// parseAcceptEncoding is gddo's header.ParseAccept.
func parseAcceptEncoding(headers []string) []encodingSpec {
	var specs []encodingSpec
	for _, s := range headers {
		for {
			var spec encodingSpec
			spec.value, s = tokenSlash(s)
			if spec.value == "" {
				break
			}
			spec.q = 1
			s = skipSpace(s)
			if strings.HasPrefix(s, ";") {
				s = skipSpace(s[1:])
				if !strings.HasPrefix(s, "q=") {
					break
				}
				spec.q, s = quality(s[2:])
				if spec.q < 0 {
					break
				}
			}
			specs = append(specs, spec)
			s = skipSpace(s)
			if !strings.HasPrefix(s, ",") {
				break
			}
			s = skipSpace(s[1:])
		}
	}
	return specs
}

func isHeaderSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func isTokenByte(b byte) bool {
	return b > 31 && b < 127 && !strings.ContainsRune(" \t\"(),/:;<=>?@[]\\{}", rune(b))
}

func skipSpace(s string) string {
	i := 0
	for i < len(s) && isHeaderSpace(s[i]) {
		i++
	}
	return s[i:]
}

func tokenSlash(s string) (token, rest string) {
	i := 0
	for i < len(s) && (isTokenByte(s[i]) || s[i] == '/') {
		i++
	}
	return s[:i], s[i:]
}

func quality(s string) (float64, string) {
	var q float64
	switch {
	case s == "":
		return -1, ""
	case s[0] == '0':
		q = 0
	case s[0] == '1':
		q = 1
	default:
		return -1, ""
	}
	s = s[1:]
	if !strings.HasPrefix(s, ".") {
		return q, s
	}
	s = s[1:]
	i, n, d := 0, 0, 1
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		d *= 10
	}
	return q + float64(n)/float64(d), s[i:]
}
