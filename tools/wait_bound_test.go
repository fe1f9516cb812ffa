package tools_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/tools"
)

// An API that stops answering mid-wait must not hold wait_for_call far past
// its timeoutSec: the wait returns the latest record with timedOut true.
func TestWaitIsBoundedByTimeoutEvenWhenTheAPIHangs(t *testing.T) {
	sb := sandbox.New(sandbox.Options{TimeScale: 50})
	var hang atomic.Bool
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() && r.Method == http.MethodGet {
			<-r.Context().Done()
			return
		}
		sb.ServeHTTP(w, r)
	})
	deps, _ := directDepsWith(t, api)
	_, place := tools.PlaceCall(deps)
	placed := callDirect(t, context.Background(), place, map[string]any{"to": "+14155550007", "objective": "Never ends"})
	callID := structured(t, placed)["callId"].(string)
	_, wait := tools.WaitForCall(deps)
	go func() { time.Sleep(150 * time.Millisecond); hang.Store(true) }()
	start := time.Now()
	res := callDirect(t, context.Background(), wait, map[string]any{"callId": callID, "timeoutSec": 1})
	elapsed := time.Since(start)
	if elapsed > 1*time.Second+5*time.Second {
		t.Fatalf("wait_for_call with timeoutSec 1 took %s against a hanging API", elapsed)
	}
	sc := structured(t, res)
	if res.IsError || sc["timedOut"] != true || !strings.Contains(sc["id"].(string), callID) {
		t.Fatalf("got %v, want the latest record with timedOut true", sc)
	}
}
