package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/internal/dnc"
	"github.com/byourside/bys-mcp/internal/state"
)

const dncUsage = `Usage: bys-mcp dnc add NUMBER | remove NUMBER | list [flags]

Works on the do-not-call list in the state store the server uses (the local
state database of --state-dir, or Redis with --state-url). Numbers are E.164.
Without --key-fingerprint, add lists the number for every key, remove takes it
off for every key, and list shows every key's entries.

Flags:
  --state-dir DIR          local state directory (env BYS_STATE_DIR; default the server's)
  --state-url URL          redis:// or rediss:// URL of shared state (env BYS_STATE_URL)
  --key-fingerprint FP     one key's entries only (the key_fp of the server's log lines)
`

// runDNC adds, removes and lists do-not-call entries.
func runDNC(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bys-mcp dnc", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stateDir := fs.String("state-dir", getenv("BYS_STATE_DIR"), "")
	stateURL := fs.String("state-url", getenv("BYS_STATE_URL"), "")
	keyFP := fs.String("key-fingerprint", "", "")
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, dncUsage)
				return 0
			}
			fmt.Fprintf(stderr, "bys-mcp dnc: %v\n%s", err, dncUsage)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, dncUsage)
		return 2
	}
	verb := pos[0]
	need := 2
	if verb == "list" {
		need = 1
	}
	if (verb != "add" && verb != "remove" && verb != "list") || len(pos) != need {
		fmt.Fprintf(stderr, "bys-mcp dnc: expected add NUMBER, remove NUMBER or list, got %q\n%s", strings.Join(pos, " "), dncUsage)
		return 2
	}
	number := ""
	if need == 2 {
		number = pos[1]
		if !dnc.IsE164(number) {
			fmt.Fprintf(stderr, "bys-mcp dnc: %q is not an E.164 number: write it as + and the country code, such as +14155550123\n", number)
			return 2
		}
	}
	records, closeStore, err := openDNCStore(ctx, *stateDir, *stateURL)
	if err != nil {
		fmt.Fprintln(stderr, "bys-mcp dnc:", err)
		return 1
	}
	defer closeStore()
	list := dnc.New(records, clock.Real, nil)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch verb {
	case "add":
		added, err := list.Add(ctx, dnc.Entry{Number: number, KeyFP: *keyFP, Source: dnc.SourceOperator})
		if err != nil {
			fmt.Fprintln(stderr, "bys-mcp dnc: the state store failed:", err)
			return 1
		}
		if added {
			fmt.Fprintf(stdout, "%s is on the do-not-call list (%s)\n", number, whose(*keyFP))
		} else {
			fmt.Fprintf(stdout, "%s was already on the do-not-call list (%s)\n", number, whose(*keyFP))
		}
	case "remove":
		n, err := list.Remove(ctx, *keyFP, number)
		if err != nil {
			fmt.Fprintln(stderr, "bys-mcp dnc: the state store failed:", err)
			return 1
		}
		if n == 0 {
			fmt.Fprintf(stderr, "bys-mcp dnc: %s is not on the do-not-call list (%s)\n", number, whose(*keyFP))
			return 1
		}
		fmt.Fprintf(stdout, "%s is off the do-not-call list (%d entries removed)\n", number, n)
	case "list":
		entries, err := list.Entries(ctx, *keyFP)
		if err != nil {
			fmt.Fprintln(stderr, "bys-mcp dnc: the state store failed:", err)
			return 1
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "NUMBER\tKEY\tSOURCE\tCALL\tLISTED")
		for _, e := range entries {
			key := e.KeyFP
			if key == dnc.EveryKey {
				key = "every key"
			}
			call := e.CallID
			if call == "" {
				call = "-"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Number, key, e.Source, call, e.At.UTC().Format(time.RFC3339))
		}
		_ = w.Flush()
	}
	return 0
}

func whose(keyFP string) string {
	if keyFP == "" {
		return "every key"
	}
	return "key " + keyFP
}

// openDNCStore opens the state store the server would use.
func openDNCStore(ctx context.Context, dir, url string) (state.Records, func(), error) {
	if url != "" {
		rs, err := state.NewRedis(ctx, url, state.RedisOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("--state-url: %w", err)
		}
		return rs, func() { _ = rs.Close() }, nil
	}
	if dir == "" {
		dir = config.DefaultStateDir(getenv, runtime.GOOS)
	}
	if dir == "" || dir == config.StateDirMemory {
		return nil, nil, errors.New("no state directory: give --state-dir (or BYS_STATE_DIR) or --state-url; --state-dir memory keeps nothing between processes")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("--state-dir %s: %w", dir, err)
	}
	f := state.NewFile(dir, state.FileOptions{})
	return f, func() { _ = f.Close() }, nil
}
