//go:build !windows && !js && !wasip1 && !darwin

package metrics

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
)

// userHZ is the clock tick of /proc's times, as procfs assumes it.
const userHZ = 100

// procPath is where the process's files are: /proc/PID, as procfs reads
// them.
var procPath = sync.OnceValue(func() string { return "/proc/" + strconv.Itoa(os.Getpid()) })

// procUsable is the collector's canCollectProcess: /proc is a directory
// (and, where the file system type can be asked, the question does not
// fail). real says it is the proc file system, whose fd directory's size
// is the number of descriptors (Linux 6.2 and later).
var procUsable = sync.OnceValues(func() (usable, real bool) {
	st, err := os.Stat("/proc")
	if err != nil || !st.IsDir() {
		return false, false
	}
	real, err = isRealProc("/proc")
	return err == nil, real
})

func (processCollector) families() []family {
	usable, real := procUsable()
	if !usable {
		return nil
	}
	dir := procPath()
	var out []family
	if st, err := readProcStat(dir); err == nil {
		out = append(out,
			constFamily("process_cpu_seconds_total", helpCPU, "counter", float64(st.utime+st.stime)/userHZ),
			constFamily("process_virtual_memory_bytes", helpVsize, "gauge", float64(st.vsize)),
			constFamily("process_resident_memory_bytes", helpRSS, "gauge", float64(st.rss*os.Getpagesize())))
		if boot, err := bootTime(); err == nil {
			out = append(out, constFamily("process_start_time_seconds", helpStartTime, "gauge", float64(boot)+float64(st.starttime)/userHZ))
		}
	}
	if n, err := openFDs(dir, real); err == nil {
		out = append(out, constFamily("process_open_fds", helpOpenFDs, "gauge", float64(n)))
	}
	if files, space, err := limits(dir); err == nil {
		out = append(out,
			constFamily("process_max_fds", helpMaxFDs, "gauge", float64(files)),
			constFamily("process_virtual_memory_max_bytes", helpMaxVsize, "gauge", float64(space)))
	}
	if in, outBytes, err := netOctets(dir); err == nil {
		out = append(out,
			constFamily("process_network_receive_bytes_total", helpNetReceive, "counter", in),
			constFamily("process_network_transmit_bytes_total", helpNetSend, "counter", outBytes))
	}
	return out
}

type procStat struct {
	utime, stime, starttime uint64
	vsize                   uint
	rss                     int
}

// readProcStat reads what the collector uses of /proc/PID/stat (procfs's
// Proc.Stat).
func readProcStat(dir string) (procStat, error) {
	data, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return procStat{}, err
	}
	l, r := bytes.Index(data, []byte("(")), bytes.LastIndex(data, []byte(")"))
	if l < 0 || r < 0 || r+2 > len(data) {
		return procStat{}, fmt.Errorf("unexpected format of %s/stat", dir)
	}
	// The fields after the command name, from the state (field 3) on.
	f := strings.Fields(string(data[r+2:]))
	if len(f) < 22 {
		return procStat{}, fmt.Errorf("unexpected format of %s/stat", dir)
	}
	var s procStat
	var errs [5]error
	s.utime, errs[0] = strconv.ParseUint(f[11], 10, 64)
	s.stime, errs[1] = strconv.ParseUint(f[12], 10, 64)
	s.starttime, errs[2] = strconv.ParseUint(f[19], 10, 64)
	var vsize uint64
	vsize, errs[3] = strconv.ParseUint(f[20], 10, 64)
	s.vsize = uint(vsize)
	s.rss, errs[4] = strconv.Atoi(f[21])
	for _, err := range errs {
		if err != nil {
			return procStat{}, err
		}
	}
	return s, nil
}

// bootTime is btime of /proc/stat.
func bootTime() (uint64, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
		}
	}
	return 0, fmt.Errorf("no btime in /proc/stat")
}

// openFDs counts the open descriptors as procfs's FileDescriptorsLen: the
// size of the fd directory on the real proc file system when it is set,
// else its entries.
func openFDs(dir string, real bool) (int, error) {
	if real {
		st, err := os.Stat(dir + "/fd")
		if err != nil {
			return 0, err
		}
		if st.Size() > 0 {
			return int(st.Size()), nil
		}
	}
	d, err := os.Open(dir + "/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0, err
	}
	return len(names), nil
}

// limits reads the soft limits on open files and address space of
// /proc/PID/limits ("unlimited" is the largest uint64).
func limits(dir string) (files, space uint64, err error) {
	f, err := os.Open(dir + "/limits")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		line := sc.Text()
		var p *uint64
		var rest string
		if r, ok := strings.CutPrefix(line, "Max open files"); ok {
			p, rest = &files, r
		} else if r, ok := strings.CutPrefix(line, "Max address space"); ok {
			p, rest = &space, r
		} else {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 2 {
			return 0, 0, fmt.Errorf("couldn't parse %q", line)
		}
		if fields[0] == "unlimited" {
			*p = math.MaxUint64
		} else if *p, err = strconv.ParseUint(fields[0], 10, 64); err != nil {
			return 0, 0, err
		}
	}
	return files, space, sc.Err()
}

// netOctets reads InOctets and OutOctets of IpExt in /proc/PID/net/netstat
// (zero when absent); a line it cannot read fails it, as procfs does.
func netOctets(dir string) (in, out float64, err error) {
	data, err := os.ReadFile(dir + "/net/netstat")
	if err != nil {
		return 0, 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		names := strings.Split(sc.Text(), " ")
		sc.Scan()
		values := strings.Split(sc.Text(), " ")
		if len(names) != len(values) {
			return 0, 0, fmt.Errorf("field count mismatch in %s/net/netstat: %s", dir, names[0])
		}
		proto := strings.TrimSuffix(names[0], ":")
		for i := 1; i < len(names); i++ {
			v, err := strconv.ParseFloat(values[i], 64)
			if err != nil {
				return 0, 0, err
			}
			if proto == "IpExt" {
				switch names[i] {
				case "InOctets":
					in = v
				case "OutOctets":
					out = v
				}
			}
		}
	}
	return in, out, nil
}
