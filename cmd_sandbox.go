package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/sandbox"
)

// runSandbox serves the embedded simulator as a standalone HTTP API.
func runSandbox(ctx context.Context, args []string, stderr io.Writer) int {
	cfg, err := config.LoadSandboxCommand(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "bys-mcp sandbox:", err)
		return 2
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	sb := sandbox.New(sandbox.Options{TimeScale: cfg.TimeScale, RateLimitPerMinute: cfg.RateLimitPerMinute})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(stderr, "bys-mcp sandbox: cannot listen on --addr %s: %v\n", cfg.Addr, err)
		return 1
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	log.WithField("addr", ln.Addr().String()).Info("sandbox API listening")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.WithError(err).Error("sandbox stopped")
		return 1
	}
	return 0
}
