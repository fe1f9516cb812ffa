package config

import (
	"fmt"
	"io"
	"strings"
)

const usageIntro = `bys-mcp is an MCP server for By Your Side, the API that places phone calls for
AI agents: it lets an MCP host (Claude Desktop, an IDE, an agent framework) place
a call, follow it until it ends, and read its outcome and transcript.

Try it with no key and no network:  bys-mcp --sandbox
(serves the built-in simulator; the README lists which numbers do what).
For real calls, export your agent key first:  export BYS_API_KEY=bys_ak_...

Usage:
  bys-mcp [flags]                 serve MCP (stdio by default; see --transport)
  bys-mcp demo                    run a narrated session against the simulator and exit
  bys-mcp sandbox [--addr ...]    serve the simulator as a standalone HTTP API
                                  (bys-mcp sandbox --help lists its flags)

Every flag can also be set through the environment variable shown with it;
a flag given on the command line wins over the variable, which wins over the default.

Environment only:
  BYS_API_KEY
        the server's agent key (bys_ak_...); required unless --sandbox, or
        unless every HTTP client brings its own key (sse and http transports);
        never a flag, so that it stays out of the process list
`

// Usage writes the --help text of the server: what bys-mcp is, how to try it,
// its subcommands, then every flag with its environment variable and default.
func Usage(w io.Writer) {
	_, _ = io.WriteString(w, usageIntro)
	writeOptions(w, mainOptions(Defaults()))
}

// writeOptions lists opts under their group headings.
func writeOptions(w io.Writer, opts []option) {
	var b strings.Builder
	group := ""
	for _, o := range opts {
		if o.group != group {
			group = o.group
			fmt.Fprintf(&b, "\n%s:\n", group)
		}
		arg := ""
		if _, isBool := o.value.(*boolValue); !isBool {
			arg = " " + argName(o.value)
		}
		fmt.Fprintf(&b, "  --%s%s\n", o.name, arg)
		for _, line := range wrap(o.usage, 70) {
			fmt.Fprintf(&b, "        %s\n", line)
		}
		var facts []string
		if o.env != "" {
			facts = append(facts, "env "+o.env)
		}
		if o.def != "" {
			facts = append(facts, "default "+o.def)
		}
		if len(facts) > 0 {
			fmt.Fprintf(&b, "        (%s)\n", strings.Join(facts, "; "))
		}
	}
	_, _ = io.WriteString(w, b.String())
}

func argName(v any) string {
	switch v.(type) {
	case *durationValue:
		return "duration"
	case *intValue, *int64Value:
		return "n"
	case *floatValue:
		return "x"
	case *listValue:
		return "list"
	default:
		return "string"
	}
}

// wrap splits s into lines of at most width characters, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = word
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
