package mcpserver

import "testing"

func TestIDFromPrefix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"jsonrpc":"2.0","id":7,"method":"x"`, `7`},
		{`{"id" : -12,"method"`, `-12`},
		{`{"id":"abc-1","method"`, `"abc-1"`},
		{`{"method":"tools/call","params":{"x":1},"id":42`, `42`},
		{`{"jsonrpc":"2.0","method":"x"`, ``},
		{`{"id":"unterminated`, ``},
		{`{"id":"a\"b"}`, ``},
		{`{"id":null}`, ``},
		{`{"ids":1,"id":3}`, `3`},
	} {
		if got := string(idFromPrefix([]byte(tc.in))); got != tc.want {
			t.Errorf("idFromPrefix(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
