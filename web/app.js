// jaild web console: one page, hash routes, the JSON API underneath. No framework:
// small helpers build the DOM with textContent (never innerHTML with data), every
// action reports the API's answer, and the root shell is xterm.js on the console
// WebSocket.
'use strict';

const S = {
  who: null,                                   // GET /api/session
  token: sessionStorage.getItem('jaild.token'), // token login (never in localStorage)
  csrf: sessionStorage.getItem('jaild.csrf'),   // cookie login's CSRF token
  events: null,                                 // AbortController of the event stream
  onEvent: null,                                // the page's live-update hook
  term: null,                                   // the open shell, if any
};

// ---- helpers ----

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

function toast(msg, bad) {
  const box = document.getElementById('toast');
  const el = h('div', { class: bad ? 'bad' : '' }, msg);
  box.append(el);
  setTimeout(() => el.remove(), bad ? 8000 : 4000);
}

function bytes(n) {
  if (n === null || n === undefined) return '–';
  const u = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + u[i];
}

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status; this.code = e.code; this.field = e.field;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (S.token) headers.Authorization = 'Bearer ' + S.token;
  if (S.csrf && method !== 'GET') headers['X-CSRF-Token'] = S.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (r.status === 401 && S.who) { sessionExpired(data); throw new ApiError(401, data); }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// an action: run it, report success or the API's message
async function act(what, fn) {
  try { const r = await fn(); toast(what + ': done'); return r; }
  catch (e) { toast(what + ': ' + e.message, true); return null; }
}

function sessionExpired(body) {
  const msg = (body && body.error && body.error.message) || 'your session has ended';
  forget();
  location.hash = '#/login';
  toast('Logged out: ' + msg + '. Log in again.', true);
}

function forget() {
  S.who = null; S.token = null; S.csrf = null; S.onEvent = null;
  sessionStorage.removeItem('jaild.token'); sessionStorage.removeItem('jaild.csrf');
  stopEvents();
}

// ---- live events (fetch, so a token works as well as the cookie) ----

function startEvents() {
  stopEvents();
  const ctl = new AbortController();
  S.events = ctl;
  const headers = S.token ? { Authorization: 'Bearer ' + S.token } : {};
  (async () => {
    let since = '';
    while (!ctl.signal.aborted) {
      try {
        const r = await fetch('/api/events' + (since ? '?since=' + since : ''), { headers, signal: ctl.signal, credentials: 'same-origin' });
        if (!r.ok) { if (r.status === 401) return; throw new Error('events: ' + r.status); }
        if (!since) since = 'now';
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i); buf = buf.slice(i + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
            if (!data) continue;
            try {
              const ev = JSON.parse(data);
              since = String(ev.id);
              if (S.onEvent) S.onEvent(ev);
            } catch { /* a keepalive or a partial line */ }
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      await new Promise((res) => setTimeout(res, 2000));
    }
  })();
}

function stopEvents() { if (S.events) S.events.abort(); S.events = null; }

// ---- forms with the API's field errors next to the field ----

let fieldSeq = 0;
function field(label, input, hint) {
  // unique: two forms on a page may have inputs of the same name
  const id = 'f-' + input.name.replace(/[^a-z0-9]/gi, '-') + '-' + ++fieldSeq;
  input.id = id;
  return h('div', { class: 'field', 'data-field': input.name },
    h('label', { for: id }, label), input, hint ? h('div', { class: 'muted' }, hint) : null,
    h('div', { class: 'error', 'aria-live': 'polite' }));
}

function clearErrors(form) {
  form.querySelectorAll('.field').forEach((f) => { f.classList.remove('invalid'); f.querySelector('.error').textContent = ''; });
  const fe = form.querySelector('.form-error'); if (fe) fe.textContent = '';
}

function showError(form, e) {
  // "limits.maxproc" -> the input named limits.maxproc; "ip4[0]" -> ip4
  const name = (e.field || '').replace(/\[\d+\]$/, '');
  const f = name && (form.querySelector(`.field[data-field="${CSS.escape(name)}"]`) ||
                     form.querySelector(`.field[data-field="${CSS.escape(name.split('.')[0])}"]`));
  if (f) {
    f.classList.add('invalid');
    f.querySelector('.error').textContent = e.message;
    const input = f.querySelector('input, select, textarea'); if (input) input.focus();
  } else {
    form.querySelector('.form-error').textContent = e.message;
  }
}

// ---- pages ----

const view = () => document.getElementById('view');

function page(title, ...kids) {
  const v = view();
  v.replaceChildren(h('h1', null, title), ...kids);
  document.title = title + ' – jaild';
  v.focus();
}

function loginPage() {
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  const tenant = h('input', { name: 'tenant', autocomplete: 'organization', required: true });
  const user = h('input', { name: 'user', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'card', 'aria-label': 'Log in with a user' },
    h('h2', null, 'Log in'), field('Tenant', tenant), field('User', user), field('Password', pass),
    h('div', { class: 'form-error', role: 'alert' }),
    h('button', { class: 'primary', type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    try {
      const r = await fetch('/api/login', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ tenant: tenant.value, user: user.value, password: pass.value }) });
      const body = await r.json().catch(() => null);
      if (!r.ok) throw new ApiError(r.status, body);
      S.token = null; S.csrf = body.csrf_token;
      sessionStorage.setItem('jaild.csrf', S.csrf);
      pass.value = '';
      await start();
    } catch (e) { showError(form, e); }
  });
  const tok = h('input', { name: 'token', type: 'password', autocomplete: 'off' });
  const tform = h('form', { class: 'card', 'aria-label': 'Use an API token' },
    h('h2', null, 'Or use an API token'), field('Token', tok, 'An admin token, or a tenant token from your provider.'),
    h('div', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit' }, 'Use token'));
  tform.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(tform);
    S.token = tok.value.trim(); S.csrf = null;
    try {
      await api('GET', '/api/session');
      sessionStorage.setItem('jaild.token', S.token);
      tok.value = '';
      await start();
    } catch (e) { S.token = null; showError(tform, { message: e.status === 401 ? 'That token is not valid (unknown, revoked or expired).' : e.message }); }
  });
  page('Log in to jaild', h('div', { class: 'login' }, form, tform));
  tenant.focus();
}

function stateBadge(st) { return h('span', { class: 'state ' + st }, st); }

function jailRow(j, refresh) {
  const u = j.usage || {};
  const run = j.state === 'running';
  const btn = (label, fn, cls) => h('button', { type: 'button', class: cls || '', onclick: fn }, label);
  const lifecycle = (verb) => async () => { await act(`${verb} ${j.name}`, () => api('POST', `/api/jails/${j.name}/${verb}`)); refresh(); };
  return h('tr', { 'data-jail': j.name },
    h('td', null, h('a', { href: `#/jails/${j.name}` }, j.name)),
    S.who.admin ? h('td', { class: 'opt' }, j.tenant) : null,
    h('td', null, stateBadge(j.state)),
    h('td', null, (j.ip4 || []).concat(j.ip6 || []).join(' ') || '–'),
    h('td', { class: 'opt' }, j.template),
    h('td', { class: 'opt' }, run ? bytes(u.memory) : '–'),
    h('td', { class: 'opt' }, run ? String(u.procs ?? '–') : '–'),
    h('td', null, h('div', { class: 'row' },
      run ? btn('Stop', lifecycle('stop')) : btn('Start', lifecycle('start')),
      run ? btn('Restart', lifecycle('restart')) : null,
      run ? h('a', { class: 'button', href: `#/jails/${j.name}/shell` }, 'Shell') : null,
      btn('Destroy', async () => {
        if (!confirm(`Destroy jail ${j.name} and all its files? This cannot be undone.`)) return;
        await act(`destroy ${j.name}`, () => api('DELETE', `/api/jails/${j.name}`)); refresh();
      }, 'danger'))));
}

async function jailsPage() {
  const tbody = h('tbody');
  const filter = S.who.admin ? h('select', { name: 'tenant', 'aria-label': 'Tenant filter', onchange: () => load() }, h('option', { value: '' }, 'All tenants')) : null;
  if (filter) {
    api('GET', '/api/tenants').then((r) => r.items.forEach((t) => filter.append(h('option', { value: t.name }, t.name)))).catch(() => {});
  }
  const empty = h('p', { class: 'muted', hidden: true }, 'No jails yet. Create one.');
  async function load() {
    if (!S.who) return; // a reload an event scheduled, come after the user logged out
    try {
      const q = filter && filter.value ? '&tenant=' + encodeURIComponent(filter.value) : '';
      const r = await api('GET', '/api/jails?limit=1000' + q);
      const items = r.items.filter((j) => !filter || !filter.value || j.tenant === filter.value);
      tbody.replaceChildren(...items.map((j) => jailRow(j, load)));
      empty.hidden = items.length > 0;
    } catch (e) { toast('jails: ' + e.message, true); }
  }
  let pending = null;
  S.onEvent = (ev) => { if (ev.type.startsWith('jail.')) { clearTimeout(pending); pending = setTimeout(load, 150); } };
  page('Jails',
    h('div', { class: 'row' }, filter, h('span', { class: 'spacer' }),
      h('button', { class: 'primary', type: 'button', onclick: () => createDialog(load) }, 'New jail')),
    h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Jails' },
      h('thead', null, h('tr', null, h('th', null, 'Name'), S.who.admin ? h('th', { class: 'opt' }, 'Tenant') : null,
        h('th', null, 'State'), h('th', null, 'IP'), h('th', { class: 'opt' }, 'Template'), h('th', { class: 'opt' }, 'Memory'),
        h('th', { class: 'opt' }, 'Procs'), h('th', null, 'Actions'))), tbody)), empty);
  await load();
}

async function createDialog(done) {
  const templates = await api('GET', '/api/templates').then((r) => r.items).catch(() => [{ name: 'minimal' }]);
  const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9\\-]{0,62}', autocomplete: 'off' });
  const tmpl = h('select', { name: 'template' }, templates.map((t) => h('option', { value: t.name }, t.name)));
  const type = h('select', { name: 'type' }, h('option', { value: 'thin' }, 'thin (shared template)'), h('option', { value: 'thick' }, 'thick (own copy)'));
  const ip4mode = h('select', { name: 'ip4' }, h('option', { value: 'auto' }, 'auto (from the pool)'),
    h('option', { value: 'explicit' }, 'explicit'), h('option', { value: 'none' }, 'internal (loopback only)'));
  const ip4addr = h('input', { name: 'ip4addr', placeholder: 'an address of the pool', hidden: true, 'aria-label': 'IPv4 address' });
  ip4mode.addEventListener('change', () => { ip4addr.hidden = ip4mode.value !== 'explicit'; });
  const lim = (k, ph) => h('input', { name: 'limits.' + k, placeholder: ph, inputmode: k === 'memoryuse' || k === 'disk' ? 'text' : 'numeric' });
  const limits = { maxproc: lim('maxproc', '64'), memoryuse: lim('memoryuse', '256M'), pcpu: lim('pcpu', '100'), openfiles: lim('openfiles', '1024'), disk: lim('disk', '1G') };
  const mounts = S.who.admin ? h('textarea', { name: 'mounts', rows: 2, placeholder: '/srv/shared:/mnt/shared:ro' }) : null;
  // an admin makes a jail for any tenant
  const tenants = S.who.admin ? await api('GET', '/api/tenants?limit=1000').then((r) => r.items).catch(() => []) : [];
  const tenant = S.who.admin ? h('select', { name: 'tenant' }, tenants.map((t) =>
    h('option', { value: t.name, selected: t.name === S.who.tenant }, t.name))) : null;
  const start = h('input', { type: 'checkbox', name: 'start', checked: true });
  const form = h('form', { method: 'dialog' },
    h('h2', null, 'New jail'), field('Name', name, 'Lower-case letters, digits and dashes.'),
    h('div', { class: 'grid' }, field('Template', tmpl), field('Type', type), tenant ? field('Tenant', tenant) : null),
    field('IPv4', ip4mode), ip4addr,
    h('fieldset', null, h('legend', null, 'Limits (empty: the host\'s default)'),
      h('div', { class: 'grid' }, field('Processes', limits.maxproc), field('Memory', limits.memoryuse), field('CPU %', limits.pcpu),
        field('Open files', limits.openfiles), field('Disk', limits.disk))),
    mounts ? field('Mounts (one per line: source:target[:rw])', mounts) : null,
    h('label', null, start, ' Start it'),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'row' }, h('span', { class: 'spacer' }),
      h('button', { type: 'button', onclick: () => dlg.close() }, 'Cancel'),
      h('button', { class: 'primary', type: 'submit' }, 'Create')));
  const dlg = h('dialog', { 'aria-label': 'New jail' }, form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const spec = { name: name.value.trim(), template: tmpl.value, type: type.value };
    if (tenant && tenant.value && tenant.value !== S.who.tenant) spec.tenant = tenant.value;
    spec.ip4 = ip4mode.value === 'auto' ? ['auto'] : ip4mode.value === 'none' ? [] : [ip4addr.value.trim()];
    const l = {};
    for (const [k, el] of Object.entries(limits)) {
      const v = el.value.trim(); if (!v) continue;
      l[k] = /^-?\d+$/.test(v) && k !== 'memoryuse' && k !== 'disk' ? Number(v) : v;
    }
    if (Object.keys(l).length) spec.limits = l;
    if (mounts && mounts.value.trim()) {
      spec.mounts = mounts.value.trim().split('\n').map((line) => {
        const [source, target, mode] = line.trim().split(':');
        return { source, target, readonly: mode !== 'rw' };
      });
    }
    try {
      await api('POST', '/api/jails' + (start.checked ? '?start=1' : ''), spec);
      toast(`jail ${spec.name} created`);
      dlg.close(); dlg.remove(); done();
    } catch (e) { showError(form, e); }
  });
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  name.focus();
}

async function jailPage(name, tab) {
  let jail;
  try { jail = await api('GET', `/api/jails/${name}`); }
  catch (e) { page('Jail ' + name, h('p', { class: 'banner bad' }, e.message)); return; }
  const tabs = ['overview', 'shell', 'log', 'snapshots', 'audit'];
  const nav = h('div', { class: 'tabs', role: 'tablist' }, tabs.map((t) =>
    h('a', { href: `#/jails/${name}/${t}`, role: 'tab', 'aria-selected': String(t === tab) }, t[0].toUpperCase() + t.slice(1))));
  const body = h('div');
  page('Jail ' + name, h('div', { class: 'row' }, stateBadge(jail.state), h('span', { class: 'muted' }, jail.hostname)), nav, body);
  if (tab === 'shell') return shellTab(jail, body);
  if (tab === 'log') return logTab(jail, body);
  if (tab === 'snapshots') return snapshotsTab(jail, body);
  if (tab === 'audit') return auditTab(jail, body);
  const u = jail.usage || {};
  const none = (v) => (v === null || v === undefined || v === '' || (Array.isArray(v) && !v.length) ? '–' : v);
  const allowed = Object.entries(jail.allow || {}).filter(([, v]) => v).map(([k]) => k.replace('_', ' '));
  const settings = [
    ['Template', jail.template + ' (' + jail.type + ')'], ['Tenant', jail.tenant], ['Hostname', jail.hostname],
    ['Addresses', none([...(jail.ip4 || []), ...(jail.ip6 || [])].join(', '))],
    ['Command', (jail.command || []).join(' ')],
    ['Starts with jaild', jail.boot ? 'yes, priority ' + jail.priority : 'no'],
    ['Mounts', none((jail.mounts || []).map((m) => `${m.source} → ${m.target}${m.readonly ? ' (read-only)' : ''}`).join(', '))],
    ['Allowed', none(allowed.join(', '))],
  ];
  body.append(...[
    h('div', { class: 'card grid' },
      h('div', null, h('div', { class: 'muted' }, 'Memory'), bytes(u.memory)),
      h('div', null, h('div', { class: 'muted' }, 'Processes'), String(u.procs ?? '–')),
      h('div', null, h('div', { class: 'muted' }, 'CPU seconds'), u.cpu_seconds !== undefined ? u.cpu_seconds.toFixed(2) : '–'),
      h('div', null, h('div', { class: 'muted' }, 'Started'), jail.started_at || '–'),
      jail.exit ? h('div', null, h('div', { class: 'muted' }, 'Last exit'),
        (jail.exit.signal ? 'signal ' + jail.exit.signal : 'code ' + jail.exit.code) + ' at ' + jail.exit.at) : null),
    jail.error ? h('p', { class: 'banner bad' }, jail.error) : null,
    h('h2', null, 'Settings'),
    h('dl', { class: 'card settings' }, settings.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, String(v))])),
    h('h2', null, 'Usage'), usageCharts(jail),
    h('h2', null, 'Limits'), limitsForm(jail)].filter(Boolean)); // (append would print a null)
  S.onEvent = (ev) => { if (ev.target === name) jailPage(name, tab); };
}

// ---- graphs (uPlot): usage history from GET /api/jails/NAME/usage ----

const RANGES = { hour: [3600, 60], day: [86400, 900], month: [30 * 86400, 21600] };

// A chart of series ys (each [label, values, color]) against times xs (unix seconds);
// gaps stay gaps (null), never joined over.
function chart(title, xs, ys, fmt) {
  const box = h('div', { class: 'chart', 'data-points': String(xs.length) });
  if (typeof uPlot === 'undefined') return box;
  const opts = {
    title, width: 560, height: 180,
    scales: { x: { time: true } },
    series: [{}, ...ys.map(([label, , stroke]) => ({ label, stroke, width: 1.5, spanGaps: false, points: { show: true, size: 5 },
      value: (u, v) => (v === null ? '–' : fmt(v)) }))],
    axes: [{}, { values: (u, vals) => vals.map(fmt), size: 70 }],
  };
  new uPlot(opts, [xs, ...ys.map(([, v]) => v)], box);
  return box;
}

function usageCharts(jail) {
  const box = h('div', { class: 'card charts' });
  const buttons = h('div', { class: 'row', role: 'group', 'aria-label': 'Range' });
  async function show(range) {
    const [span, step] = RANGES[range];
    buttons.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.range === range)));
    let u;
    try { u = await api('GET', `/api/jails/${jail.name}/usage?from=${Math.floor(Date.now() / 1000) - span}&step=${step}`); }
    catch (e) { box.replaceChildren(buttons, h('p', { class: 'banner bad' }, e.message)); return; }
    const xs = u.points.map((p) => p.t);
    const val = (k) => u.points.map((p) => (p.gap ? null : p[k]));
    const seen = u.points.filter((p) => !p.gap).length;
    box.replaceChildren(...[buttons, // (replaceChildren would print a null)
      seen ? null : h('p', { class: 'muted' }, 'No usage recorded in this range yet: the jail was not running, or it has just started.'),
      chart('CPU (% of one CPU)', xs, [['CPU', val('cpu_percent'), '#2563eb']], (v) => v.toFixed(0) + '%'),
      chart('Memory', xs, [['in use', val('memory_bytes'), '#16a34a'], ['limit', val('memory_limit_bytes'), '#dc2626']], bytes),
      chart('Network (bytes per step)', xs, [['received', val('net_rx_bytes'), '#7c3aed'], ['sent', val('net_tx_bytes'), '#ea580c']], bytes)].filter(Boolean));
  }
  for (const r of Object.keys(RANGES))
    buttons.append(h('button', { type: 'button', 'data-range': r, onclick: () => show(r) }, 'Last ' + r));
  show('hour');
  return box;
}

// A tenant's metered use: the last 30 days by day, and the bill as CSV.
function tenantUsage(name) {
  const box = h('div', { class: 'card charts' });
  const to = Math.floor(Date.now() / 1000 / 3600) * 3600 + 3600, from = to - 30 * 86400;
  const query = `from=${from}&to=${to}&step=86400`;
  const download = h('button', { type: 'button', onclick: async () => {
    const headers = { Accept: 'text/csv' };
    if (S.token) headers.Authorization = 'Bearer ' + S.token;
    const r = await fetch(`/api/tenants/${name}/usage?${query}`, { headers, credentials: 'same-origin' });
    if (!r.ok) { toast('usage: HTTP ' + r.status, true); return; }
    const a = h('a', { href: URL.createObjectURL(await r.blob()), download: `usage-${name}.csv` });
    document.body.append(a); a.click(); a.remove();
  } }, 'Download CSV');
  (async () => {
    let b;
    try { b = await api('GET', `/api/tenants/${name}/usage?${query}`); } catch (e) { box.append(h('p', { class: 'banner bad' }, e.message)); return; }
    const xs = b.series.map((p) => p.t);
    const val = (k) => b.series.map((p) => p[k]);
    box.append(h('div', { class: 'row' }, download,
      h('span', { class: 'muted' }, `${b.total.jail_hours.toFixed(1)} jail-hours, ${b.total.cpu_seconds.toFixed(0)} CPU seconds, ` +
        `${b.total.memory_limit_gib_hours.toFixed(1)} GiB-hours of memory in 30 days`)),
      chart('CPU seconds a day', xs, [['CPU', val('cpu_seconds'), '#2563eb']], (v) => v.toFixed(v < 10 ? 2 : 0)),
      chart('Memory GiB-hours a day', xs, [['in use', val('memory_gib_hours'), '#16a34a'], ['limit', val('memory_limit_gib_hours'), '#dc2626']], (v) => v.toFixed(v < 1 ? 3 : 1)));
  })();
  return box;
}

// The jail's limits, changed in place (a merge patch: an emptied field goes back to the
// host's default); a running jail gets them at once.
function limitsForm(jail) {
  const l = jail.limits || {};
  const input = (name, value, attrs) => h('input', Object.assign({ name: 'limits.' + name, value: value ?? '' }, attrs || {}));
  const form = h('form', { class: 'card', 'aria-label': 'Limits' },
    field('Processes', input('maxproc', l.maxproc, { inputmode: 'numeric' }), 'empty: the host\'s default'),
    field('Memory', input('memoryuse', l.memoryuse, { placeholder: '256M' }), 'like 256M or 2G; empty: the host\'s default'),
    field('CPU (% of one CPU)', input('pcpu', l.pcpu, { inputmode: 'numeric' })),
    field('Open files', input('openfiles', l.openfiles, { inputmode: 'numeric' })),
    l.disk ? h('p', { class: 'muted' }, 'Disk: ' + l.disk + ' (set when the jail was made; it can only grow, through the API)') : null,
    h('div', { class: 'form-error', role: 'alert' }),
    h('button', { class: 'primary', type: 'submit' }, 'Save limits'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const limits = {};
    for (const k of ['maxproc', 'memoryuse', 'pcpu', 'openfiles']) {
      const v = form.elements['limits.' + k].value.trim();
      limits[k] = v === '' ? null : (k === 'memoryuse' ? v : Number(v));
    }
    try {
      await api('PATCH', `/api/jails/${jail.name}`, { limits });
      toast('Limits saved');
    } catch (e) { showError(form, e); }
  });
  return form;
}

function shellTab(jail, body) {
  if (jail.state !== 'running') { body.append(h('p', { class: 'banner' }, 'The jail is not running: start it to open a shell.')); return; }
  const status = h('div', { class: 'banner', hidden: true, role: 'status' });
  const box = h('div', { id: 'terminal', 'aria-label': 'Root shell in ' + jail.name });
  body.append(status, box, h('p', { class: 'muted' }, 'A root shell in the jail. It survives a page reload; it is recorded.'));
  const term = new window.Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000 });
  const fit = new window.FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  term.focus();
  const key = 'jaild.console.' + jail.name;
  let ws = null, ended = false, tried = false;
  const enc = new TextEncoder();
  function connect(reattach) {
    const sid = reattach ? sessionStorage.getItem(key) : null;
    const q = new URLSearchParams({ cols: term.cols, rows: term.rows });
    if (sid) q.set('session', sid);
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + `/api/jails/${jail.name}/console?` + q;
    ws = S.token ? new WebSocket(url, ['jaild', 'jaild.bearer.' + S.token]) : new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    let opened = false;
    ws.onopen = () => { opened = true; status.hidden = true; };
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') { term.write(new Uint8Array(m.data)); return; }
      const msg = JSON.parse(m.data);
      if (msg.type === 'session') { sessionStorage.setItem(key, msg.id); box.dataset.session = msg.id; }
      else if (msg.type === 'exit') { ended = true; sessionStorage.removeItem(key); show('Session ended: ' + msg.reason, true); }
      else if (msg.type === 'detached') { ended = true; show('This session was opened in another window (' + msg.reason + ').', true); }
      else if (msg.type === 'error') toast(msg.message, true);
    };
    ws.onclose = () => {
      // a stale session id (it ended while we were away): start a new one, once
      if (!opened && sid && !tried) { tried = true; sessionStorage.removeItem(key); connect(false); return; }
      if (!ended) show('The connection to the shell was lost. Reload to re-attach.', true);
    };
  }
  function show(text, bad) { status.textContent = text; status.className = 'banner' + (bad ? ' bad' : ''); status.hidden = false; }
  term.onData((d) => { if (ws && ws.readyState === 1) ws.send(enc.encode(d)); });
  const resize = () => {
    fit.fit();
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
  };
  window.addEventListener('resize', resize);
  S.term = { close: () => { window.removeEventListener('resize', resize); if (ws) ws.close(1000, 'page left'); term.dispose(); } };
  connect(true);
}

// What the jail's first process wrote (stdout and stderr), its last lines, refreshed
// while the tab is open.
async function logTab(jail, body) {
  const out = h('pre', { 'aria-label': 'Log', class: 'log' });
  const headers = S.token ? { Authorization: 'Bearer ' + S.token } : {};
  async function load() {
    try {
      const r = await fetch(`/api/jails/${jail.name}/log?tail=500`, { headers, credentials: 'same-origin' });
      if (r.status === 404) { out.textContent = 'Nothing yet: the jail has not been started.'; return; }
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
      const text = await r.text();
      const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
      out.textContent = text || 'Its first process has written nothing yet.';
      if (atEnd) out.scrollTop = out.scrollHeight;
    } catch (e) { out.textContent = 'The log could not be read: ' + e.message; }
  }
  body.append(h('p', { class: 'muted' }, "What the jail's first process writes to its output, newest last (the oldest part is dropped past a few MiB)."), out);
  await load();
  const timer = setInterval(() => { if (!document.body.contains(out)) clearInterval(timer); else load(); }, 2000);
}

async function snapshotsTab(jail, body) {
  const list = h('tbody');
  async function load() {
    const r = await api('GET', `/api/jails/${jail.name}/snapshots`).catch((e) => { toast(e.message, true); return { items: [] }; });
    list.replaceChildren(...rowsOr(r.items, 4, 'No snapshots yet: take one to have a state to come back to.', (s) => h('tr', null, h('td', null, s.name), h('td', null, bytes(s.size)), h('td', { class: 'opt' }, s.created_at),
      h('td', null, h('div', { class: 'row' },
        h('button', { type: 'button', onclick: async () => {
          if (!confirm(`Restore ${jail.name} from snapshot ${s.name}? Changes since then are lost; a running jail restarts.`)) return;
          await act(`restore ${s.name}`, () => api('POST', `/api/jails/${jail.name}/snapshots/${s.name}/restore`)); load();
        } }, 'Restore'),
        h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!confirm(`Delete snapshot ${s.name}?`)) return;
          await act(`delete ${s.name}`, () => api('DELETE', `/api/jails/${jail.name}/snapshots/${s.name}`)); load();
        } }, 'Delete'))))));
  }
  const name = h('input', { name: 'name', placeholder: 'clean', required: true });
  const form = h('form', { class: 'row' }, field('New snapshot', name), h('button', { class: 'primary', type: 'submit' }, 'Take snapshot'),
    h('div', { class: 'form-error', role: 'alert' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    try { await api('POST', `/api/jails/${jail.name}/snapshots`, { name: name.value.trim() }); toast('snapshot taken'); name.value = ''; load(); }
    catch (e) { showError(form, e); }
  });
  body.append(form, h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Snapshots' },
    h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Size'), h('th', { class: 'opt' }, 'Taken'), h('th', null, 'Actions'))), list)));
  load();
}

// A table body's rows, or one row saying there is nothing (yet), and what to do about it.
function rowsOr(items, cols, text, row) {
  return items.length ? items.map(row) : [h('tr', { class: 'empty' }, h('td', { colspan: String(cols), class: 'muted' }, text))];
}

// A link to a file the API serves (a console recording): a cookie session follows it as
// it is; a token session cannot put its token on a plain link, so the click fetches the
// file with it and saves what came back.
function downloadLink(path, label) {
  const a = h('a', { href: path, download: '' }, label);
  a.addEventListener('click', async (ev) => {
    if (!S.token) return;
    ev.preventDefault();
    try {
      const r = await fetch(path, { headers: { Authorization: 'Bearer ' + S.token }, credentials: 'same-origin' });
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
      const url = URL.createObjectURL(await r.blob());
      const save = h('a', { href: url, download: path.split('/').slice(-2, -1)[0] + '.cast' });
      document.body.append(save); save.click(); save.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { toast(label + ': ' + e.message, true); }
  });
  return a;
}

function auditTable(items) {
  return h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Audit entries' },
    h('thead', null, h('tr', null, h('th', null, 'When'), h('th', null, 'Who'), h('th', null, 'What'), h('th', { class: 'opt' }, 'Target'),
      h('th', null, 'Status'), h('th', { class: 'opt' }, 'From'))),
    h('tbody', null, rowsOr(items, 6, 'Nothing recorded matches.', (a) => h('tr', null, h('td', null, a.at), h('td', null, a.actor), h('td', null, a.action),
      h('td', { class: 'opt' }, a.target,
        // a console session's entry links its recording (asciicast, for asciinema play)
        a.recording ? [' ', downloadLink(a.recording, 'recording')] : null),
      // refusals (401, 429) come one entry a second, the second's last counting the others
      h('td', null, String(a.status), a.repeats ? h('span', { class: 'muted' }, ' and ' + a.repeats + ' more like it') : null),
      h('td', { class: 'opt' }, a.source))))));
}

async function auditTab(jail, body) {
  const r = await api('GET', '/api/audit?limit=200').catch((e) => { toast(e.message, true); return { items: [] }; });
  const mine = r.items.filter((a) => a.target === `/api/jails/${jail.name}` || a.target.startsWith(`/api/jails/${jail.name}/`));
  body.append(mine.length ? auditTable(mine) : h('p', { class: 'muted' }, 'No changes recorded for this jail yet.'));
}

async function auditPage() {
  const action = h('input', { name: 'action', placeholder: 'POST /api/jails' });
  const status = h('input', { name: 'status', placeholder: '201', inputmode: 'numeric', size: 5 });
  const tenant = S.who.admin ? h('input', { name: 'tenant', placeholder: 'tenant' }) : null;
  const out = h('div');
  let next = null;
  async function load(more) {
    const q = new URLSearchParams({ limit: 50 });
    if (action.value.trim()) q.set('action', action.value.trim());
    if (status.value.trim()) q.set('status', status.value.trim());
    if (tenant && tenant.value.trim()) q.set('tenant', tenant.value.trim());
    if (more && next) q.set('after', next);
    try {
      const r = await api('GET', '/api/audit?' + q);
      next = r.next;
      if (!more) out.replaceChildren();
      out.append(auditTable(r.items));
      moreBtn.hidden = !next;
    } catch (e) { toast('audit: ' + e.message, true); }
  }
  const form = h('form', { class: 'row' }, field('Action', action), field('Status', status), tenant ? field('Tenant', tenant) : null,
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(false); });
  const moreBtn = h('button', { type: 'button', onclick: () => load(true), hidden: true }, 'More');
  page('Audit log', form, out, moreBtn);
  load(false);
}

async function templatesPage() {
  const r = await api('GET', '/api/templates').catch((e) => { toast(e.message, true); return { items: [] }; });
  page('Templates', h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Templates' },
    h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Version'), h('th', { class: 'opt' }, 'Source'),
      h('th', null, 'Jails'), S.who.admin ? h('th', null, 'Actions') : null)),
    h('tbody', null, r.items.map((t) => h('tr', null, h('td', null, t.name), h('td', null, String(t.version)),
      h('td', { class: 'opt' }, t.source), h('td', null, String(t.jails)),
      S.who.admin ? h('td', null, h('button', { type: 'button', class: 'danger', disabled: t.jails > 0 || t.name === 'minimal',
        onclick: async () => { if (confirm(`Delete template ${t.name}?`) && await act(`delete ${t.name}`, () => api('DELETE', `/api/templates/${t.name}`)) !== null) templatesPage(); } },
      'Delete')) : null))))),
  S.who.admin ? uploadTemplateForm() : null);
}

// A template from a root filesystem tarball: its SHA-256 is computed here and checked by
// jaild, so a damaged upload publishes nothing.
function uploadTemplateForm() {
  const name = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const file = h('input', { name: 'file', type: 'file', required: true, accept: '.tar,.tar.gz,.tgz,.tar.xz,.tar.zst' });
  const replace = h('input', { type: 'checkbox', name: 'replace' });
  const form = h('form', { class: 'card', 'aria-label': 'Publish a template' }, h('h2', null, 'Publish a template'),
    h('div', { class: 'grid' }, field('Name', name), field('Root filesystem tarball', file)),
    h('label', null, replace, ' Replace a template of that name (running jails keep the version they started with)'),
    h('div', { class: 'form-error', role: 'alert' }), h('button', { class: 'primary', type: 'submit' }, 'Publish'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    const f = file.files[0];
    if (!f) return;
    try {
      const sum = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer())))
        .map((b) => b.toString(16).padStart(2, '0')).join('');
      const q = new URLSearchParams({ name: name.value.trim(), sha256: sum });
      if (replace.checked) q.set('replace', '1');
      const headers = S.token ? { Authorization: 'Bearer ' + S.token } : {};
      if (S.csrf) headers['X-CSRF-Token'] = S.csrf;
      const r = await fetch('/api/templates?' + q, { method: 'POST', body: f, headers, credentials: 'same-origin' });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw new ApiError(r.status, body);
      toast(`template ${name.value.trim()} published`);
      templatesPage();
    } catch (e) { showError(form, e); }
  });
  return form;
}

async function tenantsPage() {
  const tbody = h('tbody');
  const q = (t, k) => (t.quotas && t.quotas[k] !== undefined ? t.quotas[k] : '∞');
  async function load() {
    const r = await api('GET', '/api/tenants').catch((e) => { toast(e.message, true); return { items: [] }; });
    tbody.replaceChildren(...rowsOr(r.items, 6, 'No tenants yet: create one for each customer.', (t) => h('tr', null, h('td', null, h('a', { href: `#/tenants/${t.name}` }, t.name)),
      h('td', null, `${t.usage.jails} / ${q(t, 'jails')}`), h('td', { class: 'opt' }, `${bytes(t.usage.memoryuse)} / ${q(t, 'memoryuse')}`),
      h('td', { class: 'opt' }, `${t.usage.maxproc} / ${q(t, 'maxproc')}`), h('td', { class: 'opt' }, `${t.usage.ip4} / ${q(t, 'ip4')}`),
      h('td', { class: 'opt' }, `${bytes(t.usage.disk)} / ${q(t, 'disk')}`))));
  }
  const name = h('input', { name: 'name', required: true });
  const form = h('form', { class: 'row' }, field('New tenant', name), h('button', { class: 'primary', type: 'submit' }, 'Create'),
    h('div', { class: 'form-error', role: 'alert' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    try { await api('POST', '/api/tenants', { name: name.value.trim() }); toast('tenant created'); name.value = ''; load(); }
    catch (e) { showError(form, e); }
  });
  page('Tenants', form, h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Tenants' },
    h('thead', null, h('tr', null, h('th', null, 'Tenant'), h('th', null, 'Jails'), h('th', { class: 'opt' }, 'Memory'),
      h('th', { class: 'opt' }, 'Processes'), h('th', { class: 'opt' }, 'IPv4'), h('th', { class: 'opt' }, 'Disk'))), tbody)));
  load();
}

async function tenantPage(name) {
  let t;
  try { t = await api('GET', `/api/tenants/${name}`); } catch (e) { page('Tenant ' + name, h('p', { class: 'banner bad' }, e.message)); return; }
  const qin = (k) => h('input', { name: 'quotas.' + k, value: t.quotas[k] !== undefined ? String(t.quotas[k]) : '', placeholder: 'no limit' });
  const quotas = { jails: qin('jails'), memoryuse: qin('memoryuse'), maxproc: qin('maxproc'), ip4: qin('ip4'), disk: qin('disk'), ports: qin('ports') };
  const qform = h('form', { class: 'card' }, h('h2', null, 'Quotas'),
    h('div', { class: 'grid' }, Object.entries(quotas).map(([k, el]) => field(k, el))),
    h('div', { class: 'form-error', role: 'alert' }), h('button', { class: 'primary', type: 'submit' }, 'Save quotas'));
  qform.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(qform);
    const body = {};
    for (const [k, el] of Object.entries(quotas)) { const v = el.value.trim(); body[k] = v === '' ? null : /^\d+$/.test(v) ? Number(v) : v; }
    try { await api('PATCH', `/api/tenants/${name}`, { quotas: body }); toast('quotas saved'); }
    catch (e) { showError(qform, e); }
  });
  const tokens = h('tbody');
  async function loadTokens() {
    const r = await api('GET', `/api/tenants/${name}/tokens`).catch((e) => { toast(e.message, true); return { items: [] }; });
    tokens.replaceChildren(...rowsOr(r.items, 6, 'No tokens yet: create one for a script or a CI system.', (k) => h('tr', null, h('td', null, String(k.id)), h('td', null, k.name), h('td', null, k.role),
      h('td', { class: 'opt' }, k.last_used_at || 'never'), h('td', { class: 'opt' }, k.expires_at || '–'),
      h('td', null, h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(`Revoke token ${k.name}? Whatever uses it stops working at once.`)) return;
        await act('revoke ' + k.name, () => api('DELETE', `/api/tenants/${name}/tokens/${k.id}`)); loadTokens();
      } }, 'Revoke')))));
  }
  const tname = h('input', { name: 'name', required: true, placeholder: 'ci' });
  const role = h('select', { name: 'role' }, h('option', { value: 'tenant' }, 'tenant'), h('option', { value: 'admin' }, 'admin'));
  const secretBox = h('div');
  const tform = h('form', { class: 'row' }, field('New token', tname), field('Role', role), h('button', { class: 'primary', type: 'submit' }, 'Create'),
    h('div', { class: 'form-error', role: 'alert' }));
  tform.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(tform);
    try {
      const r = await api('POST', `/api/tenants/${name}/tokens`, { name: tname.value.trim(), role: role.value });
      secretBox.replaceChildren(h('div', { class: 'banner', role: 'alert' }, 'The secret is shown this once; store it now:',
        h('div', { class: 'secret' }, r.secret)));
      tname.value = ''; loadTokens();
    } catch (e) { showError(tform, e); }
  });
  page('Tenant ' + name, qform, h('h2', null, 'Tokens'), tform, secretBox,
    h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Tokens' }, h('thead', null, h('tr', null, h('th', null, 'ID'), h('th', null, 'Name'),
      h('th', null, 'Role'), h('th', { class: 'opt' }, 'Last used'), h('th', { class: 'opt' }, 'Expires'), h('th', null, ''))), tokens)),
    h('h2', null, 'Users'), usersPart(name), h('h2', null, 'Usage'), tenantUsage(name));
  loadTokens();
}

// The tenant's users, who log in from a browser: listed, added (with a password), removed.
function usersPart(tenant) {
  const rows = h('tbody');
  const empty = h('p', { class: 'muted', hidden: true }, 'No users yet: add one to let this tenant log in from a browser.');
  async function load() {
    const r = await api('GET', `/api/tenants/${tenant}/users`).catch((e) => { toast(e.message, true); return { items: [] }; });
    empty.hidden = r.items.length > 0;
    rows.replaceChildren(...r.items.map((u) => h('tr', null, h('td', null, u.name), h('td', { class: 'opt' }, u.created_at || ''),
      h('td', null, h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!confirm(`Remove user ${u.name}? Their browser sessions end at once.`)) return;
        await act('remove ' + u.name, () => api('DELETE', `/api/tenants/${tenant}/users/${u.name}`)); load();
      } }, 'Remove')))));
  }
  const uname = h('input', { name: 'name', required: true, autocomplete: 'off' });
  const pw = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
  const form = h('form', { class: 'row', 'aria-label': 'New user' }, field('User', uname), field('Password', pw, 'at least 12 characters'),
    h('button', { class: 'primary', type: 'submit' }, 'Add user'), h('div', { class: 'form-error', role: 'alert' }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault(); clearErrors(form);
    try {
      await api('POST', `/api/tenants/${tenant}/users`, { name: uname.value.trim(), password: pw.value });
      uname.value = ''; pw.value = ''; toast('user added'); load();
    } catch (e) { showError(form, e); }
  });
  load();
  return h('div', null, form, empty, h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Users' },
    h('thead', null, h('tr', null, h('th', null, 'User'), h('th', { class: 'opt' }, 'Added'), h('th', null, ''))), rows)));
}

async function hostPage() {
  try {
    const r = await api('GET', '/api/host');
    const p4 = r.pool.ip4;
    page('Host',
      h('div', { class: 'card grid' },
        h('div', null, h('div', { class: 'muted' }, 'Backend'), r.backend),
        h('div', null, h('div', { class: 'muted' }, 'CPUs'), String(r.capacity.cpus)),
        h('div', null, h('div', { class: 'muted' }, 'Memory'), bytes(r.capacity.memory)),
        h('div', null, h('div', { class: 'muted' }, 'Jails'), String(r.capacity.jails)),
        h('div', null, h('div', { class: 'muted' }, 'IPv4 pool'), `${p4.cidr}: ${p4.used} used, ${p4.free} free`),
        h('div', null, h('div', { class: 'muted' }, 'IPv6 pool'), r.pool.ip6.cidr)),
      h('h2', null, 'Preflight warnings'),
      r.warnings.length ? h('ul', null, r.warnings.map((w) => h('li', null, `${w.proto}/${w.port}: ${w.message}`)))
        : h('p', { class: 'muted' }, 'None.'));
  } catch (e) { page('Host', h('p', { class: 'banner bad' }, e.message)); }
}

// ---- routing ----

async function route() {
  if (S.term) { S.term.close(); S.term = null; }
  S.onEvent = null;
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (!S.who) return loginPage();
  const [p0, p1, p2] = parts;
  document.querySelectorAll('#nav a').forEach((a) => a.toggleAttribute('aria-current', a.dataset.page === (p0 || 'jails')));
  document.querySelectorAll('#nav a').forEach((a) => { if (a.getAttribute('aria-current') === '') a.setAttribute('aria-current', 'page'); });
  if (p0 === 'jails' && p1) return jailPage(p1, p2 || 'overview');
  if (p0 === 'templates') return templatesPage();
  if (p0 === 'tenants' && S.who.admin) return p1 ? tenantPage(p1) : tenantsPage();
  if (p0 === 'audit') return auditPage();
  if (p0 === 'host' && S.who.admin) return hostPage();
  if (p0 === 'login') { location.hash = '#/jails'; return; }
  return jailsPage();
}

async function start() {
  // without a token or a login's CSRF token this tab has no session to ask about (and
  // asking would only log a 401 in the console)
  if (S.token || S.csrf) {
    try { S.who = await api('GET', '/api/session'); }
    catch { S.who = null; }
  }
  if (!S.who) { forget(); return loginPage(); }
  document.getElementById('nav').hidden = false;
  document.querySelectorAll('#nav [data-admin]').forEach((a) => { a.hidden = !S.who.admin; });
  document.getElementById('who').textContent = `${S.who.name} (${S.who.tenant}${S.who.admin ? ', admin' : ''})`;
  document.getElementById('logout').hidden = false;
  startEvents();
  if (!location.hash || location.hash === '#/login') location.hash = '#/jails';
  else route();
}

document.getElementById('logout').addEventListener('click', async () => {
  if (!S.token) await api('POST', '/api/logout').catch(() => {});
  forget();
  location.hash = '#/login';
  loginPage();
  toast('Logged out');
});
window.addEventListener('hashchange', route);
start();
