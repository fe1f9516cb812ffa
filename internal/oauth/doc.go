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
// With --oauth-issuer it is instead a resource server of the team's own
// identity provider (Resource): it serves the protected resource metadata
// naming that issuer, fetches the issuer's metadata and key set when needed,
// and checks its JWT access tokens (go-jose v4: signature, issuer,
// audience, expiry, scopes); the token's person (issuer and sub) then
// travels on the request's context, and internal/people keeps the calls of
// the server's one key apart per person. Both kinds of token share the
// bearer middleware (Guard over a Verifier): the same 401 and 403
// challenges and the same check of write tools.
//
// The authorization server is written on the standard library: no
// maintained Go library is an authorization server for "the person brings
// an API key". Keys, tokens, codes and secrets never appear in its logs,
// answers or errors.
package oauth
