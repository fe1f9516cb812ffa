package mcpserver

import (
	"regexp"
	"testing"

	"github.com/mark3labs/mcp-go/server"
)

// A replica id names the replica in every session id it issues, so that a
// load balancer can route by the prefix; without one the ids are as before.
func TestSessionIDsCarryTheReplicaID(t *testing.T) {
	for _, c := range []struct {
		replica string
		want    *regexp.Regexp
	}{
		{"", regexp.MustCompile(`^bys-[0-9a-f]{32}$`)},
		{"8181", regexp.MustCompile(`^bys-8181-[0-9a-f]{32}$`)},
		{"eu_west.1", regexp.MustCompile(`^bys-eu_west\.1-[0-9a-f]{32}$`)},
	} {
		m := newSessionIDs(&server.Hooks{}, nil, c.replica)
		seen := map[string]bool{}
		for range 50 {
			id := m.Generate()
			if !c.want.MatchString(id) || seen[id] {
				t.Fatalf("replica %q: id %q (want %s, each new)", c.replica, id, c.want)
			}
			seen[id] = true
			if terminated, err := m.Validate(id); terminated || err != nil {
				t.Fatalf("replica %q: its own id %q refused: %v %v", c.replica, id, terminated, err)
			}
		}
		// Another replica's id is unknown here: 404, a new session.
		if _, err := newSessionIDs(&server.Hooks{}, nil, "8182").Validate(m.Generate()); err == nil {
			t.Fatalf("replica %q: another replica accepted its id", c.replica)
		}
	}
}
