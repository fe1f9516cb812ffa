// Browser test of the MCP Apps views: a real bys-mcp (--sandbox, Streamable
// HTTP, 2026-07-28 requests from a client that declares the ui extension),
// Debian's chromium driven headless by playwright-core, and a small host page
// (host.html) that speaks the host side of the protocol. It places real
// sandbox calls, loads each view exactly as resources/read returns it into a
// sandboxed iframe, proxies the view's tools/call and resources/read to the
// server, and checks the rendered DOM: status and its live move to
// completed, summary, every extracted value, the transcript toggle, the
// outcome and the recording played from the resource (a data: URL under the
// default policy), a paused campaign with its pause, resume and retry
// buttons, both themes, that each view's first message is ui/initialize and
// its size comes only after the handshake, no console errors and no network
// request beyond the host page.
// Screenshots go to $VIEWS_OUT.
//
// Env: BYS_BIN (the binary, required), CHROMIUM (default /usr/bin/chromium),
// VIEWS_OUT (screenshots; default ./out), PLAYWRIGHT_CORE (module path, default
// "playwright-core" from NODE_PATH or node_modules), VIEWS_UPDATE_DOCS=1 (copy
// the README's four screenshots into docs/views after a pass).
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync, mkdirSync, copyFileSync } from "node:fs";
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
const OUT = resolve(process.env.VIEWS_OUT || join(here, "out"));
mkdirSync(OUT, { recursive: true });
const UI = "io.modelcontextprotocol/ui";
const MIME = "text/html;profile=mcp-app";

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function step(msg) { console.log("views: " + msg); }

// --- the server ---------------------------------------------------------
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(BIN, ["--sandbox", "--transport", "http", "--addr", `127.0.0.1:${port}`, "--calling-hours", "off", "--log-level", "warn"], {
  env: { ...process.env, BYS_STATE_DIR: "memory", BYS_API_KEY: "" }, stdio: ["ignore", "ignore", "inherit"],
});
let hostServer, browser;
async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (hostServer) hostServer.close();
  server.kill();
}
// Every failure ends the browser and both servers before the exit.
process.on("uncaughtException", async (e) => { console.error(e); await cleanup(); process.exit(1); });
const problems = [];
try {
  await run();
} catch (e) {
  console.error(e);
  await cleanup();
  process.exit(1);
}

async function run() {
for (let i = 0; ; i++) {
  try { if ((await fetch(base + "/healthz")).ok) break; } catch {}
  if (i > 200) throw new Error("bys-mcp did not answer /healthz within 20 s");
  await sleep(100);
}

let rpcId = 0;
// rpc sends one 2026-07-28 request; withUI declares the MCP Apps extension.
async function rpc(method, params = {}, withUI = true) {
  const caps = withUI ? { extensions: { [UI]: { mimeTypes: [MIME] } } } : {};
  const body = { jsonrpc: "2.0", id: ++rpcId, method, params: { ...params, _meta: {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": caps,
    "io.modelcontextprotocol/clientInfo": { name: "views-test", version: "1" },
  } } };
  const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", "Mcp-Protocol-Version": "2026-07-28", "Mcp-Method": method };
  if (params.name) headers["Mcp-Name"] = params.name;
  if (params.uri) headers["Mcp-Name"] = params.uri;
  const res = await fetch(base + "/mcp", { method: "POST", headers, body: JSON.stringify(body) });
  let text = await res.text();
  if ((res.headers.get("content-type") || "").includes("text/event-stream")) {
    const data = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => JSON.parse(l.slice(5)));
    const answer = data.find((m) => m.id === body.id);
    if (!answer) throw new Error(`${method}: no answer in the event stream`);
    text = JSON.stringify(answer);
  }
  const msg = JSON.parse(text);
  if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
  const { resultType, _meta, ...result } = msg.result;
  return result;
}

// --- metadata as the test's host sees it -------------------------------
const tools = (await rpc("tools/list")).tools;
const metaOf = (name) => tools.find((t) => t.name === name)?._meta?.ui?.resourceUri;
assert.equal(metaOf("place_call"), "ui://bys/call.html");
assert.equal(metaOf("place_calls"), "ui://bys/campaign.html");
const plain = (await rpc("tools/list", {}, false)).tools;
assert.ok(plain.every((t) => !t._meta || !t._meta.ui), "a client without the extension sees _meta.ui");
async function view(uri) {
  const r = await rpc("resources/read", { uri });
  assert.equal(r.contents.length, 1);
  assert.equal(r.contents[0].mimeType, MIME);
  return r.contents[0];
}
const callView = await view("ui://bys/call.html"), callHTML = callView.text;
const campaignView = await view("ui://bys/campaign.html"), campaignHTML = campaignView.text;
step(`views read: call ${callHTML.length} B, campaign ${campaignHTML.length} B`);

// --- the host page and the browser -------------------------------------
// The host page is served with the restrictive policy the MCP Apps
// specification asks hosts to apply when a view declares no domains; the
// srcdoc iframe inherits it.
const CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'self'";
const hostPage = readFileSync(join(here, "host.html"));
const hostPort = await freePort();
hostServer = createServer((req, res) => {
  if (req.url !== "/host.html") { res.writeHead(404).end(); return; }
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": CSP }).end(hostPage);
});
await new Promise((ok) => hostServer.listen(hostPort, "127.0.0.1", ok));
const hostURL = `http://127.0.0.1:${hostPort}/host.html`;

browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu"] });
const statusesSeen = [];
const hosts = []; // [name, page] of every host page opened
// intercept, when set, answers a view's tools/call itself (for a campaign
// the test makes up); it returns undefined to let the server answer.
let intercept = null;
async function openHost(theme, name) {
  const ctx = await browser.newContext({ viewport: { width: 780, height: 900 }, deviceScaleFactor: 1, colorScheme: theme });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: `http://127.0.0.1:${hostPort}` });
  const page = await ctx.newPage();
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${name}: console ${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("request", (r) => { const u = r.url(); if (u !== hostURL && !u.startsWith("about:") && !u.startsWith("data:")) problems.push(`${name}: network request to ${u}`); });
  await page.exposeFunction("mcpToolsCall", async (params) => {
    const made = intercept && intercept(params);
    if (made) return made;
    const r = await rpc("tools/call", params);
    if (r.structuredContent?.status) statusesSeen.push(`${name}:${r.structuredContent.status}`);
    return r;
  });
  await page.exposeFunction("mcpResourcesRead", (params) => rpc("resources/read", params));
  await page.goto(hostURL);
  hosts.push([name, page]);
  return page;
}
const frameOf = (page) => page.frames().find((f) => f !== page.mainFrame());
async function waitFor(page, what, fn, arg, timeoutMs = 90000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = frameOf(page);
    if (f) { try { const v = await f.evaluate(fn, arg); if (v) return v; } catch {} }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
const badgeIs = (s) => document.getElementById("badge")?.getAttribute("data-status") === s;
async function bodyIsDark(frame) {
  return frame.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.3;
  });
}
// contrast checks every element that shows text: its colour against the
// nearest background (WCAG AA, 4.5:1), and that the page has real headings.
async function contrast(frame, name) {
  const bad = await frame.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3); } return [255, 255, 255]; };
    const out = [];
    for (const el of document.querySelectorAll("body *")) {
      if (el.closest("[hidden]") || !el.offsetParent && el.tagName !== "BODY") continue;
      if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const fg = rgb(getComputedStyle(el).color).slice(0, 3), bg = bgOf(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
    if (!document.querySelector("h1") || !document.querySelector("h2")) out.push("no h1/h2 headings");
    return out;
  });
  assert.deepEqual(bad, [], `${name}: text below 4.5:1 contrast`);
}
async function shot(page, file) {
  await sleep(300);
  const el = await page.$("iframe");
  await el.screenshot({ path: join(OUT, file) });
  step("screenshot " + join(OUT, file));
}

// --- the call card, light: place_call, live to completed ----------------
const callInput = {
  to: "+14155550123",
  objective: "Book a table for 4 at 7 PM Friday and ask for the name on the booking.",
  fields: [
    { name: "booked", type: "boolean", description: "Did they confirm the booking?" },
    { name: "party_size", type: "number", description: "How many people" },
    { name: "contact_name", type: "string", description: "Name given for the reservation" },
  ],
};
const placed = await rpc("tools/call", { name: "place_call", arguments: callInput });
assert.ok(!placed.isError, "place_call failed: " + JSON.stringify(placed));
const callId = placed.structuredContent.callId;
step("placed " + callId);
const light = await openHost("light", "call-light");
await light.evaluate(([html, input, result]) => window.startView(html, { theme: "light", input, result, title: "Call card" }), [callHTML, callInput, placed]);
await waitFor(light, "the call card to show the call as running", () => ["queued", "dialing", "in_progress"].includes(document.getElementById("badge")?.getAttribute("data-status")));
await waitFor(light, "the call card to show in_progress", badgeIs, "in_progress");
await shot(light, "call-light-in-progress.png");
await waitFor(light, "the call card to reach completed", badgeIs, "completed");
const frame = frameOf(light);
const card = await frame.evaluate(() => ({
  timeline: [...document.querySelectorAll("#timeline li")].map((li) => li.getAttribute("data-status") + ":" + li.className),
  summary: document.getElementById("summary-text").textContent,
  summaryShown: !document.getElementById("summary").hidden,
  fields: Object.fromEntries([...document.querySelectorAll("#fields-body tr")].map((tr) => [tr.getAttribute("data-field"), tr.querySelector("td").textContent])),
  transcriptOpen: document.getElementById("transcript-details").open,
  transcriptShown: !document.getElementById("transcript").hidden,
  live: document.getElementById("live").textContent,
  where: document.getElementById("where-facts").textContent,
}));
const record = (await rpc("tools/call", { name: "get_call", arguments: { callId } })).structuredContent;
assert.equal(record.status, "completed");
assert.deepEqual(card.timeline, ["queued:done", "dialing:done", "in_progress:done", "completed:end done ok"]);
assert.ok(card.summaryShown && card.summary === record.summary, `summary ${JSON.stringify(card.summary)} != ${JSON.stringify(record.summary)}`);
for (const f of callInput.fields) {
  const v = record.extracted[f.name];
  const want = v === null ? "not obtained" : typeof v === "boolean" ? (v ? "Yes" : "No") : typeof v === "number" ? new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 }).format(v) : String(v);
  assert.equal(card.fields[f.name], want, `field ${f.name}`);
}
assert.ok(card.transcriptShown && !card.transcriptOpen, "the transcript is not shown folded");
assert.ok(card.live.includes("ended"), "the footer does not say the call ended: " + card.live);
if (placed.structuredContent.destination) assert.ok(card.where.includes("Local time"), "no local time shown: " + card.where);
await frame.click("#transcript-details > summary");
assert.ok(await frame.evaluate(() => document.getElementById("transcript-details").open && document.getElementById("transcript-text").offsetHeight > 0), "the transcript did not unfold");
assert.ok(!(await bodyIsDark(frame)), "the light theme renders dark");
assert.ok(statusesSeen.some((s) => s === "call-light:in_progress") && statusesSeen.at(-1) === "call-light:completed", "the view did not refresh through get_call: " + statusesSeen.join(","));
const calls = await light.evaluate(() => window.hostLog.filter((e) => e.dir === "in" && e.msg.method === "tools/call").length);
await sleep(6000);
const after = await light.evaluate(() => window.hostLog.filter((e) => e.dir === "in" && e.msg.method === "tools/call").length);
assert.equal(after, calls, "the view kept calling get_call after a terminal status");
await contrast(frame, "call card (light)");
await shot(light, "call-light.png");
step(`call card (light): completed after ${calls} get_call refreshes`);

// --- the call card, dark: the same place_call result (one get_call finds
// it completed), then a theme change ------------------------------------
const dark = await openHost("dark", "call-dark");
await dark.evaluate(([html, input, result]) => window.startView(html, { theme: "dark", input, result, title: "Call card" }), [callHTML, callInput, placed]);
await waitFor(dark, "the dark call card to show completed", badgeIs, "completed");
const darkFrame = frameOf(dark);
assert.ok(await bodyIsDark(darkFrame), "the dark theme is not dark");
await darkFrame.click("#transcript-details > summary");
await contrast(darkFrame, "call card (dark)");
await shot(dark, "call-dark.png");
await dark.evaluate(() => window.sendToView({ jsonrpc: "2.0", method: "ui/notifications/host-context-changed", params: { theme: "light" } }));
await sleep(300);
assert.ok(!(await bodyIsDark(darkFrame)), "host-context-changed to light did not apply");

// --- an identical place_call returns the ended call (deduplicated): the card
// fetches the record once and shows it ------------------------------------
const again = await rpc("tools/call", { name: "place_call", arguments: callInput });
assert.equal(again.structuredContent.deduplicated, true, "the second identical place_call was not deduplicated");
const dpage = await openHost("light", "call-dedup");
await dpage.evaluate(([html, input, result]) => window.startView(html, { theme: "light", input, result, title: "Call card" }), [callHTML, callInput, again]);
await waitFor(dpage, "the deduplicated call card to show the summary", (want) => document.getElementById("summary-text").textContent === want, record.summary, 30000);
assert.ok((await frameOf(dpage).evaluate(() => document.getElementById("details-facts").textContent)).includes("Deduplicated"));

// --- an outside_calling_hours refusal (a result the host makes up) -------
const refusal = { isError: true, content: [{ type: "text", text: "outside_calling_hours" }], structuredContent: {
  error: "outside_calling_hours", httpStatus: null, retryable: true, hint: "It is 22:14 at the destination; calls open at 08:00 there. Tell the user, or call back then.",
  timeZone: "America/Los_Angeles", localTime: "2026-12-03T22:14:00-08:00", opensAt: "2026-12-04T08:00:00-08:00" } };
const rpage = await openHost("light", "call-refused");
await rpage.evaluate(([html, input, result]) => window.startView(html, { theme: "light", input, result, title: "Call card" }), [callHTML, callInput, refusal]);
await waitFor(rpage, "the refused call card", badgeIs, "error");
const rfacts = await frameOf(rpage).evaluate(() => ({ token: document.getElementById("error-token").textContent, where: document.getElementById("where-facts").textContent, fields: document.getElementById("fields").hidden }));
assert.equal(rfacts.token, "outside_calling_hours");
assert.ok(rfacts.where.includes("22:14 (America/Los_Angeles)") && rfacts.where.includes("08:00 their time ("), "refusal facts: " + rfacts.where);
assert.ok(rfacts.fields, "a refused call shows a fields table");
await contrast(frameOf(rpage), "refused call card");
await shot(rpage, "call-refused.png");

// --- a call whose fields were not obtained -------------------------------
const unhelpful = await rpc("tools/call", { name: "place_call", arguments: { ...callInput, to: "+14155550005" } });
const uh = await rpc("tools/call", { name: "wait_for_call", arguments: { callId: unhelpful.structuredContent.callId, timeoutSec: 60 } });
assert.equal(uh.structuredContent.status, "completed");
const missing = await openHost("light", "call-missing");
await missing.evaluate(([html, input, result]) => window.startView(html, { theme: "light", input, result, title: "Call card" }), [callHTML, callInput, uh]);
await waitFor(missing, "the unhelpful call card", badgeIs, "completed");
const missingCells = await frameOf(missing).evaluate(() => [...document.querySelectorAll("#fields-body td")].map((td) => td.textContent));
assert.deepEqual(missingCells, ["not obtained", "not obtained", "not obtained"]);

// --- a failed call: token and hint ---------------------------------------
const failed = await rpc("tools/call", { name: "place_call", arguments: { ...callInput, to: "+14155550004" } });
const fw = await rpc("tools/call", { name: "wait_for_call", arguments: { callId: failed.structuredContent.callId, timeoutSec: 30 } });
const fpage = await openHost("light", "call-failed");
await fpage.evaluate(([html, input, result]) => window.startView(html, { theme: "light", input, result, title: "Call card" }), [callHTML, callInput, fw]);
await waitFor(fpage, "the failed call card", badgeIs, "failed");
const ferr = await frameOf(fpage).evaluate(() => ({ shown: !document.getElementById("error").hidden, token: document.getElementById("error-token").textContent, hint: document.getElementById("error-hint").textContent }));
assert.ok(ferr.shown && ferr.token === fw.structuredContent.error && ferr.hint.length > 10, "failed call error: " + JSON.stringify(ferr));
await contrast(frameOf(fpage), "failed call card");
await shot(fpage, "call-failed.png");

// --- the outcome and the recording: a person who asks to be called back,
// and one who asks not to be called again; the recording is read through
// the host (resources/read) and played from a data: URL -------------------
const callbackCall = await rpc("tools/call", { name: "place_call", arguments: { ...callInput, to: "+14155550010" } });
const dncCall = await rpc("tools/call", { name: "place_call", arguments: { ...callInput, to: "+14155550009" } });
const [cb, dnc] = await Promise.all([callbackCall, dncCall].map((p) => rpc("tools/call", { name: "wait_for_call", arguments: { callId: p.structuredContent.callId, timeoutSec: 60 } })));
assert.equal(cb.structuredContent.status, "completed");
assert.ok(cb.structuredContent.outcome?.callbackAt && dnc.structuredContent.outcome?.doNotCall === true, "sandbox outcomes: " + JSON.stringify([cb.structuredContent.outcome, dnc.structuredContent.outcome]));
const opage = await openHost("light", "call-outcome");
await opage.evaluate(([html, input, result]) => window.startView(html, { theme: "light", input, result, title: "Call card" }), [callHTML, callInput, cb]);
await waitFor(opage, "the call card with an outcome", badgeIs, "completed");
const oframe = frameOf(opage);
const facts = await oframe.evaluate(() => ({
  shown: !document.getElementById("outcome").hidden,
  byKey: Object.fromEntries([...document.querySelectorAll("#outcome-facts dd")].map((dd) => [dd.getAttribute("data-fact"), dd.textContent])),
  recordingShown: !document.getElementById("recording").hidden,
}));
assert.ok(facts.shown && facts.byKey.reached === "A person", "outcome: " + JSON.stringify(facts));
const cbTime = cb.structuredContent.outcome.callbackAt.slice(11, 16);
assert.ok(facts.byKey.callbackAt && facts.byKey.callbackAt.includes(cbTime + " their time"), "callback: " + JSON.stringify(facts.byKey));
assert.ok(!("doNotCall" in facts.byKey), "a do-not-call request shown for a person who did not ask: " + JSON.stringify(facts.byKey));
assert.ok(facts.recordingShown, "no recording section for a completed call with a recording");
await oframe.click("#recording-load");
const audio = await waitFor(opage, "the recording to load and play", () => {
  const a = document.querySelector("#recording-player audio");
  return a && a.readyState >= 1 && isFinite(a.duration) ? { src: a.getAttribute("src").slice(0, 40), duration: a.duration, controls: a.controls } : null;
}, undefined, 30000);
assert.ok(audio.src.startsWith("data:audio/wav;base64,UklGR") && audio.controls, "audio: " + JSON.stringify(audio));
assert.ok(Math.abs(audio.duration - 1.5) < 0.05, "the recording's duration is " + audio.duration + " s, want 1.5 s");
const reads = await opage.evaluate(() => window.hostLog.filter((e) => e.dir === "in" && e.msg.method === "resources/read").map((e) => e.msg.params.uri));
assert.deepEqual(reads, [`bys://calls/${cb.structuredContent.id}/recording`]);
await contrast(oframe, "call card with an outcome");
await shot(opage, "call-outcome.png");
const dpage2 = await openHost("dark", "call-do-not-call");
await dpage2.evaluate(([html, input, result]) => window.startView(html, { theme: "dark", input, result, title: "Call card" }), [callHTML, callInput, dnc]);
await waitFor(dpage2, "the do-not-call card", badgeIs, "completed");
const dncFacts = await frameOf(dpage2).evaluate(() => Object.fromEntries([...document.querySelectorAll("#outcome-facts dd")].map((dd) => [dd.getAttribute("data-fact"), dd.textContent])));
assert.ok(dncFacts.doNotCall && dncFacts.doNotCall.includes("do-not-call list") && dncFacts.reached === "A person", "do not call: " + JSON.stringify(dncFacts));
await contrast(frameOf(dpage2), "do-not-call card (dark)");
await shot(dpage2, "call-do-not-call-dark.png");
step("call card: outcome shown, recording played from the resource (" + audio.duration + " s)");

// --- the campaign board ---------------------------------------------------
const campaignInput = {
  name: "Dinner for four",
  objective: "Ask whether they have a table for 4 at 7 PM Friday.",
  fields: [{ name: "available", type: "boolean" }, { name: "price_per_person", type: "number" }],
  calls: [
    { to: "+14155550123", label: "Chez Panisse" },
    { to: "+14155550005", label: "Zuni Café" },
    { to: "+14155550004", label: "Nopa" },
  ],
  concurrency: 3,
};
const started = await rpc("tools/call", { name: "place_calls", arguments: campaignInput });
assert.ok(!started.isError, "place_calls failed: " + JSON.stringify(started));
for (const theme of ["light", "dark"]) {
  const page = await openHost(theme, "campaign-" + theme);
  const result = theme === "light" ? started : await rpc("tools/call", { name: "wait_for_campaign", arguments: { campaignId: started.structuredContent.campaignId, timeoutSec: 0 } });
  await page.evaluate(([html, input, result, theme]) => window.startView(html, { theme, input, result, title: "Campaign board" }), [campaignHTML, campaignInput, result, theme]);
  await waitFor(page, `the ${theme} campaign board to finish`, badgeIs, "completed");
  if (theme === "light") {
    const seen = statusesSeen.filter((x) => x.startsWith("campaign-light:"));
    assert.ok(seen.includes("campaign-light:running") && seen.at(-1) === "campaign-light:completed", "the board did not refresh through wait_for_campaign: " + seen.join(","));
  }
  const f = frameOf(page);
  const final = (await rpc("tools/call", { name: "wait_for_campaign", arguments: { campaignId: started.structuredContent.campaignId, timeoutSec: 0 } })).structuredContent;
  const board = await f.evaluate(() => ({
    rows: [...document.querySelectorAll("#tbody tr")].map((tr) => [...tr.children].map((c) => c.textContent)),
    head: [...document.querySelectorAll("#thead th")].map((th) => th.textContent),
    counts: [...document.querySelectorAll("#counts li")].map((li) => li.textContent),
  }));
  assert.equal(board.rows.length, 3);
  assert.deepEqual(board.head, ["#", "Call", "Outcome", "Available", "Price per person", "Notes"]);
  for (const it of final.items) {
    const row = board.rows[it.index];
    assert.ok(row[1].startsWith(it.label), `row ${it.index} label`);
    assert.equal(row[2], { completed: "Completed", failed: "Failed" }[it.status] || it.status);
    for (const [i, name] of ["available", "price_per_person"].entries()) {
      const v = it.extracted?.[name];
      const want = v === null || v === undefined ? (it.state === "ended" ? "not obtained" : "–") : typeof v === "boolean" ? (v ? "Yes" : "No") : new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 }).format(v);
      assert.equal(row[3 + i], want, `row ${it.index} ${name}`);
    }
  }
  assert.ok(board.counts.some((c) => c.includes("completed")), "counts: " + board.counts);
  assert.equal(await bodyIsDark(f), theme === "dark", `campaign ${theme} theme`);
  await contrast(f, `campaign board (${theme})`);
  await shot(page, `campaign-${theme}.png`);
}

// --- scheduled and refused items (a result the host makes up) ---------------
const made = { content: [{ type: "text", text: "Campaign After hours: 3 calls." }], structuredContent: {
  campaignId: "cmp_00000000000000000000", name: "After hours", status: "running", createdAt: "2026-12-03T20:00:00Z", deadline: "2026-12-04T20:00:00Z", total: 3,
  counts: { scheduled: 1, refused: 1, pending: 1 },
  items: [
    { index: 0, label: "Sydney office", to: "+61291234567", state: "scheduled", attempts: 0, notBefore: "2026-12-04T08:00:00+11:00" },
    { index: 1, to: "+14155550123", state: "refused", attempts: 0, error: "call_budget_exceeded", hint: "The hourly call budget of this key is used up; try again in an hour." },
    { index: 2, label: "London", to: "+442071838750", state: "pending", attempts: 0 },
  ] } };
const mpage = await openHost("light", "campaign-made");
await mpage.evaluate(([html, result, resourceMeta]) => window.startView(html, { theme: "light", input: { calls: [] }, result, resourceMeta, title: "Campaign board" }), [campaignHTML, made, campaignView._meta]);
await waitFor(mpage, "the made-up campaign board", badgeIs, "running");
const notes = await frameOf(mpage).evaluate(() => [...document.querySelectorAll("#tbody tr")].map((tr) => tr.lastElementChild.textContent));
assert.ok(notes[0].includes("08:00 their time"), "scheduled note: " + notes[0]);
assert.ok(notes[1].startsWith("call_budget_exceeded: The hourly call budget"), "refused note: " + notes[1]);
await frameOf(mpage).click("#copy");
assert.equal(await waitFor(mpage, "the copy button to answer", () => document.getElementById("copied").textContent), "Copied as CSV.");
await shot(mpage, "campaign-scheduled.png");

// --- a paused campaign (made up; the test answers its tools): its paused
// item, and the pause, resume and retry buttons calling the tools through
// the host with the campaign's id ------------------------------------------
let paused = { campaignId: "cmp_00000000000000000001", name: "Paused for lunch", status: "paused", createdAt: "2026-12-03T12:00:00Z", deadline: "2099-12-04T12:00:00Z", total: 3,
  counts: { ended: 1, paused: 1, in_call: 1 },
  items: [
    { index: 0, label: "Chez Panisse", to: "+14155550001", state: "ended", status: "no_answer", attempts: 1, callId: "f47ac10b-58cc-4372-a567-000000000001" },
    { index: 1, label: "Zuni Café", to: "+14155550123", state: "paused", attempts: 0 },
    { index: 2, label: "Nopa", to: "+14155550124", state: "in_call", attempts: 1, callId: "f47ac10b-58cc-4372-a567-000000000002" },
  ] };
const controlCalls = [];
intercept = (params) => {
  if (params.arguments?.campaignId !== paused.campaignId) return undefined;
  if (params.name !== "wait_for_campaign") controlCalls.push(`${params.name} ${JSON.stringify(params.arguments)}`);
  const items = paused.items;
  if (params.name === "resume_campaign") paused = { ...paused, status: "running", items: items.map((it) => it.state === "paused" ? { ...it, state: "pending" } : it) };
  if (params.name === "pause_campaign") paused = { ...paused, status: "paused", items: items.map((it) => it.state === "pending" ? { ...it, state: "paused" } : it) };
  if (params.name === "retry_campaign") paused = { ...paused, items: items.map((it) => it.state === "ended" && it.status === "no_answer" ? { index: it.index, label: it.label, to: it.to, state: "pending", attempts: it.attempts } : it) };
  return { content: [{ type: "text", text: "Campaign " + paused.name + ": " + paused.status }], structuredContent: paused };
};
const ppage = await openHost("light", "campaign-paused");
await ppage.evaluate(([html, result, resourceMeta]) => window.startView(html, { theme: "light", input: { calls: [] }, result, resourceMeta, title: "Campaign board" }), [campaignHTML, { structuredContent: paused, content: [] }, campaignView._meta]);
await waitFor(ppage, "the paused campaign board", badgeIs, "paused");
const pframe = frameOf(ppage);
const controls = () => pframe.evaluate(() => Object.fromEntries(["pause", "resume", "retry", "retry-cancel"].map((id) => [id, document.getElementById(id).hidden ? null : document.getElementById(id).textContent])));
const pausedRow = await pframe.evaluate(() => { const tr = document.querySelector('#tbody tr[data-state="paused"]'); return tr && [tr.children[2].textContent, tr.lastElementChild.textContent]; });
assert.deepEqual(pausedRow, ["Paused", "waits until the campaign is resumed"]);
assert.deepEqual(await controls(), { pause: null, resume: "Resume", retry: "Retry 1 call", "retry-cancel": null });
await contrast(pframe, "paused campaign board");
await shot(ppage, "campaign-paused.png");
await pframe.click("#resume");
await waitFor(ppage, "the board to show the campaign running again", badgeIs, "running");
assert.equal((await controls()).pause, "Pause");
await pframe.click("#pause");
await waitFor(ppage, "the board to show the campaign paused again", badgeIs, "paused");
await pframe.click("#retry");
assert.deepEqual(await controls(), { pause: null, resume: "Resume", retry: "Dial 1 call again", "retry-cancel": "Cancel" });
assert.equal(controlCalls.length, 2, "retry dialled without its confirmation");
await pframe.click("#retry");
await waitFor(ppage, "retry_campaign to be called", (n) => document.getElementById("control-note").textContent === "Dialling again." && n, 1);
assert.deepEqual(controlCalls, ["resume_campaign", "pause_campaign", "retry_campaign"].map((t) => `${t} {"campaignId":"${paused.campaignId}"}`));
assert.equal((await controls()).retry, null, "retry is still offered with nothing left to retry");
intercept = null;
step("campaign board: paused, then resume, pause and retry through the host");

// --- the handshake first: every view's first message is ui/initialize, and
// it reports its size only after ui/notifications/initialized (as the
// ext-apps App class does), though it renders before it connects -----------
for (const [name, page] of hosts) {
  const sent = await page.evaluate(() => window.hostLog.filter((e) => e.dir === "in").map((e) => e.msg.method || "response"));
  assert.equal(sent[0], "ui/initialize", `${name}: the view's first message is ${sent[0]}, not ui/initialize (${sent.slice(0, 4).join(", ")})`);
  const init = sent.indexOf("ui/notifications/initialized"), size = sent.indexOf("ui/notifications/size-changed");
  assert.ok(init > 0 && size > init, `${name}: size-changed is not after the handshake: ${sent.slice(0, 5).join(", ")}`);
}
step(`handshake first in all ${hosts.length} views`);

}

await cleanup();
if (problems.length) {
  console.error("views: FAIL\n  " + problems.join("\n  "));
  process.exit(1);
}
if (process.env.VIEWS_UPDATE_DOCS) {
  const docs = join(here, "..", "..", "docs", "views");
  for (const f of ["call-light.png", "call-dark.png", "campaign-light.png", "campaign-dark.png"]) copyFileSync(join(OUT, f), join(docs, f));
  step("updated " + docs);
}
step("PASS: call card (live to completed, fields, transcript, failed, not obtained, outcome, recording), campaign board (paused, pause, resume, retry), light and dark, handshake before any other message, no console errors, no network requests");
process.exit(0);
