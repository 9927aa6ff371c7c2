// Console load for bench.py: SESSIONS WebSocket consoles spread over the given jails,
// each typing KEYS keystrokes at a person's pace, all at once. For every keystroke it
// measures the time until the shell's echo of it comes back. Prints one JSON line:
// {"sessions": N, "latencies_ms": [...]}. Uses the `ws` package the tests install.
import WebSocket from '../tests/integration/wsclient/node_modules/ws/wrapper.mjs';

const [base, token, jailList, sessionsArg, keysArg] = process.argv.slice(2);
const jails = jailList.split(',');
const SESSIONS = Number(sessionsArg), KEYS = Number(keysArg);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function session(jail) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}/api/jails/${jail}/console`, { headers: { Authorization: `Bearer ${token}` } });
    let out = '';
    let waiter = null;
    const check = () => { if (waiter && waiter.re.test(out)) { const w = waiter; waiter = null; out = ''; w.done(); } };
    const waitFor = (re) => new Promise((done) => { waiter = { re, done }; check(); });
    const lat = [];
    let sid = null;
    ws.on('message', (d, bin) => { if (bin) { out += d.toString(); check(); } else { const m = JSON.parse(d); if (m.type === 'session') sid = m.id; } });
    ws.on('error', reject);
    ws.on('open', async () => {
      await waitFor(/# /);
      await sleep(Math.random() * 200);
      for (let i = 0; i < KEYS; i++) {
        const ch = String.fromCharCode(97 + (i % 26));
        const t0 = process.hrtime.bigint();
        const echoed = waitFor(new RegExp(ch));
        ws.send(Buffer.from(ch));
        await echoed;
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (i % 20 === 19) { ws.send(Buffer.from('\x15')); await sleep(30); out = ''; }
        await sleep(20 + Math.random() * 40); // 15-50 keys a second: fast typing
      }
      ws.close();
      resolve({ lat, sid });
    });
  });
}

const all = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => session(jails[i % jails.length])));
console.log(JSON.stringify({ sessions: SESSIONS, latencies_ms: all.flatMap((s) => s.lat), ids: all.map((s) => s.sid) }));
