// Package mcpserver owns the MCP side of the process: it builds the mcp-go
// server with our tools, serves it over stdio, SSE and Streamable HTTP, and
// guards the HTTP transports (authentication, Host and Origin checks, body
// and session caps, health, readiness and metrics endpoints). Protocol-era
// rules that mcp-go cannot express are applied here, before dispatch.
package mcpserver

import (
	"context"

	"github.com/byourside/bys-mcp/internal/prompts"
	"github.com/byourside/bys-mcp/internal/resources"
	"github.com/byourside/bys-mcp/internal/views"
	"github.com/byourside/bys-mcp/tools"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/sirupsen/logrus"
)

// Name is the server's name in initialize and server/discover.
const Name = "bys-mcp"

// Options configure the MCP server.
type Options struct {
	Version  string
	Deps     *tools.Deps
	ReadOnly bool
	Log      *logrus.Logger
	// ToolObserver receives every tool call's outcome (metrics); optional.
	ToolObserver tools.ToolObserver
	// Tasks, when set, offers wait_for_call and wait_for_campaign as tasks
	// to 2025-11-25 clients.
	Tasks *TaskOptions
	// Resources, when set, serves call records as resources.
	Resources *resources.Resources
	// Extra server options.
	ServerOptions []server.ServerOption
	// ReplicaID (--replica-id), when set, names this replica in the
	// 2025-11-25 session ids it issues: bys-ID-<hex>.
	ReplicaID string
}

// Server is the MCP server and the era rules applied in front of it.
type Server struct {
	mcp        *server.MCPServer
	life       *lifetime
	sessionIDs *sessionIDs
	tasks      *taskRunner
	filter     *Filter
	log        *logrus.Logger
	// writeTools are the tools that place or change calls (readOnlyHint
	// false): they need the calls:write scope under --oauth.
	writeTools map[string]bool
}

const instructions = "bys-mcp places real phone calls through the By Your Side API. " +
	"Typical flow: place_call (to, objective, context, fields) returns a callId at once; wait_for_call follows it to the end; " +
	"for many calls at once, place_calls runs a campaign that wait_for_campaign follows to one results table; " +
	"read summary and extracted from the final record. Calls reach real people and cannot be cancelled once placed: confirm the number and objective with the user first. " +
	"get_call reads one call, list_calls shows recent calls (check it before retrying a placement whose outcome was unknown)."

// New builds the server with every tool registered.
func New(o Options) *Server {
	hooks := &server.Hooks{}
	life := newLifetime(hooks)
	opts := []server.ServerOption{
		server.WithToolCapabilities(false),
		server.WithInstructions(instructions),
		server.WithHooks(hooks),
		server.WithRecovery(),
		server.WithToolHandlerMiddleware(tools.LoggingMiddleware(o.Log, o.ToolObserver, o.Deps.Clock)),
		server.WithToolHandlerMiddleware(life.middleware),
		server.WithTitle("By Your Side phone calls"),
		// logging/setLevel is answered (2025-11-25 clients and the
		// conformance suite send it); the server writes its logs to stderr.
		server.WithLogging(),
	}
	var completer prompts.Completer
	if o.Resources != nil {
		opts = append(opts, resources.ServerOptions()...)
		opts = append(opts, server.WithResourceCompletionProvider(o.Resources))
		completer = o.Resources
	}
	if !o.ReadOnly {
		// Every prompt leads to place_call: --read-only withdraws them too.
		opts = append(opts, server.WithPromptCapabilities(false),
			server.WithPromptCompletionProvider(prompts.Completions{Recent: completer}), server.WithCompletions())
	}
	var runner *taskRunner
	if o.Tasks != nil {
		runner = newTaskRunner(*o.Tasks)
		opts = append(opts, runner.serverOptions(hooks)...)
		o.Deps.Tasks = runner
	}
	opts = append(opts, server.WithToolFilter(modernView))
	// MCP Apps views: declared to everyone, shown only to clients that
	// declared the extension.
	opts = append(opts, views.ServerOptions()...)
	hooks.AddAfterDiscover(func(_ context.Context, _ any, _ *mcp.DiscoverRequest, r *mcp.DiscoverResult) {
		// Tasks are for 2025-11-25 clients only, and elicitation is a client
		// capability that mcp-go also lists for servers.
		r.Capabilities.Tasks = nil
		r.Capabilities.Elicitation = nil
	})
	hooks.AddAfterInitialize(func(_ context.Context, _ any, _ *mcp.InitializeRequest, r *mcp.InitializeResult) {
		r.Capabilities.Elicitation = nil
	})
	opts = append(opts, o.ServerOptions...)
	s := server.NewMCPServer(Name, o.Version, opts...)
	defs := tools.Definitions(o.Deps, !o.ReadOnly)
	if o.Tasks != nil {
		for i := range defs {
			if defs[i].Tool.Name == "wait_for_call" || defs[i].Tool.Name == "wait_for_campaign" {
				defs[i].Tool.Execution = &mcp.ToolExecution{TaskSupport: mcp.TaskSupportOptional}
			}
		}
	}
	views.Annotate(defs)
	writeTools := map[string]bool{}
	for _, d := range defs {
		if ro := d.Tool.Annotations.ReadOnlyHint; ro == nil || !*ro {
			writeTools[d.Tool.Name] = true
		}
	}
	s.AddTools(defs...)
	views.Register(s, hooks)
	if o.Resources != nil {
		o.Resources.Register(s, hooks)
	}
	if !o.ReadOnly {
		prompts.Register(s)
	}
	filter := &Filter{ConfirmAlways: !o.ReadOnly && o.Deps.ConfirmCalls == tools.ConfirmAlways}
	if !o.ReadOnly {
		filter.CheckPrompt = prompts.Check
	}
	return &Server{
		mcp:        s,
		life:       life,
		sessionIDs: newSessionIDs(hooks, o.Deps.Clock, o.ReplicaID),
		tasks:      runner,
		filter:     filter,
		log:        o.Log,
		writeTools: writeTools,
	}
}

// IsWriteTool reports whether the tool places or changes calls (its
// readOnlyHint is false): place_call, place_calls and every campaign tool
// that changes a campaign.
func (s *Server) IsWriteTool(name string) bool { return s.writeTools[name] }

// MCP returns the underlying mcp-go server.
func (s *Server) MCP() *server.MCPServer { return s.mcp }

// Filter returns the pre-dispatch rules.
func (s *Server) Filter() *Filter { return s.filter }
