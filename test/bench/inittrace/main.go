// Command inittrace runs commands with GODEBUG=inittrace=1, interleaved,
// n times each, and prints what their package initialisers cost: the
// median over the runs of the total clock time and of each package's, the
// allocated bytes, and the packages costing most. The first command is the
// floor; a package the floor does not link is marked with +.
//
//	inittrace -n 20 -top 12 -- ./baremcp -- ./bys-mcp --version
//
// Commands are separated by "--"; labels may be given with -label a,b. Each
// command's stdin is empty (a stdio server exits at once).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

func main() {
	n := flag.Int("n", 20, "runs of each command")
	top := flag.Int("top", 12, "packages listed per command")
	labels := flag.String("label", "", "comma-separated labels, one per command")
	flag.Parse()
	var cmds [][]string
	var cur []string
	for _, a := range flag.Args() {
		if a == "--" {
			if len(cur) > 0 {
				cmds = append(cmds, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, a)
	}
	if len(cur) > 0 {
		cmds = append(cmds, cur)
	}
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "usage: inittrace [-n N] [-top K] -- cmd1 args -- cmd2 args")
		os.Exit(2)
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = strings.Join(c, " ")
	}
	if *labels != "" {
		for i, l := range strings.Split(*labels, ",") {
			if i < len(names) {
				names[i] = l
			}
		}
	}
	type pkgRuns struct {
		clock []float64
		bytes int
	}
	per := make([]map[string]*pkgRuns, len(cmds))
	totals := make([][]float64, len(cmds))
	bytesTotal := make([]int, len(cmds))
	order := make([][]string, len(cmds))
	for i := range cmds {
		per[i] = map[string]*pkgRuns{}
	}
	for r := 0; r < *n; r++ {
		for k := range cmds {
			i := (k + r) % len(cmds)
			lines, err := run(cmds[i])
			if err != nil {
				fmt.Fprintln(os.Stderr, "inittrace:", names[i], ":", err)
				os.Exit(1)
			}
			var sum float64
			var b int
			for _, l := range lines {
				p := per[i][l.pkg]
				if p == nil {
					p = &pkgRuns{}
					per[i][l.pkg] = p
					order[i] = append(order[i], l.pkg)
				}
				p.clock = append(p.clock, l.clock)
				p.bytes = l.bytes
				sum += l.clock
				b += l.bytes
			}
			totals[i] = append(totals[i], sum)
			bytesTotal[i] = b
		}
	}
	fmt.Printf("package initialisers (GODEBUG=inittrace=1), medians of %d interleaved runs each\n", *n)
	fmt.Printf("%-24s %10s %12s %9s\n", "command", "init ms", "init bytes", "packages")
	for i := range cmds {
		fmt.Printf("%-24s %10.3f %12d %9d\n", names[i], median(totals[i]), bytesTotal[i], len(per[i]))
	}
	for i := range cmds {
		pkgs := append([]string(nil), order[i]...)
		sort.SliceStable(pkgs, func(a, b int) bool { return median(per[i][pkgs[a]].clock) > median(per[i][pkgs[b]].clock) })
		fmt.Printf("\n%s: top %d packages by median init clock (+ = not linked by %s)\n", names[i], *top, names[0])
		for j, p := range pkgs {
			if j == *top {
				break
			}
			mark := " "
			if i > 0 && per[0][p] == nil {
				mark = "+"
			}
			fmt.Printf("  %s %8.3f ms %9d bytes  %s\n", mark, median(per[i][p].clock), per[i][p].bytes, p)
		}
		if i > 0 {
			var extra float64
			var extraBytes, count int
			for _, p := range pkgs {
				if per[0][p] == nil {
					extra += median(per[i][p].clock)
					extraBytes += per[i][p].bytes
					count++
				}
			}
			fmt.Printf("  packages not linked by %s: %d, %.3f ms, %d bytes (sum of medians)\n", names[0], count, extra, extraBytes)
		}
	}
}

type initLine struct {
	pkg   string
	clock float64
	bytes int
}

// run runs c once with GODEBUG=inittrace=1 and an empty stdin.
func run(c []string) ([]initLine, error) {
	cmd := exec.Command(c[0], c[1:]...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, stderr.Bytes())
	}
	var out []initLine
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init PKG @0.12 ms, 0.003 ms clock, 1234 bytes, 5 allocs
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[6] != "clock," || f[8] != "bytes," {
			continue
		}
		clock, err1 := strconv.ParseFloat(f[4], 64)
		b, err2 := strconv.Atoi(f[7])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("cannot read %q", sc.Text())
		}
		out = append(out, initLine{f[1], clock, b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no inittrace lines:\n%s", stderr.Bytes())
	}
	return out, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
