// Drives `codex app-server` over JSON-RPC on stdio: initialize, initialized,
// then mcpServerStatus/list; prints the list result (one JSON line) on stdout.
// Usage: node codex-probe.mjs CODEX_BIN [timeoutMs]
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const bin = process.argv[2];
const timeoutMs = Number(process.argv[3] || 60000);
let finished = false;
const child = spawn(bin, ['app-server'], { stdio: ['pipe', 'pipe', 'inherit'] });
const send = (m) => child.stdin.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\n');
const done = (code, msg) => {
  if (finished) return;
  finished = true;
  if (msg) console.error('codex-probe: ' + msg);
  try { child.stdin.end(); child.kill('SIGTERM'); } catch {}
  setTimeout(() => process.exit(code), 200);
};
setTimeout(() => done(3, 'timed out after ' + timeoutMs + ' ms'), timeoutMs);
child.on('error', (e) => done(4, 'cannot start codex: ' + e.message));
child.on('exit', (c) => done(4, 'codex app-server exited (' + c + ') before answering'));
readline.createInterface({ input: child.stdout }).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch { return; }
  if (m.id === 1) {
    if (m.error) return done(5, 'initialize failed: ' + JSON.stringify(m.error));
    send({ method: 'initialized' });
    send({ id: 2, method: 'mcpServerStatus/list', params: {} });
  } else if (m.id === 2) {
    if (m.error) return done(5, 'mcpServerStatus/list failed: ' + JSON.stringify(m.error));
    process.stdout.write(JSON.stringify(m.result) + '\n');
    done(0);
  }
});
send({ id: 1, method: 'initialize', params: { clientInfo: { name: 'bys-mcp-ci', version: '0' } } });
