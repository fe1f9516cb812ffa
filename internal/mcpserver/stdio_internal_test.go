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

// lineLogger logs what logrus's WriterLevel logged: one entry per line,
// without its line ending.
func TestLineLoggerLogsEachLine(t *testing.T) {
	var got []string
	l := lineLogger{func(args ...any) { got = append(got, args[0].(string)) }}
	if n, err := l.Write([]byte("mcp-go: one\r\n\ntwo\nthree")); n != 23 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	want := []string{"mcp-go: one", "", "two", "three"}
	if len(got) != len(want) {
		t.Fatalf("logged %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("logged %q, want %q", got, want)
		}
	}
}
