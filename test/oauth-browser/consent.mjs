// Browser test of the --oauth consent page: a real bys-mcp (--oauth
// --sandbox, Streamable HTTP on loopback), Debian's chromium driven headless
// by playwright-core, and a small app on another loopback port that
// registers itself (DCR, a port-less loopback redirect URI), sends the
// person to /authorize and receives the redirect. A person types a key
// that is not a key (the page says so and nothing is issued), then their
// agent key, and allows; the app gets code, state and iss, exchanges the
// code with its PKCE verifier and calls /mcp with the token. Also: the page
// cannot be framed by another origin, Deny sends access_denied, unticking
// "Allow placing calls" grants calls:read only, and the page loads nothing
// but itself (no console errors, no other request).
//
// Env: BYS_BIN (the binary, required), CHROMIUM (default /usr/bin/chromium),
// PLAYWRIGHT_CORE (module path, default "playwright-core" from NODE_PATH or
// node_modules), OAUTH_OUT (screenshots; default ./out).
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(process.cwd(), "noop.js"));
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");
const BIN = process.env.BYS_BIN;
if (!BIN) throw new Error("set BYS_BIN to the bys-mcp binary (go build -o /tmp/bys-mcp .)");
const OUT = resolve(process.env.OAUTH_OUT || join(here, "out"));
mkdirSync(OUT, { recursive: true });

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const b64url = (b) => b.toString("base64url");
function step(msg) { console.log("oauth-browser: " + msg); }

// --- the server ---------------------------------------------------------
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(BIN, ["--sandbox", "--oauth", "--transport", "http", "--addr", `127.0.0.1:${port}`, "--public-url", base, "--calling-hours", "off", "--log-level", "warn"], {
  env: { ...process.env, BYS_STATE_DIR: "memory", BYS_API_KEY: "" }, stdio: ["ignore", "ignore", "inherit"],
});

// --- the app: registers, and receives the redirect ----------------------
const appPort = await freePort();
const appOrigin = `http://127.0.0.1:${appPort}`;
const callbacks = [];
let waiters = [];
const app = createServer((req, res) => {
  const u = new URL(req.url, appOrigin);
  if (u.pathname === "/callback") {
    callbacks.push(Object.fromEntries(u.searchParams));
    waiters.forEach((w) => w());
    waiters = [];
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end("<!doctype html><title>Signed in</title><p id=done>You may close this page.</p>");
    return;
  }
  if (u.pathname === "/favicon.ico") {
    res.writeHead(204).end();
    return;
  }
  if (u.pathname === "/frame.html") {
    // Another origin tries to frame the consent page (clickjacking).
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(`<!doctype html><iframe id=f src="${u.searchParams.get("src")}" width=600 height=600></iframe>`);
    return;
  }
  res.writeHead(404).end();
});
await new Promise((ok) => app.listen(appPort, "127.0.0.1", ok));
const nextCallback = () => new Promise((ok) => waiters.push(ok));

let browser;
async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  app.close();
  server.kill();
}
process.on("uncaughtException", async (e) => { console.error(e); await cleanup(); process.exit(1); });
const problems = [];
try {
  await run();
  await cleanup();
} catch (e) {
  console.error(e);
  await cleanup();
  process.exit(1);
}
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("oauth-browser: 1 passed, 0 failed");

async function run() {
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + "/healthz")).ok) break; } catch {}
    if (i > 200) throw new Error("bys-mcp did not answer /healthz within 20 s");
    await sleep(100);
  }
  // The app discovers the server as a host does.
  const mcp401 = await fetch(base + "/mcp", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  assert.equal(mcp401.status, 401);
  const prmURL = /resource_metadata="([^"]+)"/.exec(mcp401.headers.get("www-authenticate"))[1];
  const prm = await (await fetch(prmURL)).json();
  const asm = await (await fetch(prm.authorization_servers[0] + "/.well-known/oauth-authorization-server")).json();
  const reg = await (await fetch(asm.registration_endpoint, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/callback"], client_name: "Browser Test App", token_endpoint_auth_method: "none" }) })).json();
  assert.ok(reg.client_id, "registered");
  const redirect = `${appOrigin}/callback`; // port-less registration, port chosen now
  function authorizeURL(state, scope) {
    const verifier = b64url(randomBytes(40));
    const challenge = b64url(createHash("sha256").update(verifier).digest());
    const q = new URLSearchParams({ response_type: "code", client_id: reg.client_id, redirect_uri: redirect, code_challenge: challenge,
      code_challenge_method: "S256", state, resource: prm.resource });
    if (scope) q.set("scope", scope);
    return { url: `${asm.authorization_endpoint}?${q}`, verifier };
  }

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  const ctx = await browser.newContext({ viewport: { width: 720, height: 900 } });
  const page = await ctx.newPage();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // The page answering a refused key says so with 400 on purpose.
    if (/status of 400/.test(m.text()) && refusedStep) return;
    problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  let refusedStep = false;

  // 1. The consent page: what it shows and how it is served.
  const a1 = authorizeURL("state-1");
  const resp = await page.goto(a1.url);
  assert.equal(resp.status(), 200);
  const h = resp.headers();
  assert.match(h["content-security-policy"], /frame-ancestors 'none'/);
  assert.equal(h["x-frame-options"], "DENY");
  assert.equal(h["cache-control"], "no-store");
  assert.equal(h["referrer-policy"], "no-referrer");
  assert.equal(await page.textContent("#client-name"), "Browser Test App");
  assert.equal(await page.textContent("#redirect-host"), `127.0.0.1:${appPort}`);
  assert.equal(await page.getAttribute("#key", "type"), "password");
  assert.ok(await page.isChecked("#write"), "placing calls is offered, ticked");
  await page.screenshot({ path: join(OUT, "consent.png"), fullPage: true });
  step("consent page shown");

  // 2. Something that is not a key: said on the page, nothing issued.
  await page.fill("#key", "sk_live_not_a_key");
  refusedStep = true;
  await Promise.all([page.waitForLoadState("load"), page.click("#approve")]);
  assert.match(await page.textContent("#error"), /starts with bys_ak_/);
  assert.equal(callbacks.length, 0);
  await page.screenshot({ path: join(OUT, "consent-refused.png"), fullPage: true });
  step("a wrong key is refused on the page");

  // 3. The agent key: the browser is sent back with code, state and iss.
  refusedStep = false;
  await page.fill("#key", "bys_ak_browser_person");
  let got = nextCallback();
  await page.click("#approve");
  await got;
  let cb = callbacks.at(-1);
  assert.equal(cb.state, "state-1");
  assert.equal(cb.iss, base);
  assert.ok(cb.code);
  await page.waitForSelector("#done");
  step("approved: the app got its code");
  const tok = await (await fetch(asm.token_endpoint, { method: "POST", body: new URLSearchParams({ grant_type: "authorization_code", code: cb.code,
    code_verifier: a1.verifier, client_id: reg.client_id, redirect_uri: redirect, resource: prm.resource }) })).json();
  assert.equal(tok.token_type, "Bearer");
  assert.equal(tok.scope, "calls:read calls:write");
  const init = await fetch(base + "/mcp", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", Authorization: "Bearer " + tok.access_token },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "browser-test", version: "1" } } }) });
  assert.equal(init.status, 200);
  step("the token opens /mcp");

  // 4. Read only: untick placing calls.
  const a2 = authorizeURL("state-2");
  await page.goto(a2.url);
  await page.fill("#key", "bys_ak_browser_person");
  await page.uncheck("#write");
  got = nextCallback();
  await page.click("#approve");
  await got;
  cb = callbacks.at(-1);
  const ro = await (await fetch(asm.token_endpoint, { method: "POST", body: new URLSearchParams({ grant_type: "authorization_code", code: cb.code,
    code_verifier: a2.verifier, client_id: reg.client_id, redirect_uri: redirect }) })).json();
  assert.equal(ro.scope, "calls:read");
  step("unticked: read only");

  // 5. Deny.
  await page.goto(authorizeURL("state-3").url);
  got = nextCallback();
  await page.click("#deny");
  await got;
  cb = callbacks.at(-1);
  assert.equal(cb.error, "access_denied");
  assert.equal(cb.state, "state-3");
  assert.equal(cb.iss, base);
  assert.equal(cb.code, undefined);
  step("denied: access_denied");

  // 6. Another origin cannot frame the page.
  const framer = await ctx.newPage();
  framer.on("console", () => {}); // the refused frame logs an error by design
  await framer.goto(`${appOrigin}/frame.html?src=${encodeURIComponent(authorizeURL("state-4").url)}`);
  await sleep(500);
  const child = framer.frames().find((f) => f !== framer.mainFrame());
  const framed = child ? await child.$("#approve").catch(() => null) : null;
  assert.equal(framed, null, "the consent page rendered inside another origin's frame");
  step("framing refused");

  // Only the server, the app and nothing else were asked for anything.
  const foreign = requests.filter((u) => !u.startsWith(base) && !u.startsWith(appOrigin));
  assert.deepEqual(foreign, [], "requests beyond the server and the app");
}
