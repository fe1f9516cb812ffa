package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/byourside/bys-mcp/internal/app"
	mcpclient "github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// InProcessClient starts an mcp-go in-process client of a's server with
// opts, initializes it as clientName asking for protocolVersion ("" = the
// client's choice), and closes it when the test ends.
func InProcessClient(tb testing.TB, a *app.App, clientName, protocolVersion string, opts ...mcpclient.ClientOption) *mcpclient.Client {
	tb.Helper()
	c, err := mcpclient.NewInProcessClientWithOptions(a.Server.MCP(), opts...)
	if err != nil {
		tb.Fatalf("in-process client: %v", err)
	}
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		tb.Fatalf("start: %v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = protocolVersion
	init.Params.ClientInfo = mcp.Implementation{Name: clientName, Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		tb.Fatalf("initialize: %v", err)
	}
	return c
}

// SDKStreamableSession connects the official go-sdk client, named
// clientName, to the Streamable HTTP endpoint (without the standalone SSE
// stream). The caller closes the session.
func SDKStreamableSession(tb testing.TB, ctx context.Context, clientName, endpoint string) *sdk.ClientSession {
	tb.Helper()
	cl := sdk.NewClient(&sdk.Implementation{Name: clientName, Version: "1"}, nil)
	s, err := cl.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: endpoint, DisableStandaloneSSE: true}, nil)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	return s
}

// SDKSession serves a over HTTP (ServeHTTPTest) and connects the official
// go-sdk client, named clientName, to its Streamable HTTP endpoint with a
// context that ends after timeout; the session closes and the context ends
// when the test does.
func SDKSession(tb testing.TB, a *app.App, clientName string, timeout time.Duration) (context.Context, *sdk.ClientSession) {
	tb.Helper()
	url := ServeHTTPTest(tb, a)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tb.Cleanup(cancel)
	s := SDKStreamableSession(tb, ctx, clientName, url+"/mcp")
	tb.Cleanup(func() { _ = s.Close() })
	return ctx, s
}
