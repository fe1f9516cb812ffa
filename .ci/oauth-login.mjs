// Signs a host in to a bys-mcp --oauth server headlessly: runs the host's
// login command (which prints the authorization URL and reads the redirect
// URL back, as `codex mcp login NAME --no-browser` does), plays the person's
// browser on the consent page (GET the page, approve with KEY and "allow
// placing calls", keep the anti-forgery cookie), and pastes the redirect URL
// (code, state, iss) back into the host.
// Usage: node oauth-login.mjs KEY TIMEOUT_MS COMMAND [ARGS...]
// Exits with the host's status; prints one line saying what happened.
import { spawn } from 'node:child_process';

const [key, timeoutMs, cmd, ...args] = process.argv.slice(2);
const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
let out = '';
let filled = false;
const finish = (code, msg) => {
  console.log(msg);
  try { child.kill('SIGTERM'); } catch {}
  process.exit(code);
};
setTimeout(() => finish(3, 'oauth-login: timed out after ' + timeoutMs + ' ms; host said: ' + tail()), Number(timeoutMs));
const tail = () => out.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g, '').replace(/\s+/g, ' ').slice(-300);

async function consent(authURL) {
  const page = await fetch(authURL, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error('consent page: ' + page.status + ' ' + html.slice(0, 200));
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const form = new URLSearchParams({ action: 'approve', key, write: '1' });
  for (const h of html.matchAll(/<input type="hidden" name="([a-z]+)" value="([^"]*)">/g)) form.set(h[1], h[2]);
  const origin = new URL(authURL).origin;
  const res = await fetch(origin + '/authorize', {
    method: 'POST', redirect: 'manual', body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin, cookie },
  });
  const loc = res.headers.get('location');
  if (res.status !== 303 || !loc || !new URL(loc).searchParams.get('code')) {
    throw new Error('consent answer: ' + res.status + ' ' + (loc || (await res.text()).slice(0, 200)));
  }
  return loc;
}

const onData = (d) => {
  out += d.toString();
  if (filled) return;
  const m = out.match(/https?:\/\/[^\s"'\x1b\x07]+\/authorize\?[^\s"'\x1b\x07]+/);
  if (!m) return;
  filled = true;
  consent(m[0]).then(
    (redirect) => child.stdin.write(redirect + '\n'),
    (e) => finish(4, 'oauth-login: ' + e.message),
  );
};
child.stdout.on('data', onData);
child.stderr.on('data', onData);
child.on('error', (e) => finish(5, 'oauth-login: cannot start ' + cmd + ': ' + e.message));
child.on('exit', (code) => {
  if (!filled) finish(code || 6, 'oauth-login: the host printed no authorization URL: ' + tail());
  finish(code ?? 1, 'oauth-login: host exited ' + code + ': ' + tail().slice(-120));
});
