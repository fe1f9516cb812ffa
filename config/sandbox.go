package config

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Defaults of the bys-mcp sandbox subcommand.
const (
	DefaultSandboxAddr      = "127.0.0.1:8090"
	DefaultSandboxTimeScale = 1.0
	// MaxSandboxTimeScale is the fastest the simulated clock may run.
	MaxSandboxTimeScale = 1000.0
)

// SandboxConfig is the configuration of `bys-mcp sandbox`, which serves the
// embedded simulator as a standalone HTTP API.
type SandboxConfig struct {
	Addr               string  // --addr / BYS_SANDBOX_ADDR: listen address, default 127.0.0.1:8090
	LogLevel           string  // --log-level / BYS_LOG_LEVEL: a logrus level name, default info
	LogFormat          string  // --log-format / BYS_LOG_FORMAT: text or json, default text
	TimeScale          float64 // --time-scale / BYS_SANDBOX_TIME_SCALE: simulated clock speed, default 1 (real time)
	RateLimitPerMinute int     // --rate-limit-per-minute / BYS_SANDBOX_RATE_LIMIT_PER_MINUTE: 0 keeps the simulator's own limit
}

func sandboxOptions(c *SandboxConfig) []option {
	return append([]option{
		{group: "Flags", name: "addr", env: "BYS_SANDBOX_ADDR", def: DefaultSandboxAddr,
			usage: "listen address (host:port) of the simulated API",
			value: &stringValue{p: &c.Addr}},
		{group: "Flags", name: "time-scale", env: "BYS_SANDBOX_TIME_SCALE", def: "1 (real time)",
			usage: "speed of the simulated clock: 10 makes calls progress ten times faster (above 0, at most 1000)",
			value: &floatValue{p: &c.TimeScale}},
		{group: "Flags", name: "rate-limit-per-minute", env: "BYS_SANDBOX_RATE_LIMIT_PER_MINUTE", def: "0 (the simulator's own limit)",
			usage: "requests each key may make per minute before 429 rate_limited",
			value: &intValue{p: &c.RateLimitPerMinute}},
	}, logOptions("Flags", &c.LogLevel, &c.LogFormat)...)
}

const sandboxUsageIntro = `bys-mcp sandbox serves the embedded By Your Side simulator as a standalone HTTP
API, with the documented endpoints, statuses and error tokens. Any
Authorization: Bearer bys_ak_... key is accepted and is its own tenant (401
otherwise). Several bys-mcp replicas, or any other client, can share one
sandbox by pointing --base-url at it.

Usage:
  bys-mcp sandbox [flags]
`

// SandboxUsage writes the --help text of `bys-mcp sandbox`.
func SandboxUsage(w io.Writer) {
	_, _ = io.WriteString(w, sandboxUsageIntro)
	writeOptions(w, sandboxOptions(&SandboxConfig{}))
}

// LoadSandboxCommand builds the configuration of `bys-mcp sandbox` from args
// (the words after "sandbox") and the environment, read through getenv, with
// the same precedence as Load: flag, then non-empty variable, then default.
// It returns flag.ErrHelp, after printing the usage to usageOut, when help
// was asked. It does not call Validate.
func LoadSandboxCommand(args []string, getenv func(string) string, usageOut io.Writer) (*SandboxConfig, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &SandboxConfig{
		Addr:      DefaultSandboxAddr,
		LogLevel:  DefaultLogLevel,
		LogFormat: DefaultLogFormat,
		TimeScale: DefaultSandboxTimeScale,
	}
	if err := parseOptions("bys-mcp sandbox", args, getenv, sandboxOptions(c), SandboxUsage, usageOut); err != nil {
		return nil, redactError(err, getenv(EnvAPIKey))
	}
	return c, nil
}

// Validate returns nil or one error whose message is one sentence naming the
// flag or variable to fix.
func (c *SandboxConfig) Validate() error {
	if err := validateListenAddr("--addr", "BYS_SANDBOX_ADDR", c.Addr); err != nil {
		return err
	}
	if err := validateLogging(c.LogLevel, c.LogFormat); err != nil {
		return err
	}
	if !(c.TimeScale > 0 && c.TimeScale <= MaxSandboxTimeScale) { // also refuses NaN
		return fmt.Errorf("--time-scale %g is out of range (BYS_SANDBOX_TIME_SCALE): use a number above 0 and at most 1000, such as 1 for real time", c.TimeScale)
	}
	if c.RateLimitPerMinute < 0 {
		return errors.New("--rate-limit-per-minute is negative (BYS_SANDBOX_RATE_LIMIT_PER_MINUTE): use 0 for the simulator's own limit or a positive number")
	}
	return nil
}

// IsLoopbackAddr reports whether Addr's host is 127.0.0.0/8, ::1 or localhost.
func (c *SandboxConfig) IsLoopbackAddr() bool {
	return (&Config{Addr: c.Addr}).IsLoopbackAddr()
}

// String renders the sandbox configuration for a start-up log line.
func (c SandboxConfig) String() string {
	return strings.Join([]string{
		"addr=" + c.Addr,
		"log_level=" + c.LogLevel,
		"log_format=" + c.LogFormat,
		fmt.Sprintf("time_scale=%g", c.TimeScale),
		fmt.Sprintf("rate_limit_per_minute=%d", c.RateLimitPerMinute),
	}, " ")
}
