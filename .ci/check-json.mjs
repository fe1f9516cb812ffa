// Parses host output and checks that server NAME is connected with TOOLS.
// Usage: node check-json.mjs KIND NAME TOOLS_CSV < output
//   KIND claude-init: first JSON line of `claude -p --output-format stream-json`
//   KIND codex:       result of mcpServerStatus/list
//   KIND codex-auth:  the same; NAME must want a sign-in (TOOLS unused)
// Exits 0 when it holds; otherwise prints one line saying why and exits 1.
const [kind, name, toolsCsv] = process.argv.slice(2);
const want = toolsCsv.split(',').filter(Boolean);
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', () => {
  const fail = (msg) => { console.log(msg); process.exit(1); };
  const line = input.split('\n').find((l) => l.trim().startsWith('{'));
  if (!line) fail('no JSON output');
  let m;
  try { m = JSON.parse(line); } catch (e) { fail('first JSON line does not parse: ' + e.message); }
  let tools;
  if (kind === 'claude-init') {
    if (m.type !== 'system' || m.subtype !== 'init') fail('first line is not system/init: ' + line.slice(0, 200));
    const srv = (m.mcp_servers || []).find((s) => s.name === name);
    if (!srv) fail('server ' + name + ' missing from mcp_servers');
    if (srv.status !== 'connected') fail('server ' + name + ' status ' + srv.status);
    const prefix = 'mcp__' + name + '__';
    tools = (m.tools || []).filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
  } else if (kind === 'codex') {
    const srv = (m.data || []).find((s) => s.name === name);
    if (!srv) fail('server ' + name + ' missing from mcpServerStatus/list');
    if (srv.toolsError) fail('toolsError: ' + srv.toolsError);
    tools = Object.keys(srv.tools || {});
  } else if (kind === 'codex-auth') {
    // The server wants a sign-in: Codex found its OAuth metadata and has no
    // token for it (not "unknown", as for a dead or an open server).
    const srv = (m.data || []).find((s) => s.name === name);
    if (!srv) fail('server ' + name + ' missing from mcpServerStatus/list');
    if (srv.authStatus !== 'notLoggedIn') fail('authStatus ' + srv.authStatus + (srv.toolsError ? '; toolsError: ' + srv.toolsError.slice(0, 120) : ''));
    console.log('authStatus notLoggedIn' + (/Auth required/.test(srv.toolsError || '') ? ' (Auth required)' : ''));
    process.exit(0);
  } else fail('unknown kind ' + kind);
  const missing = want.filter((t) => !tools.includes(t));
  if (missing.length) fail('missing tools: ' + missing.join(',') + ' (saw: ' + (tools.join(',') || 'none') + ')');
  console.log('tools: ' + tools.sort().join(','));
});
