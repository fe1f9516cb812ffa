// Package startup holds deterministic checks of bys-mcp's start-up cost
// (issue 22): what the server binary links, and what its package
// initialisers allocate next to the bare mcp-go server (the floor,
// test/bench/baremcp). Go runs the initialiser of every package it links,
// whatever the transport, so a heavy dependency costs every stdio start.
// Nothing here measures time: scripts/startup-check times cold starts
// against the floor, and BENCHMARKS.md has the figures.
package startup

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/byourside/bys-mcp/internal/testkit"
)

const module = "github.com/byourside/bys-mcp"

// heavy are packages the server must not link, with why: their package
// initialisers (or those of what they import) run at every start.
var heavy = []struct{ prefix, why string }{
	{"github.com/prometheus/", "the Prometheus client's initialisers (default registry collectors, procfs, protobuf, expvar) cost about 1 ms; internal/metrics writes the text format itself"},
	{"google.golang.org/protobuf/", "protobuf's initialisers (detrand reads the executable, descriptor registration)"},
	{"expvar", "expvar publishes memstats and cmdline and registers /debug/vars at init"},
	{"runtime/metrics", "its initialiser builds the table of metric descriptions; internal/metrics reads runtime.MemStats"},
	{"github.com/invopop/jsonschema", "schema reflection belongs to schema/schemagen (go generate and tests only); the server serves schema/defaults_gen.go"},
	{"github.com/pb33f/ordered-map", "comes with invopop/jsonschema (see schema/schemagen)"},
	{"go.yaml.in/yaml", "comes with invopop/jsonschema's ordered map (see schema/schemagen)"},
	{"github.com/nyaruka/phonenumbers", "its initialiser parses the whole metadata (about 28 ms); internal/numbering holds a generated extract"},
}

// TestServerDoesNotLinkHeavyPackages fails when the bys-mcp binary's
// package graph (go list -deps of the main package) reaches a package
// whose initialisers the start-up must not pay for.
func TestServerDoesNotLinkHeavyPackages(t *testing.T) {
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", module, err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	for _, h := range heavy {
		var linked []string
		for _, dep := range deps {
			if dep == h.prefix || strings.HasPrefix(dep, h.prefix) && (strings.HasSuffix(h.prefix, "/") || strings.HasPrefix(dep, h.prefix+"/")) {
				linked = append(linked, dep)
			}
		}
		if len(linked) > 0 {
			t.Errorf("the server links %s (%d packages): %s; `go list -deps -f '{{.ImportPath}}: {{.Imports}}' %s` shows who imports them",
				strings.Join(linked[:min(len(linked), 4)], ", "), len(linked), h.why, module)
		}
	}
}

// maxInitBytesOverFloor bounds what the server's package initialisers
// allocate beyond the floor's, in bytes (GODEBUG=inittrace=1; the figures
// are the same from run to run within a few hundred bytes). Measured
// 2026-12-07: about 34 KB over the floor's 1.85 MB (go-redis 12 KB, the
// prompts 5 KB, x/sys/cpu 5 KB, ...); before issue 22 part 2 it was 297 KB
// (the Prometheus client and protobuf most of it).
const maxInitBytesOverFloor = 64 << 10

// TestInitAllocationsStayNearTheFloor fails when the server's package
// initialisers allocate more than maxInitBytesOverFloor beyond the bare
// mcp-go server's: a new heavy dependency, or a package-level variable
// built eagerly (a compiled regexp, a table) that start-up does not need.
func TestInitAllocationsStayNearTheFloor(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	root := moduleRoot(t)
	bin, err := testkit.Binary("BYS_MCP_BIN")
	if err != nil {
		t.Fatal(err)
	}
	floor := filepath.Join(t.TempDir(), "baremcp")
	build := exec.Command("go", "build", "-o", floor, "./test/bench/baremcp")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./test/bench/baremcp: %v\n%s", err, out)
	}
	ours := initTrace(t, bin, "--version")
	base := initTrace(t, floor)
	total := func(m map[string]initCost) (b int) {
		for _, c := range m {
			b += c.bytes
		}
		return b
	}
	over := total(ours) - total(base)
	t.Logf("package initialisers allocate %d bytes (%d packages); the floor's %d bytes (%d packages): %+d",
		total(ours), len(ours), total(base), len(base), over)
	if over > maxInitBytesOverFloor {
		t.Errorf("the server's package initialisers allocate %d bytes more than the floor's (bound %d); the packages allocating more than in the floor, most first:\n%s",
			over, maxInitBytesOverFloor, topExtra(ours, base, 15))
	}
}

type initCost struct{ bytes, allocs int }

// initTrace runs bin with GODEBUG=inittrace=1 and stdin closed, and reads
// what each package's initialisers allocated.
func initTrace(t *testing.T, bin string, args ...string) map[string]initCost {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "BYS_STATE_DIR=memory") // its own state, none kept
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.Bytes())
	}
	out := map[string]initCost{}
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init PKG @0.12 ms, 0.003 ms clock, 1234 bytes, 5 allocs
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," || f[10] != "allocs" {
			continue
		}
		b, err1 := strconv.Atoi(f[7])
		a, err2 := strconv.Atoi(f[9])
		if err1 != nil || err2 != nil {
			t.Fatalf("cannot read %q", sc.Text())
		}
		c := out[f[1]]
		out[f[1]] = initCost{c.bytes + b, c.allocs + a}
	}
	if len(out) < 50 {
		t.Fatalf("%s: inittrace listed %d packages:\n%s", bin, len(out), stderr.Bytes())
	}
	return out
}

func topExtra(ours, base map[string]initCost, n int) string {
	type row struct {
		pkg   string
		bytes int
	}
	var rows []row
	for pkg, c := range ours {
		if d := c.bytes - base[pkg].bytes; d > 0 {
			rows = append(rows, row{pkg, d})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].bytes > rows[j].bytes })
	var b strings.Builder
	for i, r := range rows {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "  %8d bytes  %s\n", r.bytes, r.pkg)
	}
	return b.String()
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := testkit.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBinary()
	os.Exit(code)
}
