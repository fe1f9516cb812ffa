package testkit

import (
	"context"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/config"
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/clock"
	"github.com/byourside/bys-mcp/tools"
	"github.com/sirupsen/logrus"
)

// FastPoll returns (a fresh copy of) the poll schedule that keeps
// wait_for_call quick against a sandbox at a high TimeScale.
func FastPoll() *tools.PollSchedule {
	return &tools.PollSchedule{Early: 20 * time.Millisecond, EarlyFor: time.Second, Late: 50 * time.Millisecond}
}

// NewLogger returns a text logger at level writing into w.
func NewLogger(w io.Writer, level logrus.Level) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(w)
	l.SetLevel(level)
	return l
}

// QuietLogger logs like the shipped binary (info level, text) into nothing.
func QuietLogger() *logrus.Logger {
	return NewLogger(io.Discard, logrus.InfoLevel)
}

// ClockEnv names the variable that moves every in-process test app to
// another moment: BYS_TEST_CLOCK=2027-03-14T09:30:00Z go test ./... runs
// the suites as if started then (the clock moves on from there), to show
// that no test depends on the hour or date it runs at.
const ClockEnv = "BYS_TEST_CLOCK"

// Clock is the clock of in-process test apps: the wall clock, or one that
// starts at $BYS_TEST_CLOCK (RFC 3339) and moves at the wall clock's pace.
func Clock(tb testing.TB) clock.Clock {
	v := os.Getenv(ClockEnv)
	if v == "" {
		return clock.Real
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		tb.Fatalf("%s=%q is not an RFC 3339 time: %v", ClockEnv, v, err)
	}
	return clock.StartingAt(t)
}

// SandboxApp builds an app against the embedded sandbox (cfg.Sandbox set)
// after adjust (nil = none) edits the configuration, which must validate.
// The app logs to log, gets opts, and is closed when the test ends.
func SandboxApp(tb testing.TB, adjust func(*config.Config), log *logrus.Logger, opts app.Options) *app.App {
	tb.Helper()
	cfg := config.Defaults()
	cfg.Sandbox = true
	// Calling hours are on by default; a test that is not about them must
	// not depend on the hour it runs at (tests of hours set them, with a
	// fake clock through app.Options.Clock).
	cfg.CallingHours = "off"
	// Likewise the cap on calls per number: tests place many calls to the
	// sandbox's few numbers (tests of the cap set it).
	cfg.MaxCallsPerNumber, cfg.CallsPerNumber = "off", 0
	if opts.Clock == nil {
		opts.Clock = Clock(tb)
	}
	if adjust != nil {
		adjust(cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("config: %v", err)
	}
	a, err := app.New(cfg, log, opts)
	if err != nil {
		tb.Fatalf("app.New: %v", err)
	}
	tb.Cleanup(a.Close)
	return a
}

// ServeHTTPTest serves a's HTTP handler on an httptest server and returns
// its base URL. At cleanup the handler is shut down (2 s at most), the
// client connections are closed, then the server.
func ServeHTTPTest(tb testing.TB, a *app.App) string {
	tb.Helper()
	return ServeHTTPTestOn(tb, a, nil)
}

// ServeHTTPTestOn is ServeHTTPTest on the listener ln (nil = a new loopback
// one), for an app that must know its address before it is served.
func ServeHTTPTestOn(tb testing.TB, a *app.App, ln net.Listener) string {
	tb.Helper()
	h := a.HTTPHandler()
	ts := httptest.NewUnstartedServer(h)
	if ln != nil {
		ts.Listener.Close()
		ts.Listener = ln
	}
	ts.Start()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return ts.URL
}

// LocalTime is local, written 2006-01-02 15:04, in the IANA time zone zone
// (such as America/Los_Angeles); the test fails on an unknown zone or a
// malformed time.
func LocalTime(tb testing.TB, zone, local string) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", local, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
