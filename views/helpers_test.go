package views_test

import (
	"github.com/byourside/bys-mcp/app"
	"github.com/byourside/bys-mcp/internal/testkit"
	"github.com/byourside/bys-mcp/sandbox"
)

func appOptions() app.Options {
	return app.Options{SandboxOptions: sandbox.Options{TimeScale: 50}, Poll: testkit.FastPoll()}
}
