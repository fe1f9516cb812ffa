package mcpserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// mcp-go sends notifications/tasks/status to every session. Over HTTP many
// clients share the process, so each response stream is filtered: a task's
// status reaches only the session that created the task.

var taskStatusMarker = []byte(mcp.MethodNotificationTasksStatus)

// taskStatusFilter wraps a response stream of one session.
type taskStatusFilter struct {
	http.ResponseWriter
	session string
	owner   func(taskID string) (string, bool)
}

// filterTaskStatus wraps w for the session of r (Mcp-Session-Id on
// Streamable HTTP; learnt from the endpoint event on an SSE stream).
func (s *Server) filterTaskStatus(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if s.tasks == nil {
		return w
	}
	session := r.Header.Get(server.HeaderKeySessionID)
	if session == "" {
		session = r.URL.Query().Get("sessionId")
	}
	return &taskStatusFilter{ResponseWriter: w, session: session, owner: s.tasks.owner}
}

func (f *taskStatusFilter) Write(p []byte) (int, error) {
	if f.session == "" {
		f.learnSession(p)
	}
	if bytes.Contains(p, taskStatusMarker) && f.othersTaskStatus(p) {
		return len(p), nil // another session's task: not for this stream
	}
	return f.ResponseWriter.Write(p)
}

// learnSession reads the session id from an SSE endpoint event
// ("event: endpoint\ndata: /message?sessionId=...").
func (f *taskStatusFilter) learnSession(p []byte) {
	for _, line := range strings.Split(string(p), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || !strings.Contains(data, "sessionId=") {
			continue
		}
		if u, err := url.Parse(strings.TrimSpace(data)); err == nil {
			f.session = u.Query().Get("sessionId")
		}
	}
}

// othersTaskStatus reports whether p is a notifications/tasks/status event
// for a task this stream's session does not own. Anything else (a result
// that merely mentions the method name, say) passes.
func (f *taskStatusFilter) othersTaskStatus(p []byte) bool {
	for _, line := range bytes.Split(p, []byte("\n")) {
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			data = line
		}
		var n struct {
			Method string `json:"method"`
			Params struct {
				TaskID string `json:"taskId"`
			} `json:"params"`
		}
		if json.Unmarshal(bytes.TrimSpace(data), &n) != nil || n.Method != mcp.MethodNotificationTasksStatus {
			continue
		}
		owner, ok := f.owner(n.Params.TaskID)
		return !ok || f.session == "" || owner != f.session
	}
	return false
}

func (f *taskStatusFilter) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (f *taskStatusFilter) Unwrap() http.ResponseWriter { return f.ResponseWriter }
