package mcpserver

import (
	"bytes"
	"net/http"
)

// mcp-go answers every error a resource handler returns with -32603
// (internal error). Our handlers wrap server.ErrResourceNotFound, whose text
// starts every such message, when a call is unknown or belongs to another
// key; the contract answers that with -32002 (resource not found), in both
// eras. The JSON-RPC error object is rewritten on its way out: a tool
// result carrying the same words holds them inside an escaped JSON string,
// so it never matches.
var (
	notFoundAsInternal = []byte(`{"code":-32603,"message":"resource not found`)
	notFoundAsNotFound = []byte(`{"code":-32002,"message":"resource not found`)
)

// rewriteNotFound gives resource-not-found answers their own code. The
// common case costs one byte search.
func rewriteNotFound(p []byte) []byte {
	if !bytes.Contains(p, notFoundAsInternal) {
		return p
	}
	return bytes.ReplaceAll(p, notFoundAsInternal, notFoundAsNotFound)
}

// notFoundWriter applies rewriteNotFound to an HTTP response (a JSON body
// or an SSE stream; mcp-go writes each message in one Write).
type notFoundWriter struct{ http.ResponseWriter }

func (w notFoundWriter) Write(p []byte) (int, error) {
	if _, err := w.ResponseWriter.Write(rewriteNotFound(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w notFoundWriter) Flush() {
	if fl, ok := w.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w notFoundWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
