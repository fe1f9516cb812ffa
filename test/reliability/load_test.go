package reliability_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/testkit"
)

// histogram records latencies in buckets 5 % apart (from 10 µs), so that a
// soak of millions of requests needs constant memory.
type histogram struct {
	mu      sync.Mutex
	buckets [400]int64
	n       int64
	max     time.Duration
}

const histBase = 10 * time.Microsecond

func (h *histogram) add(d time.Duration) {
	i := 0
	if d > histBase {
		i = int(math.Log(float64(d)/float64(histBase)) / math.Log(1.05))
	}
	i = min(i, len(h.buckets)-1)
	h.mu.Lock()
	h.buckets[i]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

// quantile returns the upper edge of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	want := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.buckets {
		seen += c
		if seen >= want {
			return time.Duration(float64(histBase) * math.Pow(1.05, float64(i+1)))
		}
	}
	return h.max
}

// memSnapshot is the process's memory and goroutines at one moment.
type memSnapshot struct {
	goroutines int    // live goroutines, without logrus writer scanners
	logWriters int    // logrus writer scanners (one per server instance built)
	heapAlloc  uint64 // bytes, after a GC
	rss        uint64 // bytes, from /proc/self/status (0 when unknown)
}

func snapshot() memSnapshot {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n, w := liveGoroutines()
	return memSnapshot{goroutines: n, logWriters: w, heapAlloc: ms.HeapAlloc, rss: rss()}
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// loadResult is what one load run measured.
type loadResult struct {
	clients             int
	duration            time.Duration
	requests, failures  int64
	placed              int64
	p50, p99, max       time.Duration
	before, peak, after memSnapshot
	firstFailures       []string
}

func (r loadResult) String() string {
	return fmt.Sprintf("load: %d clients for %v: %d requests (%.0f/s), %d failed, %d calls placed; latency p50 %v, p99 %v, max %v; "+
		"goroutines before %d, peak %d, after %d (+%d logrus writer left by the server instance); heap before %s, peak %s, after %s; RSS before %s, peak %s, after %s",
		r.clients, r.duration.Round(time.Second), r.requests, float64(r.requests)/r.duration.Seconds(), r.failures, r.placed,
		r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.max.Round(10*time.Microsecond),
		r.before.goroutines, r.peak.goroutines, r.after.goroutines, r.after.logWriters-r.before.logWriters,
		mib(r.before.heapAlloc), mib(r.peak.heapAlloc), mib(r.after.heapAlloc),
		mib(r.before.rss), mib(r.peak.rss), mib(r.after.rss))
}

// runLoad drives a Streamable HTTP server (against the sandbox) with
// clients concurrent mcp-go clients, each with its own key, for d: a mix of
// place_call (1 in 10), get_call and list_calls. The server is started and
// stopped inside; the result's "after" is measured once it is gone.
func runLoad(t *testing.T, clients int, d time.Duration) loadResult {
	res := loadResult{clients: clients}
	res.before = snapshot()
	var (
		hist                   histogram
		requests, fails, place atomic.Int64
		mu                     sync.Mutex
	)
	t.Run("run", func(t *testing.T) {
		h := serveHTTP(t, "http", func(c *config.Config) { c.DedupeWindow = 0 })
		tr := &http.Transport{MaxIdleConnsPerHost: clients, IdleConnTimeout: 30 * time.Second}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		deadline := time.Now().Add(d)
		start := time.Now()
		stopSampling := make(chan struct{})
		sampled := make(chan memSnapshot, 1)
		go func() {
			var peak memSnapshot
			tick := time.NewTicker(max(d/10, 500*time.Millisecond))
			defer tick.Stop()
			for {
				select {
				case <-stopSampling:
					sampled <- peak
					return
				case <-tick.C:
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak.goroutines = max(peak.goroutines, runtime.NumGoroutine())
					peak.heapAlloc = max(peak.heapAlloc, ms.HeapAlloc)
					peak.rss = max(peak.rss, rss())
				}
			}
		}()
		fail := func(msg string) {
			fails.Add(1)
			mu.Lock()
			if len(res.firstFailures) < 10 {
				res.firstFailures = append(res.firstFailures, msg)
			}
			mu.Unlock()
		}
		var wg sync.WaitGroup
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("bys_ak_load_client_%d", i)
				c, err := newStreamableClient(h.URL, key, hc)
				if err != nil {
					fail(fmt.Sprintf("client %d connect: %v", i, err))
					return
				}
				defer c.Close()
				var ids []string
				for n := 0; time.Now().Before(deadline) && n < 10_000_000; n++ {
					var tool string
					var args map[string]any
					switch {
					case n%10 == 0 || len(ids) == 0:
						tool, args = "place_call", placeArgs(fmt.Sprintf("Load client %d request %d: confirm the appointment.", i, n))
					case n%2 == 0:
						tool, args = "get_call", map[string]any{"callId": ids[n%len(ids)]}
					default:
						tool, args = "list_calls", map[string]any{"limit": 20}
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					t0 := time.Now()
					r, err := callTool(ctx, c, tool, args)
					el := time.Since(t0)
					cancel()
					requests.Add(1)
					hist.add(el)
					switch {
					case err != nil:
						fail(fmt.Sprintf("client %d %s: %v", i, tool, err))
						continue
					case r.IsError:
						fail(fmt.Sprintf("client %d %s: %s", i, tool, truncate(testkit.TextOf(r), 200)))
						continue
					}
					if tool == "place_call" {
						place.Add(1)
						if id, _ := structured(r)["callId"].(string); id != "" && len(ids) < 100 {
							ids = append(ids, id)
						}
					}
				}
			}()
		}
		wg.Wait()
		res.duration = time.Since(start)
		close(stopSampling)
		res.peak = <-sampled
		if _, err := h.Stop(t); err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
		tr.CloseIdleConnections()
	})
	res.requests, res.failures, res.placed = requests.Load(), fails.Load(), place.Load()
	res.p50, res.p99, res.max = hist.quantile(0.50), hist.quantile(0.99), hist.max
	settleGoroutines(res.before.goroutines, 0, 15*time.Second)
	res.after = snapshot()
	return res
}

// checkLoad asserts correctness only (no timing): zero failed requests and
// goroutines back to their baseline.
func checkLoad(t *testing.T, r loadResult) {
	t.Helper()
	fmt.Println(r.String())
	t.Log(r.String())
	if r.requests == 0 {
		t.Errorf("no requests were served")
	}
	if r.failures != 0 {
		t.Errorf("%d of %d requests failed; first: %s", r.failures, r.requests, strings.Join(r.firstFailures, "\n"))
	}
	if r.after.goroutines > r.before.goroutines {
		t.Errorf("goroutines did not return to the baseline %d (now %d):\n%s", r.before.goroutines, r.after.goroutines, truncate(goroutineDump(), 20000))
	}
}

// TestLoadShort is the regression version of the soak that runs in every
// `go test`: 16 clients for 5 s, correctness only.
func TestLoadShort(t *testing.T) {
	d := 5 * time.Second
	if testing.Short() {
		d = 2 * time.Second
	}
	checkLoad(t, runLoad(t, 16, d))
}

// TestSoak is the long version, run by scripts/soak: BYS_SOAK=1 enables it;
// BYS_SOAK_DURATION (default 3m) and BYS_SOAK_CLIENTS (default 64) size it.
// Besides TestLoadShort's checks, the heap after the run must be within
// 32 MiB of the heap before it.
func TestSoak(t *testing.T) {
	if os.Getenv("BYS_SOAK") != "1" {
		t.Skip("soak test: set BYS_SOAK=1 to run it (scripts/soak does), optionally BYS_SOAK_DURATION=3m BYS_SOAK_CLIENTS=64")
	}
	d := 3 * time.Minute
	if v := os.Getenv("BYS_SOAK_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 || d > 2*time.Hour {
			t.Fatalf("BYS_SOAK_DURATION=%q: use a Go duration up to 2h", v)
		}
	}
	clients := 64
	if v := os.Getenv("BYS_SOAK_CLIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1024 {
			t.Fatalf("BYS_SOAK_CLIENTS=%q: use 1 to 1024", v)
		}
		clients = n
	}
	r := runLoad(t, clients, d)
	checkLoad(t, r)
	if r.after.heapAlloc > r.before.heapAlloc+32<<20 {
		t.Errorf("heap after the soak %s, before %s: more than 32 MiB retained", mib(r.after.heapAlloc), mib(r.before.heapAlloc))
	}
}
