package mcpserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Tasks (MCP 2025-11-25) for wait_for_call, offered to 2025-11-25 clients
// only: 2026-07-28 requests see no tasks capability and no execution field,
// their params.task is dropped and their tasks/* refused (see Filter).

// DefaultMaxTasksPerSession bounds concurrent tasks of one session.
const DefaultMaxTasksPerSession = 16

// correlationKey is the _meta key that links a tools/call request to the
// task mcp-go creates for it (handlers do not see their task id).
const correlationKey = "bys-mcp/task-correlation"

// TaskOptions configure tasks.
type TaskOptions struct {
	// MaxTTL caps a task's life and is the TTL applied when the client
	// gives none (so finished tasks are always cleaned up).
	MaxTTL             time.Duration
	MaxTasksPerSession int
	// keepRequestContext turns off the workaround for mcp-go issue 897, so
	// that a test can check that the library bug is still there.
	keepRequestContext bool
	detach             bool
}

// taskRunner implements tools.TaskRunner and links mcp-go's tasks to our
// work through hooks.
type taskRunner struct {
	opts TaskOptions

	// owners maps every task id to the session that created it, for as long
	// as the task can exist, so that no task id reaches another session.
	owners sync.Map

	mu        sync.Mutex
	pending   map[context.Context]string // tools/call request ctx -> correlation
	byCorr    map[string]*taskWork
	byTask    map[string]*taskWork
	bySession map[string]int
}

type taskWork struct {
	corr    string
	taskID  string
	session string
	cancel  context.CancelFunc
}

func newTaskRunner(o TaskOptions) *taskRunner {
	if o.MaxTTL <= 0 {
		o.MaxTTL = 30 * time.Minute
	}
	if o.MaxTasksPerSession <= 0 {
		o.MaxTasksPerSession = DefaultMaxTasksPerSession
	}
	o.detach = !o.keepRequestContext
	return &taskRunner{opts: o, pending: map[context.Context]string{}, byCorr: map[string]*taskWork{}, byTask: map[string]*taskWork{}, bySession: map[string]int{}}
}

// serverOptions declares the tasks capability and registers the hooks.
func (t *taskRunner) serverOptions(hooks *server.Hooks) []server.ServerOption {
	th := &server.TaskHooks{}
	th.AddOnTaskCreated(t.created)
	th.AddOnTaskCompleted(t.ended)
	th.AddOnTaskFailed(t.ended)
	th.AddOnTaskCancelled(t.ended)
	hooks.AddBeforeCallTool(t.beforeCall)
	hooks.AddAfterCancelTask(t.cancelled)
	return []server.ServerOption{
		server.WithTaskCapabilities(true, true, true),
		server.WithTaskHooks(th),
	}
}

// beforeCall applies the TTL rules to a task-augmented wait_for_call and
// tags the request so that the handler can find its task.
func (t *taskRunner) beforeCall(ctx context.Context, _ any, msg *mcp.CallToolRequest) {
	if msg.Params.Task == nil || (msg.Params.Name != "wait_for_call" && msg.Params.Name != "wait_for_campaign") || server.IsModernRequest(ctx) {
		return
	}
	maxMs := t.opts.MaxTTL.Milliseconds()
	if ttl := msg.Params.Task.TTL; ttl == nil || *ttl <= 0 || *ttl > maxMs {
		msg.Params.Task.TTL = &maxMs
	}
	corr := randomID()
	if msg.Params.Meta == nil {
		msg.Params.Meta = &mcp.Meta{}
	}
	if msg.Params.Meta.AdditionalFields == nil {
		msg.Params.Meta.AdditionalFields = map[string]any{}
	}
	msg.Params.Meta.AdditionalFields[correlationKey] = corr
	t.mu.Lock()
	t.pending[ctx] = corr
	t.mu.Unlock()
	// Drop the link if no task is created for this request.
	go func() {
		<-ctx.Done()
		t.mu.Lock()
		delete(t.pending, ctx)
		t.mu.Unlock()
	}()
}

// created links the task mcp-go just created to the request's correlation.
func (t *taskRunner) created(ctx context.Context, m server.TaskMetrics) {
	t.owners.Store(m.TaskID, m.SessionID)
	time.AfterFunc(t.opts.MaxTTL+10*time.Minute, func() { t.owners.Delete(m.TaskID) })
	t.mu.Lock()
	defer t.mu.Unlock()
	corr, ok := t.pending[ctx]
	if !ok {
		return
	}
	delete(t.pending, ctx)
	w := &taskWork{corr: corr, taskID: m.TaskID, session: m.SessionID}
	t.byCorr[corr] = w
	t.byTask[m.TaskID] = w
}

// ended forgets a finished task's links, also when its handler stopped
// before Attach (bad arguments, no key).
func (t *taskRunner) ended(_ context.Context, m server.TaskMetrics) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w := t.byTask[m.TaskID]; w != nil {
		delete(t.byCorr, w.corr)
		if w.cancel == nil {
			delete(t.byTask, m.TaskID)
		}
	}
}

// sizes reports the bookkeeping sizes (tests).
func (t *taskRunner) sizes() (pending, byCorr, byTask int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending), len(t.byCorr), len(t.byTask)
}

// cancelled stops the work of a task that tasks/cancel cancelled (the call
// itself is never touched).
func (t *taskRunner) cancelled(_ context.Context, _ any, msg *mcp.CancelTaskRequest, _ *mcp.CancelTaskResult) {
	t.mu.Lock()
	w := t.byTask[msg.Params.TaskId]
	t.mu.Unlock()
	if w != nil && w.cancel != nil {
		w.cancel()
	}
}

// Attach implements tools.TaskRunner.
func (t *taskRunner) Attach(ctx context.Context, req mcp.CallToolRequest) (context.Context, func(), error) {
	var corr string
	if req.Params.Meta != nil {
		corr, _ = req.Params.Meta.AdditionalFields[correlationKey].(string)
	}
	t.mu.Lock()
	w := t.byCorr[corr]
	if w == nil {
		t.mu.Unlock()
		return nil, nil, &tools.TaskError{Token: "task_unavailable", Hint: "this wait could not be linked to its task: call wait_for_call without a task, or retry"}
	}
	delete(t.byCorr, corr)
	if t.bySession[w.session] >= t.opts.MaxTasksPerSession {
		t.mu.Unlock()
		return nil, nil, &tools.TaskError{Token: "too_many_tasks", Hint: "this session already runs its maximum of tasks: wait for one to finish or cancel one with tasks/cancel, then retry"}
	}
	t.bySession[w.session]++
	// Workaround for mcp-go issue 897 (fix proposed in PR 900): mcp-go runs
	// a task under the tools/call request's context, which ends as soon as
	// the task handle is sent, so the task would be cancelled at once.
	// Detach the work from it; tasks/cancel (cancelled above) and the TTL
	// end it instead. Delete this once the fix is released:
	// TestTaskLibraryBug897 fails when the library no longer needs it.
	base := ctx
	if t.opts.detach {
		base = context.WithoutCancel(ctx)
	}
	ttl := t.opts.MaxTTL
	if req.Params.Task != nil && req.Params.Task.TTL != nil && *req.Params.Task.TTL > 0 {
		ttl = min(ttl, time.Duration(*req.Params.Task.TTL)*time.Millisecond)
	}
	work, cancel := context.WithTimeout(base, ttl)
	w.cancel = cancel
	t.mu.Unlock()
	release := func() {
		cancel()
		t.mu.Lock()
		defer t.mu.Unlock()
		t.bySession[w.session]--
		if t.bySession[w.session] <= 0 {
			delete(t.bySession, w.session)
		}
		delete(t.byTask, w.taskID)
	}
	return work, release, nil
}

// owner returns the session that created a task.
func (t *taskRunner) owner(taskID string) (string, bool) {
	v, ok := t.owners.Load(taskID)
	if !ok {
		return "", false
	}
	return v.(string), true
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// modernView hides task support from 2026-07-28 requests: no execution
// field on tools.
func modernView(ctx context.Context, list []mcp.Tool) []mcp.Tool {
	if !server.IsModernRequest(ctx) {
		return list
	}
	out := make([]mcp.Tool, len(list))
	for i, tool := range list {
		tool.Execution = nil
		out[i] = tool
	}
	return out
}
