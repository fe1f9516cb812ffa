// Command bys-mcp is the MCP server that lets AI agents place real phone
// calls through the By Your Side API. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/byourside/bys-mcp/client"
	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/sirupsen/logrus"
)

// Set with -ldflags "-X main.version=... -X main.commit=... -X main.date=...".
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	client.Version = version
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch args[0] {
		case "sandbox":
			return runSandbox(ctx, args[1:], stderr)
		case "demo":
			return runDemo(ctx, args[1:], stdout, stderr)
		case "dnc":
			return runDNC(ctx, args[1:], stdout, stderr)
		}
	}
	cfg, err := config.Load(args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "bys-mcp:", err)
		return 2
	}
	if cfg.ShowVersion {
		fmt.Fprintf(stdout, "bys-mcp %s (commit %s, built %s)\n", version, commit, date)
		return 0
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "bys-mcp:", err)
		return 2
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	a, err := app.New(cfg, log, app.Options{})
	if err != nil {
		fmt.Fprintln(stderr, "bys-mcp:", err)
		return 1
	}
	defer a.Close()
	if log.IsLevelEnabled(logrus.DebugLevel) { // the description is not built for nothing
		log.WithField("config", cfg.String()).WithField("version", version).Debug("starting")
	}
	if cfg.Transport == "stdio" && isTerminal(stdin) {
		fmt.Fprintln(stderr, "bys-mcp speaks MCP (JSON-RPC) on stdin/stdout and is meant to be started by an MCP host such as Claude Desktop or Claude Code; see README.md. Try `bys-mcp demo` for a guided run on the sandbox, or press Ctrl-D to exit.")
	}
	if err := a.Serve(ctx, stdin, stdout); err != nil {
		log.WithError(err).Error("server stopped")
		return 1
	}
	return 0
}

func newLogger(level, format string, out io.Writer) *logrus.Logger {
	log := logrus.New()
	log.SetOutput(out)
	if lvl, err := logrus.ParseLevel(level); err == nil {
		log.SetLevel(lvl)
	}
	if format == "json" {
		log.SetFormatter(&logrus.JSONFormatter{})
	} else {
		log.SetFormatter(&logrus.TextFormatter{DisableColors: true, FullTimestamp: true})
	}
	return log
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
