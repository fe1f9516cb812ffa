package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/campaign"
	"github.com/byourside/bys-mcp/internal/safety"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state"
	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/schema"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
)

// campaignScale is the sandbox time scale of the campaign benchmark: a
// call (queued 1 s, dialing 2 s, in_progress 8 s) lasts 11 s / scale.
const campaignScale = 100

// BenchmarkCampaign50 runs a 50-call campaign (concurrency 5) against the
// embedded sandbox at a high time scale, on each state backend, and
// reports the API requests per call, the wall time against the ideal
// 50/concurrency call durations, the heap grown, and the store's saves per
// item.
//
//	go test -run XXX -bench Campaign50 -benchtime 3x ./test/bench/
func BenchmarkCampaign50(b *testing.B) {
	backends := []struct {
		name   string
		adjust func(b *testing.B, c *config.Config)
	}{
		{"memory", func(b *testing.B, c *config.Config) { c.StateDir = config.StateDirMemory }},
		{"file", func(b *testing.B, c *config.Config) { c.StateDir = b.TempDir() }},
		{"redis", func(b *testing.B, c *config.Config) { c.StateURL = redistest.Start(b).URL }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			const n, conc = 50, 5
			callDur := 11 * time.Second / campaignScale
			counter := &testkit.APIRecorder{}
			poll := tools.PollSchedule{Early: 800 * time.Millisecond / campaignScale, EarlyFor: time.Hour, Late: time.Second}
			a := testkit.SandboxApp(b, func(c *config.Config) {
				be.adjust(b, c)
				c.MaxCallsPerHour = 0
			}, testkit.QuietLogger(), app.Options{
				SandboxOptions: sandbox.Options{TimeScale: campaignScale, RateLimitPerMinute: -1, MinuteCap: -1},
				Poll:           &poll,
				WrapTransport:  counter.Transport,
			})
			c := inProcessClient(b, a)
			var wall time.Duration
			var saves, heap float64
			for i := 0; b.Loop(); i++ {
				var calls []any
				for k := range n {
					calls = append(calls, map[string]any{"to": fmt.Sprintf("+141555%02d100", k), "label": fmt.Sprintf("shop %d", k)})
				}
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				counter.Reset()
				start := time.Now()
				out := callTool(b, c, "place_calls", map[string]any{
					"objective": fmt.Sprintf("Ask for a quote (run %d).", i), "concurrency": conc, "calls": calls,
					"fields": []any{map[string]any{"name": "price", "type": "number"}},
				})
				id := out["campaignId"].(string)
				for {
					done := callTool(b, c, "wait_for_campaign", map[string]any{"campaignId": id, "timeoutSec": 60})
					if done["timedOut"] != true {
						if done["status"] != "completed" {
							b.Fatalf("campaign %v", done["status"])
						}
						break
					}
				}
				wall += time.Since(start)
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				heap += float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
				if counter.Posts() != n {
					b.Fatalf("%d POSTs for %d calls", counter.Posts(), n)
				}
				b.ReportMetric(float64(counter.Total())/n, "requests/call")
				b.ReportMetric(float64(counter.Gets())/n, "GETs/call")
				cm, err := a.Campaigns.Get(context.Background(), campaignKeyFP(), id)
				if err == nil {
					saves += float64(cm.Version) / n
				}
			}
			runs := float64(b.N)
			ideal := time.Duration(n/conc) * callDur
			b.ReportMetric(wall.Seconds()/runs, "wall-s")
			b.ReportMetric(ideal.Seconds(), "ideal-s")
			b.ReportMetric(wall.Seconds()/runs/ideal.Seconds(), "wall/ideal")
			b.ReportMetric(heap/runs, "heap-MB")
			b.ReportMetric(saves/runs, "saves/item")
		})
	}
}

func campaignKeyFP() string { return safety.KeyFingerprint(app.SandboxKey) }

// BenchmarkCampaignSave is the store's cost of one save of a 50-item
// campaign record (the runner saves a few times per item).
func BenchmarkCampaignSave(b *testing.B) {
	c := &campaign.Campaign{ID: campaign.NewID(), Status: schema.CampaignRunning, Deadline: time.Now().Add(time.Hour), CreatedAt: time.Now(), Concurrency: 5}
	for k := range 50 {
		sum := "The shop quoted a replacement with installation this week."
		c.Items = append(c.Items, &campaign.Item{Index: k, To: fmt.Sprintf("+141555%02d100", k), Objective: "Ask for a quote.", State: schema.ItemEnded, Status: "completed", CallID: fmt.Sprintf("%032d", k), Summary: sum, Extracted: map[string]any{"price": 1200}})
	}
	raw, _ := json.Marshal(c)
	stores := []struct {
		name string
		mk   func(b *testing.B) state.Records
	}{
		{"memory", func(b *testing.B) state.Records { return state.NewMemory() }},
		{"file", func(b *testing.B) state.Records { return state.NewFile(b.TempDir(), state.FileOptions{}) }},
		{"redis", func(b *testing.B) state.Records {
			r, err := state.NewRedis(context.Background(), redistest.Start(b).URL, state.RedisOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { r.Close() })
			return r
		}},
	}
	for _, s := range stores {
		b.Run(s.name, func(b *testing.B) {
			r := s.mk(b)
			b.ReportMetric(float64(len(raw)), "record-bytes")
			for b.Loop() {
				if err := r.PutRecord(context.Background(), "campaign", c.ID, raw, time.Hour, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func callTool(b *testing.B, c interface {
	CallTool(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error)
}, name string, args map[string]any) map[string]any {
	b.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if res.IsError {
		b.Fatalf("%s: %s", name, strings.TrimSpace(fmt.Sprint(m)))
	}
	return m
}
