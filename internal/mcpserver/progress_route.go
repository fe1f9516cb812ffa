package mcpserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// In a 2025-11-25 Streamable HTTP session, mcp-go delivers every
// notification through one per-session channel that the session's GET
// stream and its POST streams read in competition, so a wait_for_call's
// progress can land on the GET stream. Our contract puts progress on the
// SSE response of the POST that asked for it: progressRoutes moves such
// events from the GET stream to that POST's stream while it is open.

var progressMarker = []byte(`"notifications/progress"`)

type routeKey struct {
	session string
	token   string
}

type progressRoutes struct {
	mu     sync.Mutex
	routes map[routeKey]*postStream
}

func newProgressRoutes() *progressRoutes {
	return &progressRoutes{routes: map[routeKey]*postStream{}}
}

// progressToken returns the request's _meta.progressToken, as a key.
func progressToken(body []byte) (string, bool) {
	if !bytes.Contains(body, []byte(`"progressToken"`)) {
		return "", false
	}
	var m struct {
		Params struct {
			Meta struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"_meta"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &m) != nil || len(m.Params.Meta.ProgressToken) == 0 || string(m.Params.Meta.ProgressToken) == "null" {
		return "", false
	}
	return normalizeToken(m.Params.Meta.ProgressToken), true
}

func normalizeToken(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// post wraps a legacy POST's writer and routes its token's progress to it
// while next serves the request.
func (p *progressRoutes) post(w http.ResponseWriter, r *http.Request, body []byte, next func(http.ResponseWriter)) {
	session := r.Header.Get(server.HeaderKeySessionID)
	token, ok := progressToken(body)
	if session == "" || !ok {
		next(w)
		return
	}
	ps := &postStream{ResponseWriter: w, hdr: w.Header().Clone()}
	key := routeKey{session, token}
	p.mu.Lock()
	p.routes[key] = ps
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.routes[key] == ps {
			delete(p.routes, key)
		}
		p.mu.Unlock()
		ps.close()
	}()
	next(ps)
}

// get wraps a session's GET stream so that progress meant for an open
// POST goes there instead.
func (p *progressRoutes) get(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	session := r.Header.Get(server.HeaderKeySessionID)
	if session == "" {
		return w
	}
	return &getStream{ResponseWriter: w, session: session, routes: p}
}

type getStream struct {
	http.ResponseWriter
	session string
	routes  *progressRoutes
}

func (g *getStream) Write(b []byte) (int, error) {
	if bytes.Contains(b, progressMarker) {
		if token, ok := eventProgressToken(b); ok {
			g.routes.mu.Lock()
			ps := g.routes.routes[routeKey{g.session, token}]
			g.routes.mu.Unlock()
			if ps != nil && ps.inject(b) {
				return len(b), nil
			}
		}
	}
	return g.ResponseWriter.Write(b)
}

func (g *getStream) Flush() {
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (g *getStream) Unwrap() http.ResponseWriter { return g.ResponseWriter }

// eventProgressToken reads the progress token of one SSE event.
func eventProgressToken(event []byte) (string, bool) {
	for _, line := range bytes.Split(event, []byte("\n")) {
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		var n struct {
			Method string `json:"method"`
			Params struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"params"`
		}
		if json.Unmarshal(data, &n) == nil && n.Method == "notifications/progress" && len(n.Params.ProgressToken) > 0 {
			return normalizeToken(n.Params.ProgressToken), true
		}
	}
	return "", false
}

// postStream is a POST's response writer that can also carry events
// routed from the GET stream. It turns the response into an SSE stream when
// the first routed event arrives, and then writes mcp-go's plain JSON
// answer as the stream's last event.
type postStream struct {
	http.ResponseWriter
	// hdr is the header map mcp-go sees; it is copied to the real one when
	// mcp-go sends its headers, so that inject (on another goroutine) and
	// mcp-go never touch the same map.
	hdr       http.Header
	mu        sync.Mutex
	started   bool // headers sent
	sse       bool // the body is an SSE stream
	converted bool // we made it one: wrap plain JSON writes as events
	final     bool // a plain JSON body was written, or the request ended
}

// Header is the map mcp-go writes its headers into.
func (p *postStream) Header() http.Header { return p.hdr }

// sendHeaders sends mcp-go's headers unless a routed event already did.
// Callers hold mu and run on mcp-go's goroutines.
func (p *postStream) sendHeaders(code int) {
	if p.started {
		return
	}
	p.started = true
	real := p.ResponseWriter.Header()
	for k, v := range p.hdr {
		real[k] = v
	}
	p.sse = p.hdr.Get("Content-Type") == "text/event-stream"
	p.ResponseWriter.WriteHeader(code)
}

func (p *postStream) WriteHeader(code int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendHeaders(code)
}

func (p *postStream) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sendHeaders(http.StatusOK)
	if p.converted && !isSSE(b) {
		p.final = true
		event := append(append([]byte("event: message\ndata: "), bytes.TrimSpace(b)...), '\n', '\n')
		if _, err := p.ResponseWriter.Write(event); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	if !p.sse {
		p.final = true
	}
	return p.ResponseWriter.Write(b)
}

func isSSE(b []byte) bool {
	return bytes.HasPrefix(b, []byte("event:")) || bytes.HasPrefix(b, []byte("data:")) || bytes.HasPrefix(b, []byte(":")) || bytes.HasPrefix(b, []byte("id:"))
}

// inject writes a routed event; false when the response can no longer
// carry it (the caller then leaves it on the GET stream).
func (p *postStream) inject(event []byte) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.final {
		return false
	}
	if !p.started {
		h := p.ResponseWriter.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("Connection", "keep-alive")
		p.ResponseWriter.WriteHeader(http.StatusOK)
		p.started, p.sse, p.converted = true, true, true
	}
	if !p.sse {
		return false
	}
	if _, err := p.ResponseWriter.Write(event); err != nil {
		return false
	}
	if f, ok := p.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
	return true
}

func (p *postStream) close() {
	p.mu.Lock()
	p.final = true
	p.mu.Unlock()
}

func (p *postStream) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (p *postStream) Unwrap() http.ResponseWriter { return p.ResponseWriter }
