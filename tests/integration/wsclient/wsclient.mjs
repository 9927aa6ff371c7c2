// A scriptable WebSocket client for the console tests, built on the `ws` package (not
// on anything of jaild's). It reads one JSON command per line on stdin and answers
// each with one JSON line on stdout:
//   {"op":"open","url":"ws://…","token":"…","origin":"…"}  → {"ok":true} or {"ok":false,"status":N,"body":"…"}
//   {"op":"send","data":"text typed"}                      binary frame (keystrokes)
//   {"op":"control","data":{…}}                            text frame (JSON control message)
//   {"op":"expect","re":"regex","timeout":5}               wait for terminal output matching re
//   {"op":"expect_text","type":"session","timeout":5}      wait for a control message from jaild
//   {"op":"drop"}  cut the TCP connection without a close frame
//   {"op":"close"} a clean close;  {"op":"wait_close","timeout":5} → {"ok":true,"code":N,"reason":"…"}
import WebSocket from 'ws';
import readline from 'node:readline';

let ws = null;
let out = '';          // terminal output not yet consumed by expect (its newest MiB)
const OUT_KEEP = 1 << 20;
let from = 0;          // where the pending expect looks next, in out
let texts = [];        // control messages from jaild not yet consumed
let closed = null;     // {code, reason}
let waiters = [];      // functions re-checked whenever something arrives

const answer = (o) => process.stdout.write(JSON.stringify(o) + '\n');
// the waiters look once per burst of messages (a flood comes a line a message: a look
// at each, a copy of all that is kept, was most of this client's minute)
let poked = false;
const poke = () => {
  if (poked) return;
  poked = true;
  setImmediate(() => { poked = false; const w = waiters; waiters = []; w.forEach((f) => f()); });
};

function waitFor(check, timeout) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), (timeout ?? 5) * 1000);
    const tryIt = () => {
      const r = check();
      if (r !== null && r !== undefined) { clearTimeout(timer); resolve(r); } else waiters.push(tryIt);
    };
    tryIt();
  });
}

function open(cmd) {
  return new Promise((resolve) => {
    const headers = {};
    if (cmd.token) headers.Authorization = `Bearer ${cmd.token}`;
    if (cmd.cookie) headers.Cookie = cmd.cookie;
    const opts = { headers, rejectUnauthorized: false };
    if (cmd.origin) opts.origin = cmd.origin;
    out = ''; texts = []; closed = null;
    ws = new WebSocket(cmd.url, opts);
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => resolve({ ok: true }));
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ ok: false, status: res.statusCode, body }));
    });
    ws.on('error', (e) => resolve({ ok: false, error: String(e) }));
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        out += data.toString('utf8');
        if (out.length > 2 * OUT_KEEP) {
          from = Math.max(0, from - (out.length - OUT_KEEP)); // the same place, in what is kept
          out = out.slice(-OUT_KEEP);
        }
      } else texts.push(JSON.parse(data.toString('utf8')));
      poke();
    });
    ws.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; poke(); });
  });
}

async function run(cmd) {
  switch (cmd.op) {
    case 'open': return open(cmd);
    case 'send': ws.send(Buffer.from(cmd.data, 'utf8')); return { ok: true };
    case 'control': ws.send(JSON.stringify(cmd.data)); return { ok: true };
    case 'expect': {
      // each look starts a little before where the last one ended (a match may have
      // begun in output already seen), not at the start of everything kept
      const re = new RegExp(cmd.re, 'mg');
      from = 0;
      const m = await waitFor(() => {
        re.lastIndex = from;
        const r = re.exec(out);
        if (r) { out = out.slice(r.index + r[0].length); return r; }
        from = Math.max(0, out.length - 8192);
        return null;
      }, cmd.timeout);
      return m ? { ok: true, match: m[0], groups: m.slice(1) } : { ok: false, out: out.slice(-2000), closed };
    }
    case 'expect_text': {
      const t = await waitFor(() => { const i = texts.findIndex((x) => x.type === cmd.type); return i < 0 ? null : texts.splice(i, 1)[0]; }, cmd.timeout);
      return t ? { ok: true, message: t } : { ok: false, texts, closed };
    }
    case 'drop': ws._socket.destroy(); return { ok: true };
    case 'close': ws.close(1000, 'bye'); return { ok: true };
    case 'wait_close': {
      const c = await waitFor(() => closed, cmd.timeout);
      return c ? { ok: true, ...c } : { ok: false };
    }
    case 'output': { const o = out; out = ''; return { ok: true, out: o }; }
    default: return { ok: false, error: `unknown op ${cmd.op}` };
  }
}

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    try { answer(await run(JSON.parse(line))); } catch (e) { answer({ ok: false, error: String(e) }); }
  });
});
rl.on('close', () => chain.then(() => process.exit(0)));
