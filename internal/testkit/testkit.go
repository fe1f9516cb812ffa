// Package testkit holds helpers shared by the project's tests: the bys-mcp
// binary built once per test process, a goroutine-safe buffer for a child's
// stderr or a logger's output, free loopback addresses, the fast poll
// schedule and the app on the embedded sandbox, the MCP client set-ups
// (mcp-go in-process, official go-sdk over Streamable HTTP), both protocol
// eras, a result's text and structured content, the notifications a client
// got, a raw Streamable HTTP POST, a server's /metrics, goroutines released
// together, the OAuth sign-in of a remote host (the official Go SDK's client
// auth and a person filling the consent page), and the fake API: a standalone sandbox on loopback (in the test
// process, or the binary's sandbox subcommand as a child) and a recorder of
// the requests that reach an API. It is for tests only: product code must
// not import it.
package testkit
