// A team's identity provider for the --oauth-issuer end-to-end test
// (test/e2e/issuer_test.go): panva's oidc-provider (npm), certified OpenID
// Provider, issuing JWT access tokens for resource indicators (RFC 8707).
// People sign in through its development interactions (any login name is
// an account, and its sub); the test drives them over HTTP.
//
// Environment: OIDC_PROVIDER_DIR (where oidc-provider is installed), PORT,
// JWKS_FILE (a JSON Web Key Set of private keys: the first RS256 key signs),
// REDIRECT_URI (of the test's clients), RESOURCE (the default resource).
// Clients: "e2e" (access tokens live 10 minutes) and "e2e-short" (2 s).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.OIDC_PROVIDER_DIR;
const { default: Provider } = await import(pathToFileURL(join(dir, 'node_modules/oidc-provider/lib/index.js')).href);

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(readFileSync(process.env.JWKS_FILE, 'utf8'));
const client = (id) => ({
  client_id: id,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: [process.env.REDIRECT_URI],
  grant_types: ['authorization_code'],
  response_types: ['code'],
});

const provider = new Provider(issuer, {
  jwks,
  clients: [client('e2e'), client('e2e-short')],
  findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => process.env.RESOURCE,
      useGrantedResource: () => true,
      // Every resource gets JWT access tokens with our scopes: a token for
      // another resource is a real, well-signed token the server must
      // refuse.
      getResourceServerInfo: (ctx, resourceIndicator, c) => ({
        scope: 'calls:read calls:write',
        audience: resourceIndicator,
        accessTokenFormat: 'jwt',
        accessTokenTTL: c.clientId === 'e2e-short' ? 2 : 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});

createServer(provider.callback()).listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening at ${issuer}`);
});
