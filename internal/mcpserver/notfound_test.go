package mcpserver

import "testing"

func TestRewriteNotFound(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"not-found error", `{"jsonrpc":"2.0","id":3,"error":{"code":-32603,"message":"resource not found: no call c1 exists"}}`,
			`{"jsonrpc":"2.0","id":3,"error":{"code":-32002,"message":"resource not found: no call c1 exists"}}`},
		{"sse event", "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32603,\"message\":\"resource not found: x\"}}\n\n",
			"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32002,\"message\":\"resource not found: x\"}}\n\n"},
		{"other internal error", `{"jsonrpc":"2.0","id":3,"error":{"code":-32603,"message":"reading call c1: timeout"}}`,
			`{"jsonrpc":"2.0","id":3,"error":{"code":-32603,"message":"reading call c1: timeout"}}`},
		{"words inside a result", `{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"{\"code\":-32603,\"message\":\"resource not found"}]}}`,
			`{"jsonrpc":"2.0","id":3,"result":{"content":[{"type":"text","text":"{\"code\":-32603,\"message\":\"resource not found"}]}}`},
	}
	for _, c := range cases {
		if got := string(rewriteNotFound([]byte(c.in))); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
