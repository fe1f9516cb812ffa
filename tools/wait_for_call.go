package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/schema"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// WaitForCall returns the wait_for_call tool: it follows a call until its
// status is terminal or the timeout passes, with progress notifications.
func WaitForCall(d *Deps) (mcp.Tool, server.ToolHandlerFunc) {
	maxWait := d.Limits.MaxWaitSec
	tool := newTool("wait_for_call", "Wait for a call to finish",
		fmt.Sprintf("Wait until a call placed with place_call has ended, then return its final record: status, summary, transcript and the extracted field values. "+
			"Returns as soon as the status is terminal (completed, no_answer, voicemail, declined or failed). "+
			"For a long transcript, read it in parts with transcriptMaxChars and transcriptOffset (transcriptMaxChars 0 leaves it out). "+
			"If timeoutSec (default %d, at most %d) passes first, it returns the latest record with timedOut: true; this is not an error, call wait_for_call again with the same callId to keep waiting. "+
			"When the request carries a progress token, sends progress notifications on each status change and at least every 15 s (progress = seconds waited, total = timeoutSec). Waiting never affects the call itself.",
			min(schema.DefaultWaitSec, maxWait), maxWait),
		d.Schemas.WaitForCall, readOnly)
	d.followHub()
	return tool, func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		in, terr := decodeArgs[schema.WaitForCallInput](req, "callId, timeoutSec, transcriptMaxChars, transcriptOffset")
		if terr == nil {
			terr = validateCallID(in.CallID)
		}
		var window transcriptWindow
		if terr == nil {
			window, terr = readTranscriptWindow(in.TranscriptMaxChars, in.TranscriptOffset)
		}
		timeout := in.TimeoutSec
		if v, given := req.GetArguments()["timeoutSec"]; !given || v == nil { // null counts as left out, as for place_call
			timeout = min(schema.DefaultWaitSec, maxWait)
		} else if terr == nil && (timeout < 1 || timeout > maxWait) {
			terr = invalidArgument("argument \"timeoutSec\" must be between 1 and %d seconds (got %d); to wait longer, call wait_for_call again after it returns", maxWait, timeout)
		}
		if terr != nil {
			return fail(ctx, terr), nil
		}
		noteCallID(ctx, in.CallID)
		c, terr := d.clientFor(ctx)
		if terr != nil {
			return fail(ctx, terr), nil
		}
		limit := time.Duration(timeout) * time.Second
		if req.Params.Task != nil && d.Tasks != nil {
			// Run as a task: wait until the call is terminal, not until
			// timeoutSec, bounded by the task's TTL.
			taskCtx, release, res, err := d.attachTask(ctx, req)
			if res != nil || err != nil {
				return res, err
			}
			defer release()
			ctx, limit = taskCtx, 0
		}
		w := waiter{deps: d, client: c, keyFP: d.keyFP(ctx), progress: newProgress(ctx, d.Clock, req, d.ProgressInterval, limit)}
		defer w.progress.flush(ctx)
		call, timedOut, err := w.wait(ctx, in.CallID, limit)
		if err != nil && errors.Is(context.Cause(ctx), ErrServerStopping) {
			// Shutting down: hand back what is known, to be followed
			// elsewhere; the call itself goes on.
			if w.latest != nil {
				res, cut := waitResultCut(w.latest, true, window, d.now())
				res.Content = []mcp.Content{mcp.NewTextContent(fmt.Sprintf("The server is shutting down, so the wait stopped (the call goes on). Call wait_for_call again with callId %s to keep waiting.\n%s", in.CallID, renderCallCut(w.latest, cut, d.now())))}
				return res, nil
			}
			return fail(ctx, newToolError("server_stopping", nil, true, "the server is shutting down; call wait_for_call again in a moment (the call itself goes on)")), nil
		}
		if err != nil {
			if req.Params.Task != nil && d.Tasks != nil {
				switch {
				case errors.Is(ctx.Err(), context.DeadlineExceeded) && w.latest != nil:
					// The task's TTL ended the wait: hand back the latest record.
					return waitResult(w.latest, true, window, d.now()), nil
				case errors.Is(ctx.Err(), context.Canceled):
					// tasks/cancel: mcp-go records the task as cancelled.
					return nil, context.Canceled
				}
			}
			return fail(ctx, errorFromAPI(err, false)), nil
		}
		noteStatus(ctx, call.Status)
		res := waitResult(call, timedOut, window, d.now())
		d.addRecordingLink(ctx, call, res)
		return res, nil
	}
}

// waitResult is wait_for_call's result: the record, its transcript
// windowed as asked, plus timedOut.
func waitResult(call *client.Call, timedOut bool, window transcriptWindow, now time.Time) *mcp.CallToolResult {
	res, _ := waitResultCut(call, timedOut, window, now)
	return res
}

func waitResultCut(call *client.Call, timedOut bool, window transcriptWindow, now time.Time) (*mcp.CallToolResult, *transcriptCut) {
	rec := recordMap(call)
	cut := window.apply(rec)
	rec["timedOut"] = timedOut
	text := renderCallCut(call, cut, now)
	if timedOut {
		hint := fmt.Sprintf("The call is still %s; call wait_for_call again with callId %s to keep waiting.", call.Status, call.ID)
		rec["hint"] = hint
		text = "Timed out waiting (not an error). " + hint + "\n" + text
	}
	return structuredResult(rec, text), cut
}

// waiter follows one call through the process's shared follower
// (follow.Hub), reporting status changes.
type waiter struct {
	deps     *Deps
	client   *client.Client
	keyFP    string
	progress *progress
	latest   *client.Call
}

// waitGrace is how far past timeoutSec a wait may run while one last
// request to the API finishes.
const waitGrace = 3 * time.Second

// wait follows the call until it is terminal (timedOut false), until limit
// passes (timedOut true, latest record, after one last look), or until ctx
// ends (error). A limit of 0 (a task) means no limit other than ctx; then
// errors that may pass (time-outs, 5xx, rate limiting) do not end the wait.
// The requests are the follower's, shared with every other waiter on the
// call under the same key; leaving never stops them for the others.
func (w *waiter) wait(ctx context.Context, id string, limit time.Duration) (*client.Call, bool, error) {
	sub := w.deps.followHub().Follow(w.keyFP, w.client, id)
	defer sub.Close()
	var deadline <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	var seen uint64
	// take reads the latest update: done with the terminal record, or with
	// an error that ends the wait.
	take := func() (done bool, err error) {
		u := sub.Latest()
		if u.Seq == seen && seen != 0 {
			return false, nil
		}
		seen = u.Seq
		if u.Err == nil {
			if u.Call != nil {
				w.latest = u.Call
				w.progress.status(ctx, u.Call)
				if u.Call.Terminal() {
					w.progress.flush(ctx)
					return true, nil
				}
			}
			return false, nil
		}
		if limit == 0 && client.Retryable(u.Err) && !u.Final {
			w.deps.Log.WithError(u.Err).Debug("wait_for_call task: transient API error, polling on")
			return false, nil
		}
		return true, u.Err
	}
	for {
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-sub.C():
			if done, err := take(); done {
				if err != nil {
					return nil, false, err
				}
				return w.latest, false, nil
			}
		case <-deadline:
			// One last look, so the record returned is as fresh as it can be.
			before := seen
			coming := sub.Refresh()
			grace := time.NewTimer(waitGrace)
		look:
			for coming && seen == before {
				select {
				case <-ctx.Done():
					grace.Stop()
					return nil, false, ctx.Err()
				case <-grace.C:
					break look
				case <-sub.C():
					if done, err := take(); done {
						if err == nil {
							grace.Stop()
							return w.latest, false, nil
						}
						if w.latest == nil {
							// No record at all: the API's answer is the error.
							grace.Stop()
							return nil, false, err
						}
					}
				}
			}
			grace.Stop()
			if done, err := take(); done {
				if err == nil {
					return w.latest, false, nil
				}
				if w.latest == nil {
					return nil, false, err
				}
			}
			w.progress.flush(ctx)
			if w.latest == nil {
				return nil, false, context.DeadlineExceeded
			}
			return w.latest, true, nil
		}
	}
}
