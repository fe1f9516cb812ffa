// Shared helpers of the two views (after bridge.js, before each view's own
// script).
function $(id) { return document.getElementById(id); }
var TERMINAL = { completed: 1, no_answer: 1, voicemail: 1, declined: 1, failed: 1 };
// HINTS say in one sentence what an error token of a call means.
var HINTS = {
  carrier_error: "The carrier could not connect the call. It may work if placed again later.",
  not_found: "No such call exists for this API key; list_calls shows recent calls."
};
function hintFor(token) { return HINTS[token] || "The call failed (" + token + "). It may work if placed again later."; }
var STATUS_LABEL = { queued: "Queued", dialing: "Dialing", in_progress: "In progress", completed: "Completed", no_answer: "No answer", voicemail: "Voicemail", declined: "Declined", failed: "Failed" };
function el(tag, attrs, kids) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) { if (k === "text") e.textContent = attrs[k]; else if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]); }
  (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
  return e;
}
function statusClass(s) { return s === "completed" ? "ok" : (s === "failed" || s === "declined" || s === "refused" || s === "expired") ? "bad" : (s === "no_answer" || s === "voicemail" || s === "cancelled" || s === "paused") ? "warn" : "live"; }
function humanize(name) { return String(name).replace(/_/g, " ").replace(/^./, function (c) { return c.toUpperCase(); }); }
// formatValue renders an extracted value by type: yes/no, a number, text,
// or an explicit "not obtained" (returns [text, isMissing]).
function formatValue(v) {
  if (v === null || v === undefined || v === "") return ["not obtained", true];
  if (typeof v === "boolean") return [v ? "Yes" : "No", false];
  if (typeof v === "number") return [new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 }).format(v), false];
  if (typeof v === "object") return [JSON.stringify(v), false];
  return [String(v), false];
}
function valueCell(v) {
  var f = formatValue(v), td = el("td", { "class": (typeof v === "number" ? "num" : "") + (f[1] ? " muted" : "") });
  td.appendChild(f[1] ? el("em", { text: f[0] }) : document.createTextNode(f[0]));
  if (typeof v === "boolean") td.setAttribute("data-value", String(v));
  return td;
}
function resultData(params) {
  var sc = params && params.structuredContent;
  if (!sc && params && params.content) {
    for (var i = 0; i < params.content.length; i++) {
      var c = params.content[i];
      if (c.type === "text") { try { var j = JSON.parse(c.text); if (j && typeof j === "object") { sc = j; break; } } catch (e) {} }
    }
  }
  return { data: sc || null, isError: !!(params && params.isError) };
}
// backoff returns the next poll delay: from 2.5 s, times 1.5, at most 10 s
// (never faster than the server's own follower, which polls the API).
function backoff(prev) { return prev ? Math.min(prev * 1.5, 10000) : 2500; }
// toolError is the error a failed tool result carries, or a plain one.
function toolError(d) { return d.data || { error: "error", hint: "The tool call failed." }; }

// liveView wires a view to the host and keeps it live until it is done.
// v.state is the view's state, to which liveView adds args (the tool input),
// timer, delay, failures, stopped and stopMessage. v.render draws the state;
// v.result(d) takes a tool result (resultData) and returns whether to look
// again from now; v.next() returns the delay before the next look, or 0 for
// none; a look calls v.tool with v.args() and v.take(d) applies the answer
// and returns false if it was none. Five answers not taken, or three calls
// that fail, stop the updates; v.again says what the user can do then.
// Returns the view's redraw (render, then the size to the host), whose
// resume() starts the updates again at once (after the view changed what
// it shows, e.g. a campaign resumed).
function liveView(appName, v) {
  var state = v.state;
  state.args = {}; state.timer = null; state.delay = 0; state.failures = 0; state.stopped = false;
  function draw() { v.render(); bridge.reportSize(); }
  function stop(message) { state.stopped = true; state.stopMessage = message; }
  function schedule() {
    clearTimeout(state.timer);
    var delay = state.stopped ? 0 : v.next();
    if (!delay) return;
    state.delay = delay;
    state.timer = setTimeout(look, delay);
  }
  function look() {
    bridge.callTool(v.tool, v.args()).then(function (res) {
      if (v.take(resultData(res))) state.failures = 0; else state.failures++;
      if (state.failures >= 5) stop("Live updates stopped after repeated errors; " + v.again + ".");
      draw(); schedule();
    }, function (err) {
      state.failures++;
      if (state.failures >= 3) stop("Live updates are not available here (" + err.message + ").");
      draw(); schedule();
    });
  }
  bridge.on("ui/notifications/tool-input", function (p) { state.args = p.arguments || {}; draw(); });
  bridge.on("ui/notifications/tool-result", function (p) {
    var again = v.result(resultData(p));
    if (again) state.delay = 0;
    draw();
    if (again) schedule();
  });
  bridge.on("ui/notifications/tool-cancelled", function () { stop("The tool call was cancelled."); draw(); });
  bridge.onTeardown(function () { state.stopped = true; clearTimeout(state.timer); });
  bridge.onContext(draw);
  draw();
  bridge.connect(appName).catch(function (e) { $("live").textContent = "Not connected to a host: " + e.message; });
  draw.resume = function () { state.stopped = false; state.failures = 0; state.delay = 0; schedule(); };
  return draw;
}
