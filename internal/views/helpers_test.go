package views_test

import (
	"github.com/byourside/bys-mcp/internal/app"
	"github.com/byourside/bys-mcp/internal/sandbox"
	"github.com/byourside/bys-mcp/internal/testkit"
)

func appOptions() app.Options {
	return app.Options{SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll()}
}
