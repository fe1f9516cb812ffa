// Checks one output of `inspector --cli` read from stdin.
// Usage: node inspector-check.mjs tools-list | place-call | get-call CALLID
// Prints one line (for place-call: the callId) and exits 0, or prints why and exits 1.
const [what, callId] = process.argv.slice(2);
const STATUSES = ['queued', 'dialing', 'in_progress', 'completed', 'no_answer', 'voicemail', 'declined', 'failed'];
let s = '';
process.stdin.on('data', (d) => (s += d)).on('end', () => {
  const fail = (m) => { console.log(m); process.exit(1); };
  let r;
  try { r = JSON.parse(s.slice(s.indexOf('{'))); } catch (e) { fail('output is not JSON: ' + s.slice(0, 300).replace(/\n/g, ' ')); }
  if (what === 'tools-list') {
    const names = (r.tools || []).map((t) => t.name).sort();
    const want = ['get_call', 'list_calls', 'place_call', 'wait_for_call'];
    const missing = want.filter((n) => !names.includes(n));
    if (missing.length) fail('missing tools: ' + missing.join(','));
    console.log('tools: ' + names.join(','));
    return;
  }
  if (r.isError) fail('isError result: ' + JSON.stringify(r.content).slice(0, 300));
  const sc = r.structuredContent || {};
  const text = (r.content || []).map((c) => c.text || '').join(' ');
  if (what === 'place-call') {
    if (typeof sc.callId !== 'string' || !sc.callId) fail('no structuredContent.callId: ' + JSON.stringify(r).slice(0, 300));
    if (!STATUSES.includes(sc.status)) fail('unexpected status ' + sc.status);
    if (!text.includes(sc.callId)) fail('text content does not name the callId');
    console.log(sc.callId);
  } else if (what === 'get-call') {
    if (sc.id !== callId) fail('get_call returned id ' + sc.id + ', want ' + callId);
    if (!STATUSES.includes(sc.status)) fail('unexpected status ' + sc.status);
    if (sc.to !== '+14155550123') fail('unexpected to ' + sc.to);
    console.log('call ' + sc.id + ' status ' + sc.status);
  } else fail('unknown check ' + what);
});
