// Command coldstart measures the time from process spawn to the initialize
// response over stdio, for two or more commands, interleaved in one run so
// that both see the same machine noise. It prints the median and p90 of
// each and the differences to the first command (the floor).
//
//	coldstart -n 200 -- ./baremcp -- ./bys-mcp --sandbox
//
// Commands are separated by "--"; a label may be given with -label a,b.
// Each round runs every command once, in an order that rotates per round.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"coldstart","version":"1"}}}` + "\n"

func main() {
	n := flag.Int("n", 200, "runs of each command")
	warm := flag.Int("warmup", 5, "untimed runs of each command first (page cache)")
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
	if len(cmds) < 1 {
		fmt.Fprintln(os.Stderr, "usage: coldstart [-n N] -- cmd1 args -- cmd2 args")
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
	for w := 0; w < *warm; w++ {
		for _, c := range cmds {
			if _, err := once(c); err != nil {
				fmt.Fprintln(os.Stderr, "coldstart:", strings.Join(c, " "), ":", err)
				os.Exit(1)
			}
		}
	}
	res := make([][]float64, len(cmds))
	diffs := make([][]float64, len(cmds)) // paired per round, vs command 0
	for r := 0; r < *n; r++ {
		round := make([]float64, len(cmds))
		for k := range cmds {
			i := (k + r) % len(cmds)
			d, err := once(cmds[i])
			if err != nil {
				fmt.Fprintln(os.Stderr, "coldstart:", names[i], ":", err)
				os.Exit(1)
			}
			round[i] = float64(d.Microseconds()) / 1000
		}
		for i := range cmds {
			res[i] = append(res[i], round[i])
			diffs[i] = append(diffs[i], round[i]-round[0])
		}
	}
	fmt.Printf("cold start, spawn -> initialize response over stdio, %d interleaved runs each\n", *n)
	fmt.Printf("%-28s %10s %10s %10s %18s\n", "command", "median ms", "p90 ms", "min ms", "paired diff p50 ms")
	for i := range cmds {
		fmt.Printf("%-28s %10.2f %10.2f %10.2f %18.2f\n", names[i], q(res[i], .5), q(res[i], .9), q(res[i], 0), q(diffs[i], .5))
	}
	for i := 1; i < len(cmds); i++ {
		// Machine-readable lines for scripts/bench.
		fmt.Printf("RESULT %s median_ms=%.3f p90_ms=%.3f floor_median_ms=%.3f diff_median_ms=%.3f paired_diff_p50_ms=%.3f\n",
			strings.ReplaceAll(names[i], " ", "_"), q(res[i], .5), q(res[i], .9), q(res[0], .5), q(res[i], .5)-q(res[0], .5), q(diffs[i], .5))
	}
}

// once spawns c, writes initialize, and returns the time until the first
// line comes back on stdout.
func once(c []string) (time.Duration, error) {
	cmd := exec.Command(c[0], c[1:]...)
	cmd.Stderr = io.Discard
	in, err := cmd.StdinPipe()
	if err != nil {
		return 0, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	if _, err := io.WriteString(in, initLine); err != nil {
		return 0, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	d := time.Since(start)
	in.Close()
	werr := cmd.Wait()
	if err != nil {
		return 0, fmt.Errorf("no initialize response: %v (exit: %v)", err, werr)
	}
	if !strings.Contains(line, `"result"`) {
		return 0, fmt.Errorf("unexpected first line: %.200s", line)
	}
	return d, nil
}

func q(v []float64, p float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	i := int(p * float64(len(s)-1))
	return s[i]
}
