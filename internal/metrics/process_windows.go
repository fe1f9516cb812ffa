//go:build windows

package metrics

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	procGetProcessMemoryInfo  = syscall.NewLazyDLL("psapi.dll").NewProc("GetProcessMemoryInfo")
	procGetProcessHandleCount = syscall.NewLazyDLL("kernel32.dll").NewProc("GetProcessHandleCount")
)

// processMemoryCounters is PROCESS_MEMORY_COUNTERS_EX.
type processMemoryCounters struct {
	_                          uint32
	PageFaultCount             uint32
	PeakWorkingSetSize         uintptr
	WorkingSetSize             uintptr
	QuotaPeakPagedPoolUsage    uintptr
	QuotaPagedPoolUsage        uintptr
	QuotaPeakNonPagedPoolUsage uintptr
	QuotaNonPagedPoolUsage     uintptr
	PagefileUsage              uintptr
	PeakPagefileUsage          uintptr
	PrivateUsage               uintptr
}

// families on Windows are the collector's: times, private bytes as the
// virtual size, the working set as the resident size, handles as open
// descriptors, and Windows' fixed handle limit. Like the collector, it
// stops at the first failure.
func (processCollector) families() []family {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_INFORMATION|windows.PROCESS_VM_READ, false, uint32(os.Getpid()))
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(h)
	var start, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(h, &start, &exit, &kernel, &user); err != nil {
		return nil
	}
	out := []family{
		constFamily("process_start_time_seconds", helpStartTime, "gauge", float64(start.Nanoseconds()/1e9)),
		constFamily("process_cpu_seconds_total", helpCPU, "counter", fileTimeSeconds(kernel)+fileTimeSeconds(user)),
	}
	var mem processMemoryCounters
	if r1, _, _ := procGetProcessMemoryInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&mem)), unsafe.Sizeof(mem)); r1 != 1 {
		return out
	}
	out = append(out,
		constFamily("process_virtual_memory_bytes", helpVsize, "gauge", float64(mem.PrivateUsage)),
		constFamily("process_resident_memory_bytes", helpRSS, "gauge", float64(mem.WorkingSetSize)))
	var handles uint32
	if r1, _, _ := procGetProcessHandleCount.Call(uintptr(h), uintptr(unsafe.Pointer(&handles))); r1 != 1 {
		return out
	}
	return append(out,
		constFamily("process_open_fds", helpOpenFDs, "gauge", float64(handles)),
		constFamily("process_max_fds", helpMaxFDs, "gauge", float64(16*1024*1024)))
}

func fileTimeSeconds(ft windows.Filetime) float64 {
	return float64(uint64(ft.HighDateTime)<<32+uint64(ft.LowDateTime)) / 1e7
}
