// A small host bridge for MCP Apps (io.modelcontextprotocol/ui, 2026-01-26):
// JSON-RPC over postMessage with the host. Hand-written rather than the
// ext-apps SDK: its bundle with dependencies (app-with-deps.js, 2.0.4) is
// 542 KB against a 60 KB budget per view, and the views use five messages
// (ui/initialize, ui/notifications/initialized, tools/call, size-changed and
// the host's notifications). It only talks to window.parent and never opens
// a connection.
var bridge = (function () {
  var nextId = 1, pending = {}, handlers = {}, context = {};
  function post(msg) { window.parent.postMessage(msg, "*"); }
  function request(method, params, timeoutMs) {
    var id = nextId++;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { delete pending[id]; reject(new Error(method + " got no answer from the host")); }, timeoutMs || 60000);
      pending[id] = { resolve: resolve, reject: reject, timer: timer };
      post({ jsonrpc: "2.0", id: id, method: method, params: params || {} });
    });
  }
  function notify(method, params) { post({ jsonrpc: "2.0", method: method, params: params || {} }); }
  function applyContext(c) {
    if (!c) return;
    for (var k in c) context[k] = c[k];
    var root = document.documentElement;
    if (c.theme === "light" || c.theme === "dark") root.setAttribute("data-theme", c.theme);
    var vars = c.styles && c.styles.variables;
    if (vars) for (var name in vars) if (/^--[a-z0-9-]+$/.test(name) && typeof vars[name] === "string" && !/url\s*\(/i.test(vars[name])) root.style.setProperty(name, vars[name]);
    var d = c.containerDimensions;
    if (d) {
      root.style.height = d.height ? "100vh" : "";
      root.style.maxHeight = d.maxHeight ? d.maxHeight + "px" : "";
      root.style.width = d.width ? "100vw" : "";
      root.style.maxWidth = d.maxWidth ? d.maxWidth + "px" : "";
    }
    if (handlers.context) handlers.context(context);
  }
  window.addEventListener("message", function (ev) {
    if (ev.source !== window.parent) return;
    var m = ev.data;
    if (typeof m === "string") { try { m = JSON.parse(m); } catch (e) { return; } }
    if (!m || m.jsonrpc !== "2.0") return;
    if (m.method === undefined && m.id !== undefined && pending[m.id]) {
      var p = pending[m.id]; delete pending[m.id]; clearTimeout(p.timer);
      if (m.error) p.reject(new Error(m.error.message || "the host refused the request")); else p.resolve(m.result);
      return;
    }
    if (m.method && m.id !== undefined) {
      if (m.method === "ui/resource-teardown" || m.method === "ping") { if (handlers.teardown && m.method !== "ping") handlers.teardown(); post({ jsonrpc: "2.0", id: m.id, result: {} }); }
      else post({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found: " + m.method } });
      return;
    }
    if (m.method === "ui/notifications/host-context-changed") { applyContext(m.params); return; }
    var h = handlers[m.method];
    if (h) h(m.params || {});
  });
  var lastW = 0, lastH = 0;
  function reportSize() {
    var el = document.documentElement, w = Math.ceil(el.scrollWidth), h = Math.ceil(el.scrollHeight);
    if (w === lastW && h === lastH) return;
    lastW = w; lastH = h;
    notify("ui/notifications/size-changed", { width: w, height: h });
  }
  return {
    context: context,
    on: function (method, fn) { handlers[method] = fn; },
    onContext: function (fn) { handlers.context = fn; },
    onTeardown: function (fn) { handlers.teardown = fn; },
    callTool: function (name, args) { return request("tools/call", { name: name, arguments: args }); },
    connect: function (appName) {
      return request("ui/initialize", { protocolVersion: "2026-01-26", appInfo: { name: appName, version: "1" }, appCapabilities: { availableDisplayModes: ["inline"] } }, 15000)
        .then(function (r) {
          applyContext((r && r.hostContext) || {});
          notify("ui/notifications/initialized", {});
          if (window.ResizeObserver) new ResizeObserver(reportSize).observe(document.body);
          reportSize();
          return r;
        });
    },
    reportSize: reportSize
  };
})();

// Shared helpers of the two views.
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
function statusClass(s) { return s === "completed" ? "ok" : (s === "failed" || s === "declined" || s === "refused" || s === "expired") ? "bad" : (s === "no_answer" || s === "voicemail" || s === "cancelled") ? "warn" : "live"; }
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
