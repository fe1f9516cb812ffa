package metrics

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"time"
)

// goCollector writes the families of the client library's default Go
// collector (collectors.NewGoCollector()): goroutines, threads, GC pauses,
// go_info, the MemStats-like go_memstats_*, and the three runtime/metrics
// gauges it exposes by default.
type goCollector struct{}

// The help of the three runtime/metrics gauges the client library exposes
// by default: the runtime's description, "Sourced from" its name (the
// parity test holds them to the client library's on each toolchain).
const (
	helpGOGC       = "Heap size target percentage configured by the user, otherwise 100. This value is set by the GOGC environment variable, and the runtime/debug.SetGCPercent function. Sourced from /gc/gogc:percent."
	helpGOMEMLIMIT = "Go runtime memory limit configured by the user, otherwise math.MaxInt64. This value is set by the GOMEMLIMIT environment variable, and the runtime/debug.SetMemoryLimit function. Sourced from /gc/gomemlimit:bytes."
	helpGOMAXPROCS = "The current runtime.GOMAXPROCS setting, or the number of operating system threads that can execute user-level Go code simultaneously. Sourced from /sched/gomaxprocs:threads."
)

// gogcPercent is /gc/gogc:percent as the runtime sets it from GOGC at
// start (readGOGC; "off" and negative values are -1, which reads as the
// largest uint64). Nothing in this program calls debug.SetGCPercent, the
// only other way to change it.
var gogcPercent = sync.OnceValue(func() float64 {
	p := os.Getenv("GOGC")
	n := int64(100)
	if p == "off" {
		n = -1
	} else if v, err := strconv.ParseInt(p, 10, 32); err == nil {
		n = v
	}
	if n < 0 {
		n = -1
	}
	return float64(uint64(n))
})

func (goCollector) families() []family {
	var stats debug.GCStats
	stats.PauseQuantiles = make([]time.Duration, 5)
	debug.ReadGCStats(&stats)
	threads, _ := runtime.ThreadCreateProfile(nil)
	out := []family{
		constFamily("go_goroutines", "Number of goroutines that currently exist.", "gauge", float64(runtime.NumGoroutine())),
		constFamily("go_threads", "Number of OS threads created.", "gauge", float64(threads)),
		{name: "go_gc_duration_seconds", help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", typ: "summary",
			write: func(w *textWriter) {
				for i, q := range []float64{0, 0.25, 0.5, 0.75, 1} {
					w.sample("go_gc_duration_seconds", nil, "quantile", q, stats.PauseQuantiles[i].Seconds())
				}
				w.sample("go_gc_duration_seconds_sum", nil, "", 0, stats.PauseTotal.Seconds())
				w.sample("go_gc_duration_seconds_count", nil, "", 0, float64(uint64(stats.NumGC)))
			}},
		constFamily("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of last garbage collection.", "gauge", float64(stats.LastGC.UnixNano())/1e9),
		{name: "go_info", help: "Information about the Go environment.", typ: "gauge", write: func(w *textWriter) {
			w.sample("go_info", []labelPair{{"version", runtime.Version()}}, "", 0, 1)
		}},
	}

	out = append(out,
		constFamily("go_gc_gogc_percent", helpGOGC, "gauge", gogcPercent()),
		constFamily("go_gc_gomemlimit_bytes", helpGOMEMLIMIT, "gauge", float64(debug.SetMemoryLimit(-1))),
		constFamily("go_sched_gomaxprocs_threads", helpGOMAXPROCS, "gauge", float64(runtime.GOMAXPROCS(0))))

	// The values client_golang derives from runtime/metrics
	// (memStatsFromRM) are the MemStats fields of the same names: the
	// runtime's tests hold the two equal. Reading them here keeps
	// runtime/metrics, whose package initialiser builds its table of
	// descriptions, out of start-up.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	for _, m := range []struct {
		name, help, typ string
		v               uint64
	}{
		{"alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", "gauge", ms.Alloc},
		{"alloc_bytes_total", "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", "counter", ms.TotalAlloc},
		{"sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", "gauge", ms.Sys},
		{"mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", "counter", ms.Mallocs},
		{"frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", "counter", ms.Frees},
		{"heap_alloc_bytes", "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", "gauge", ms.HeapAlloc},
		{"heap_sys_bytes", "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", "gauge", ms.HeapSys},
		{"heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", "gauge", ms.HeapIdle},
		{"heap_inuse_bytes", "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", "gauge", ms.HeapInuse},
		{"heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", "gauge", ms.HeapReleased},
		{"heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", "gauge", ms.HeapObjects},
		{"stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", "gauge", ms.StackInuse},
		{"stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", "gauge", ms.StackSys},
		{"mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", "gauge", ms.MSpanInuse},
		{"mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", "gauge", ms.MSpanSys},
		{"mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", "gauge", ms.MCacheInuse},
		{"mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", "gauge", ms.MCacheSys},
		{"buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", "gauge", ms.BuckHashSys},
		{"gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", "gauge", ms.GCSys},
		{"other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", "gauge", ms.OtherSys},
		{"next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", "gauge", ms.NextGC},
	} {
		out = append(out, constFamily("go_memstats_"+m.name, m.help, m.typ, float64(m.v)))
	}
	return out
}
