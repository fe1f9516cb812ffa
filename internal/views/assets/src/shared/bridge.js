// A small host bridge for MCP Apps (io.modelcontextprotocol/ui, 2026-01-26):
// JSON-RPC over postMessage with the host. Hand-written rather than the
// ext-apps SDK: its bundle with dependencies (app-with-deps.js, 2.0.4) is
// 542 KB against a 60 KB budget per view, and the views use six messages
// (ui/initialize, ui/notifications/initialized, tools/call, resources/read,
// size-changed and the host's notifications). It only talks to
// window.parent and never opens a connection.
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
  // Sizes go to the host only once the handshake is done (as the ext-apps
  // App class does): before it a view's renders measure and send nothing,
  // and connect reports the size then.
  var initialized = false, lastW = 0, lastH = 0;
  function reportSize() {
    if (!initialized) return;
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
    readResource: function (uri) { return request("resources/read", { uri: uri }); },
    connect: function (appName) {
      return request("ui/initialize", { protocolVersion: "2026-01-26", appInfo: { name: appName, version: "1" }, appCapabilities: { availableDisplayModes: ["inline"] } }, 15000)
        .then(function (r) {
          applyContext((r && r.hostContext) || {});
          notify("ui/notifications/initialized", {});
          initialized = true;
          if (window.ResizeObserver) new ResizeObserver(reportSize).observe(document.body);
          reportSize();
          return r;
        });
    },
    reportSize: reportSize
  };
})();
