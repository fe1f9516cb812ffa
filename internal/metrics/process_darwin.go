//go:build darwin && !ios

package metrics

import (
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// families on macOS are the collector's without cgo (how releases are
// built): no resident or virtual memory size, no network bytes.
func (processCollector) families() []family {
	var out []family
	if procs, err := unix.SysctlKinfoProcSlice("kern.proc.pid", os.Getpid()); err == nil && len(procs) == 1 {
		out = append(out, constFamily("process_start_time_seconds", helpStartTime, "gauge", float64(procs[0].Proc.P_starttime.Nano()/1e9)))
	}
	var ru unix.Rusage
	if err := unix.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		out = append(out, constFamily("process_cpu_seconds_total", helpCPU, "counter", time.Duration(ru.Stime.Nano()+ru.Utime.Nano()).Seconds()))
	}
	if d, err := os.Open("/dev/fd"); err == nil {
		names, err := d.Readdirnames(0)
		d.Close()
		if err == nil {
			// Without the descriptor that read the directory.
			out = append(out, constFamily("process_open_fds", helpOpenFDs, "gauge", float64(len(names)-1)))
		}
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		out = append(out, constFamily("process_max_fds", helpMaxFDs, "gauge", float64(rl.Cur)))
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err == nil {
		out = append(out, constFamily("process_virtual_memory_max_bytes", helpMaxVsize, "gauge", float64(rl.Cur)))
	}
	return out
}
