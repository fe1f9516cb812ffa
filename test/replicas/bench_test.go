package replicas_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/state/redistest"
	"github.com/byourside/bys-mcp/internal/testkit"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/sirupsen/logrus"
)

// BenchmarkPlaceCall measures place_call through the MCP server (in-process
// client, embedded sandbox without rate limit, so the API costs almost
// nothing) with in-memory state and with Redis state, so the cost of sharing
// is known. Sub-benchmarks:
//
//	new:      a distinct call each time (claim, budget reserve, POST, finish)
//	dedupe:   the same call again (claim finds the entry, GET of the earlier call)
//	parallel: distinct calls from GOMAXPROCS goroutines (throughput)
//
// Each reports p50 and p99 latency in µs and calls/s.
//
//	go test -run '^$' -bench PlaceCall -benchtime 2000x ./test/replicas/
func BenchmarkPlaceCall(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			stateURL := ""
			if backend == "redis" {
				stateURL = redistest.Start(b).URL
			}
			b.Run("new", func(b *testing.B) {
				c := benchClient(b, stateURL)
				var n atomic.Int64
				runLatency(b, func() error {
					return placeOnce(c, fmt.Sprintf("Bench new call %d", n.Add(1)), false)
				})
			})
			b.Run("dedupe", func(b *testing.B) {
				c := benchClient(b, stateURL)
				if err := placeOnce(c, "Bench identical call", false); err != nil {
					b.Fatal(err)
				}
				runLatency(b, func() error { return placeOnce(c, "Bench identical call", true) })
			})
			b.Run("parallel", func(b *testing.B) {
				c := benchClient(b, stateURL)
				var n atomic.Int64
				var mu sync.Mutex
				var lat []time.Duration
				b.ResetTimer()
				began := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					var mine []time.Duration
					for pb.Next() {
						t0 := time.Now()
						if err := placeOnce(c, fmt.Sprintf("Bench parallel call %d", n.Add(1)), false); err != nil {
							b.Error(err)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				report(b, lat, time.Since(began))
			})
		})
	}
}

func runLatency(b *testing.B, op func() error) {
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	began := time.Now()
	for range b.N {
		t0 := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	report(b, lat, time.Since(began))
}

func report(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
}

// benchClient builds an app (embedded sandbox, no rate or minute limits,
// plenty of calls kept) with the given state and an in-process client of it.
func benchClient(b *testing.B, stateURL string) *mcpclient.Client {
	b.Helper()
	a := testkit.SandboxApp(b, func(cfg *config.Config) {
		cfg.Transport = "http" // metrics on, as in a real replica
		cfg.StateURL = stateURL
		cfg.LogLevel = "error"
		cfg.MaxCallsPerHour = 1_000_000 // the budget path runs too, as in production
	}, testkit.NewLogger(io.Discard, logrus.ErrorLevel), app.Options{SandboxOptions: sandbox.Options{
		TimeScale: 1, RateLimitPerMinute: -1, MinuteCap: -1, MaxCallsPerKey: 1 << 20}})
	return testkit.InProcessClient(b, a, "bench", "")
}

func placeOnce(c *mcpclient.Client, objective string, wantDedupe bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "place_call"
	req.Params.Arguments = placeArgs("+14155550123", objective)
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("place_call: %v", res.Content)
	}
	m, _ := res.StructuredContent.(map[string]any)
	if d, _ := m["deduplicated"].(bool); m != nil && d != wantDedupe {
		return fmt.Errorf("deduplicated = %v, want %v", d, wantDedupe)
	}
	return nil
}
