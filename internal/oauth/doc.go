// Package oauth owns signing people in from remote MCP hosts (claude.ai,
// ChatGPT, VS Code, Cursor, Claude Code over HTTP) with OAuth 2.1, as the MCP
// authorization specification describes, when the server runs with --oauth:
// the server is then its own authorization server and the protected
// resource, on one origin.
//
// It owns the metadata documents (RFC 9728, RFC 8414), client registration
// (Client ID Metadata Documents and Dynamic Client Registration, RFC 7591),
// the authorization endpoint and its consent page (where a person pastes
// their By Your Side agent key, checked against the API before anything is
// issued), the token endpoint (authorization codes with PKCE S256, refresh
// tokens that rotate with reuse detection), revocation (RFC 7009), the
// storage of clients, codes, grants and tokens in the one state store
// (tokens as SHA-256 hashes, agent keys sealed with AES-256-GCM under the
// server secret), and the bearer middleware that turns an access token into
// the grant's key for the tools (through internal/tenant) and answers 401 and
// 403 challenges.
//
// It is written on the standard library: no maintained Go library is an
// authorization server for "the person brings an API key". Keys, tokens,
// codes and secrets never appear in its logs, answers or errors.
package oauth
