// Command report reads the raw outputs of scripts/bench (cold start,
// go test -bench, wait figures, memory probe) from a directory and prints
// one table: medians over the repeated runs, with the issue-7 targets.
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// values[key] collects every observation of key across runs.
var values = map[string][]float64{}

func add(key string, v float64) { values[key] = append(values[key], v) }

func med(key string) (float64, bool) {
	v := values[key]
	if len(v) == 0 {
		return 0, false
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	for _, f := range files {
		parse(f)
	}
	print()
}

// parse reads benchmark lines ("BenchmarkX-2 N v unit v unit ...") and
// "KEYWORD k=v k=v" lines (RESULT, WAIT, MEM).
func parse(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(fs[0], "Benchmark") && len(fs) >= 4:
			name := fs[0]
			if i := strings.LastIndexByte(name, '-'); i > 0 {
				name = name[:i]
			}
			for i := 2; i+1 < len(fs); i += 2 {
				if v, err := strconv.ParseFloat(fs[i], 64); err == nil {
					add(name+" "+fs[i+1], v)
				}
			}
		case fs[0] == "RESULT" || fs[0] == "WAIT" || fs[0] == "MEM":
			prefix := fs[0]
			if fs[0] == "RESULT" || fs[0] == "MEM" {
				prefix += " " + fs[1]
			}
			for _, kv := range fs[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					continue
				}
				if x, err := strconv.ParseFloat(v, 64); err == nil {
					if k == "kind" {
						continue
					}
					add(prefix+" "+k, x)
				} else if k == "kind" {
					prefix = "MEM sessions " + v
				}
			}
		}
	}
}

type row struct{ what, value, target, met string }

func print() {
	var rows []row
	ok := func(b bool, have bool) string {
		if !have {
			return "n/a"
		}
		if b {
			return "yes"
		}
		return "NO"
	}
	f := func(key string) (float64, bool) { return med(key) }

	// 1. cold start
	var coldKey string
	for k := range values {
		if strings.HasPrefix(k, "RESULT bys-mcp ") {
			coldKey = "RESULT bys-mcp "
		}
	}
	if coldKey != "" {
		m, _ := f(coldKey + "median_ms")
		p90, _ := f(coldKey + "p90_ms")
		fl, _ := f(coldKey + "floor_median_ms")
		d, _ := f(coldKey + "diff_median_ms")
		pd, _ := f(coldKey + "paired_diff_p50_ms")
		rows = append(rows, row{"1 cold start, spawn -> initialize (stdio), bys-mcp --sandbox", fmt.Sprintf("median %.2f ms (p90 %.2f), floor %.2f ms", m, p90, fl), "", ""})
		rows = append(rows, row{"1 cold start above the bare mcp-go floor", fmt.Sprintf("%+.2f ms (paired p50 %+.2f)", d, pd), "<= 3 ms", ok(d <= 3, true)})
		for k := range values {
			if strings.HasPrefix(k, "RESULT ") && strings.HasSuffix(k, " diff_median_ms") && !strings.HasPrefix(k, coldKey) {
				name := strings.TrimSuffix(strings.TrimPrefix(k, "RESULT "), " diff_median_ms")
				d, _ := f(k)
				m, _ := f("RESULT " + name + " median_ms")
				rows = append(rows, row{"1 variant: " + name, fmt.Sprintf("median %.2f ms, %+.2f ms vs floor", m, d), "", ""})
			}
		}
	}
	// 2. overhead
	ov := "BenchmarkGetCallOverhead "
	if d, have := f(ov + "direct-p50-ns"); have {
		d99, _ := f(ov + "direct-p99-ns")
		rows = append(rows, row{"2 direct GET to the sandbox (baseline)", fmt.Sprintf("p50 %.3f ms, p99 %.3f ms", d/1e6, d99/1e6), "", ""})
		for _, p := range []string{"stdio", "http", "inprocess"} {
			o50, _ := f(ov + p + "-overhead-p50-ns")
			o99, _ := f(ov + p + "-overhead-p99-ns")
			t, m := "", ""
			if p == "stdio" {
				t, m = "p50 <= 0.3 ms", ok(o50 <= 0.3e6, true)
			}
			rows = append(rows, row{"2 get_call overhead, " + p, fmt.Sprintf("p50 %.3f ms, p99 %.3f ms", o50/1e6, o99/1e6), t, m})
		}
	}
	// 3. throughput
	for _, v := range []string{"loopback", "embedded"} {
		if c, have := f("BenchmarkThroughput/" + v + " calls/s"); have {
			t, m := "", ""
			if v == "loopback" {
				t, m = ">= 5000 calls/s", ok(c >= 5000, true)
			}
			cpu, _ := f("BenchmarkThroughput/" + v + " cpu-us/call")
			free, _ := f("BenchmarkThroughput/" + v + " calls/s-at-2-free-cores")
			rows = append(rows, row{"3 throughput, 32 clients, Streamable HTTP, sandbox " + v, fmt.Sprintf("%.0f calls/s (%.0f us CPU/call incl. clients+sandbox; %.0f/s if 2 cores were free)", c, cpu, free), t, m})
		}
	}
	// 4. memory
	for _, v := range []string{"stdio_calls", "http_calls"} {
		if p, have := f("MEM " + v + " peak_rss_kb"); have {
			rows = append(rows, row{"4 peak RSS after 10,000 get_call, " + strings.TrimSuffix(v, "_calls"), fmt.Sprintf("%.1f MB", p/1024), "<= 40 MB", ok(p/1024 <= 40, true)})
		}
	}
	for _, v := range []string{"http", "http+stream", "sse"} {
		if p, have := f("MEM sessions " + v + " per_session_kb"); have {
			label := map[string]string{"http": "Streamable HTTP (session only)", "http+stream": "Streamable HTTP with its GET stream open", "sse": "SSE (stream open)"}[v]
			rows = append(rows, row{"4 RSS per idle session, 1,000 held: " + label, fmt.Sprintf("%.1f KB", p), "<= 100 KB", ok(p <= 100, true)})
		}
	}
	// 5. wait_for_call
	if r, have := f("WAIT requests_per_min_after_10s"); have {
		e, _ := f("WAIT early_delay_max_ms")
		e50, _ := f("WAIT early_delay_p50_ms")
		l, _ := f("WAIT late_delay_max_ms")
		l50, _ := f("WAIT late_delay_p50_ms")
		rows = append(rows, row{"5 wait_for_call API requests/min after 10 s (fake clock)", fmt.Sprintf("%.1f", r), "<= 30", ok(r <= 30, true)})
		rows = append(rows, row{"5 change seen, first 10 s (fake clock, 58 offsets)", fmt.Sprintf("max %.0f ms (p50 %.0f)", e, e50), "<= 1 s", ok(e <= 1000, true)})
		rows = append(rows, row{"5 change seen, after 10 s (fake clock, 289 offsets)", fmt.Sprintf("max %.0f ms (p50 %.0f)", l, l50), "<= 2.5 s", ok(l <= 2500, true)})
	}
	if r, have := f("BenchmarkWaitForCall req/min-after-10s"); have {
		e, _ := f("BenchmarkWaitForCall early-delay-ms")
		l, _ := f("BenchmarkWaitForCall late-delay-ms")
		rows = append(rows, row{"5 real time (65 s, in-process client, loopback API)", fmt.Sprintf("%.1f req/min; seen after %.0f ms (4.3 s) and %.0f ms (63.7 s)", r, e, l), "<= 30; <= 1 s; <= 2.5 s", ok(r <= 30 && e <= 1000 && l <= 2500, true)})
	}
	// 6. allocations
	for _, t := range []string{"get_call", "place_call"} {
		s, have := f("BenchmarkAllocs/" + t + "/server allocs/op")
		if !have {
			continue
		}
		a, _ := f("BenchmarkAllocs/" + t + "/api allocs/op")
		sb, _ := f("BenchmarkAllocs/" + t + "/server B/op")
		ab, _ := f("BenchmarkAllocs/" + t + "/api B/op")
		sn, _ := f("BenchmarkAllocs/" + t + "/server ns/op")
		an, _ := f("BenchmarkAllocs/" + t + "/api ns/op")
		rows = append(rows, row{"6 " + t + " server-side, no socket (bys-mcp = server - sandbox)", fmt.Sprintf("%.0f allocs, %.0f B, %.1f us (sandbox alone %.0f allocs, %.0f B, %.1f us)", s, sb, sn/1e3, a, ab, an/1e3), "reported", ""})
	}
	for _, p := range []string{"direct", "inprocess", "stdio", "http"} {
		if n, have := f("BenchmarkGetCall/" + p + " ns/op"); have {
			al, _ := f("BenchmarkGetCall/" + p + " allocs/op")
			rows = append(rows, row{"6 get_call per op, " + p + " (allocs: this process)", fmt.Sprintf("%.1f us, %.0f allocs", n/1e3, al), "", ""})
		}
	}

	w := [3]int{}
	for _, r := range rows {
		w[0], w[1], w[2] = max(w[0], len(r.what)), max(w[1], len(r.value)), max(w[2], len(r.target))
	}
	fmt.Printf("| %-*s | %-*s | %-*s | met |\n", w[0], "measure (median of runs)", w[1], "value", w[2], "target")
	fmt.Printf("|%s|%s|%s|-----|\n", strings.Repeat("-", w[0]+2), strings.Repeat("-", w[1]+2), strings.Repeat("-", w[2]+2))
	for _, r := range rows {
		fmt.Printf("| %-*s | %-*s | %-*s | %-3s |\n", w[0], r.what, w[1], r.value, w[2], r.target, r.met)
	}
}
