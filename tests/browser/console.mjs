// The web console end to end, in Debian's Chromium driven by playwright-core, against
// the real jaild test_browser.py started (URL and users in the environment). Each step
// asserts what a person would see; screenshots of every page go to SHOTS.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execSync } from 'node:child_process';

const URL_ = process.env.JAILD_URL;
const SHOTS = process.env.SHOTS;
const A = { tenant: 'acme', user: 'alice', password: process.env.ACME_PASSWORD };
const G = { tenant: 'globex', user: 'gina', password: process.env.GLOBEX_PASSWORD };
fs.mkdirSync(SHOTS, { recursive: true });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
let failures = 0;
let current = '';
const step = async (name, fn) => {
  current = name;
  try { await fn(); console.log('ok   ' + name); }
  catch (e) { failures++; console.log('FAIL ' + name + '\n     ' + String(e.stack || e).split('\n').slice(0, 6).join('\n     ')); }
};
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });

async function login(page, who) {
  await page.goto(URL_ + '/');
  await page.getByLabel('Tenant', { exact: true }).fill(who.tenant);
  await page.getByLabel('User', { exact: true }).fill(who.user);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Jails' }).waitFor();
}

const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await ctx.newPage();
// every error the browser logs, with the step it happened in: only the ones a step
// provokes on purpose (and says so in PROVOKED) are allowed
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push({ step: current, text: m.text(), url: m.location().url }); });
const PROVOKED = {
  'a wrong password shows an error and no session': /\b401\b/,
  'an invalid create shows the API field error next to the field': /\b422\b/,
  'the details, snapshots, log and audit tabs show the jail': /\b422\b/,
  'logging out ends the session; the app asks to log in': /\b401\b/,
};

await step('a wrong password shows an error and no session', async () => {
  await page.goto(URL_ + '/');
  await page.getByRole('heading', { name: 'Log in to jaild' }).waitFor();
  assert.equal(await page.locator('#nav').isVisible(), false, 'the menu shows before anyone logged in');
  await shot(page, '01-login');
  await page.getByLabel('Tenant', { exact: true }).fill(A.tenant);
  await page.getByLabel('User', { exact: true }).fill(A.user);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByText(/wrong|incorrect|not valid|invalid/i).first().waitFor();
  const cookies = await ctx.cookies();
  assert.equal(cookies.find((c) => c.name === 'jaild_session'), undefined, 'a session cookie after a wrong password');
  await shot(page, '02-login-wrong-password');
});

await step('log in as a tenant user', async () => {
  await login(page, A);
  assert.ok((await ctx.cookies()).find((c) => c.name === 'jaild_session' && c.httpOnly), 'HttpOnly session cookie');
  await shot(page, '03-jails-empty');
});

await step('an invalid create shows the API field error next to the field', async () => {
  await page.getByRole('button', { name: 'New jail' }).click();
  const dlg = page.getByRole('dialog');
  await dlg.getByLabel('Name', { exact: true }).fill('webshop');
  await dlg.getByLabel('Processes', { exact: true }).fill('-5');
  await dlg.getByRole('button', { name: 'Create' }).click();
  const err = dlg.locator('.field[data-field="limits.maxproc"] .error');
  await err.waitFor();
  assert.match(await err.textContent(), /maxproc/);
  await shot(page, '04-create-field-error');
  await dlg.getByLabel('Processes', { exact: true }).fill('64');
});

await step('create a jail and see it turn running without reloading', async () => {
  const dlg = page.getByRole('dialog');
  await dlg.getByRole('button', { name: 'Create' }).click();
  await dlg.waitFor({ state: 'detached' });
  const row = page.locator('tr[data-jail="webshop"]');
  await row.locator('.state.running').waitFor({ timeout: 60000 });
  await shot(page, '05-jails-running');
});

await step('the list follows changes made elsewhere (events), without a reload', async () => {
  const r = await page.evaluate(async () => (await fetch('/api/jails/webshop/stop', { method: 'POST', credentials: 'same-origin',
    headers: { 'X-CSRF-Token': sessionStorage.getItem('jaild.csrf') } })).status);
  assert.equal(r, 200);
  await page.locator('tr[data-jail="webshop"] .state.stopped').waitFor({ timeout: 60000 });
  await page.locator('tr[data-jail="webshop"]').getByRole('button', { name: 'Start' }).click();
  await page.locator('tr[data-jail="webshop"] .state.running').waitFor({ timeout: 60000 });
});

let sessionId;
await step('open the shell, type hostname, see the jail\'s hostname', async () => {
  await page.locator('tr[data-jail="webshop"]').getByRole('link', { name: 'Shell' }).click();
  const term = page.locator('#terminal');
  await term.waitFor();
  await page.locator('#terminal .xterm-rows').getByText(/root@webshop/).first().waitFor({ timeout: 10000 });
  await page.keyboard.type('hostname; echo M$((6*7))\n');
  await page.locator('#terminal .xterm-rows').getByText(/^M42/).first().waitFor({ timeout: 10000 });
  const text = await page.locator('#terminal .xterm-rows').innerText();
  assert.match(text, /\nwebshop\s*\n/);
  sessionId = await term.getAttribute('data-session');
  assert.ok(sessionId, 'the session id is known');
  await page.keyboard.type('echo before-reload > /tmp/mark\n');
  await shot(page, '06-shell');
});

await step('reload the page and find the same shell session', async () => {
  await page.reload();
  const term = page.locator('#terminal');
  await term.waitFor();
  await page.waitForFunction((id) => document.querySelector('#terminal')?.dataset.session === id, sessionId, { timeout: 10000 });
  await page.keyboard.type('cat /tmp/mark; echo same-$$\n');
  await page.locator('#terminal .xterm-rows').getByText(/^before-reload/).first().waitFor({ timeout: 10000 });
  await shot(page, '07-shell-after-reload');
});

await step('the details, snapshots, log and audit tabs show the jail', async () => {
  await page.getByRole('tab', { name: 'Overview' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  // usage graphs with data points (jaild samples every second here): CPU, memory, network
  await page.getByRole('heading', { name: 'Usage' }).waitFor();
  for (let i = 0; i < 30 && await page.getByText(/No usage recorded/).count(); i++) {
    await page.waitForTimeout(1000);
    await page.getByRole('button', { name: 'Last hour' }).click();
  }
  assert.equal(await page.getByText(/No usage recorded/).count(), 0, 'no usage recorded after 30 s');
  assert.equal(await page.locator('.chart canvas').count(), 3, 'three usage charts');
  const points = await page.evaluate(() => [...document.querySelectorAll('.chart')].map((c) => Number(c.dataset.points)));
  assert.ok(points.every((n) => n > 0), 'charts without points: ' + points);
  await shot(page, '08-jail-overview');
  const nulls = await page.evaluate(() => {
    const w = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
    let n = 0;
    while (w.nextNode()) if (/^\s*(null|undefined)\s*$/.test(w.currentNode.nodeValue)) n++;
    return n;
  });
  assert.equal(nulls, 0, 'the overview prints a literal null');
  // limits are edited in place; a bad one is told next to its field
  const limits = page.getByRole('form', { name: 'Limits' });
  await limits.getByLabel('Memory', { exact: true }).fill('lots');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await limits.locator('.field.invalid[data-field="limits.memoryuse"]').waitFor();
  await limits.getByLabel('Memory', { exact: true }).fill('');
  await limits.getByLabel('Processes', { exact: true }).fill('48');
  await limits.getByRole('button', { name: 'Save limits' }).click();
  await page.getByText('Limits saved').waitFor();
  const name = (await page.getByRole('heading', { level: 1 }).textContent()).replace('Jail ', '');
  const saved = await page.evaluate(async (n) => (await (await fetch('/api/jails/' + n, { credentials: 'same-origin' })).json()).limits, name);
  assert.equal(saved.maxproc, 48);
  await page.getByRole('tab', { name: 'Snapshots' }).click();
  await page.getByLabel('New snapshot', { exact: true }).fill('clean');
  await page.getByRole('button', { name: 'Take snapshot' }).click();
  await page.getByRole('table', { name: 'Snapshots' }).getByText('clean').waitFor();
  await shot(page, '09-jail-snapshots');
  await page.getByRole('tab', { name: 'Log' }).click();
  await page.locator('pre.log').filter({ hasText: /\S/ }).waitFor();
  await shot(page, '09-jail-log');
  await page.getByRole('tab', { name: 'Audit' }).click();
  await page.getByRole('table', { name: 'Audit entries' }).waitFor();
  await shot(page, '10-jail-audit');
});

await step('a second tenant never sees the first tenant\'s jail', async () => {
  const other = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone
  const p2 = await other.newPage();
  await login(p2, G);
  await p2.waitForTimeout(500);
  assert.equal(await p2.locator('tr[data-jail="webshop"]').count(), 0);
  await p2.goto(URL_ + '/#/jails/webshop');
  await p2.getByText(/no jail named webshop/).waitFor();
  await shot(p2, '11-other-tenant-phone');
  await other.close();
});

await step('stop and destroy the jail from the list, with confirmation', async () => {
  await page.goto(URL_ + '/#/jails');
  const row = page.locator('tr[data-jail="webshop"]');
  await row.getByRole('button', { name: 'Stop' }).click();
  await row.locator('.state.stopped').waitFor({ timeout: 60000 });
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Destroy' }).click();
  await row.waitFor({ state: 'detached', timeout: 60000 });
  await shot(page, '12-jails-after-destroy');
});

await step('logging out ends the session; the app asks to log in', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in to jaild' }).waitFor();
  const st = await page.evaluate(async () => (await fetch('/api/jails', { credentials: 'same-origin' })).status);
  assert.equal(st, 401);
});

await step('admin pages: tenants, tokens (secret shown once), audit, host', async () => {
  const admin = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p = await admin.newPage();
  await p.goto(URL_ + '/');
  await p.getByLabel('Token', { exact: true }).fill(process.env.ADMIN_TOKEN);
  await p.getByRole('button', { name: 'Use token' }).click();
  await p.getByRole('heading', { name: 'Jails' }).waitFor();
  // an admin picks the tenant of a new jail
  await p.getByRole('button', { name: 'New jail' }).click();
  await p.getByRole('dialog').getByLabel('Tenant', { exact: true }).selectOption('globex');
  await p.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await p.getByRole('link', { name: 'Tenants' }).click();
  await p.getByRole('table', { name: 'Tenants' }).getByText('acme').waitFor();
  await shot(p, '13-admin-tenants');
  await p.getByRole('link', { name: 'acme' }).click();
  await p.getByLabel('New token', { exact: true }).fill('from-the-browser');
  await p.getByRole('button', { name: 'Create' }).click();
  await p.locator('.secret').waitFor();
  assert.match(await p.locator('.secret').textContent(), /^jd_/);
  await shot(p, '14-admin-token-secret');
  // users who log in from a browser: added with a password, removed
  const users = p.getByRole('form', { name: 'New user' });
  await users.getByLabel('User', { exact: true }).fill('bob');
  await users.getByLabel('Password', { exact: true }).fill('bob correct horse');
  await users.getByRole('button', { name: 'Add user' }).click();
  await p.getByRole('table', { name: 'Users' }).getByText('bob').waitFor();
  p.once('dialog', (d) => d.accept());
  await p.getByRole('table', { name: 'Users' }).getByRole('row', { name: /bob/ }).getByRole('button', { name: 'Remove' }).click();
  await p.getByRole('table', { name: 'Users' }).getByText('bob').waitFor({ state: 'detached' });
  // the tenant's metered use: charts, and the bill as CSV
  await p.getByRole('heading', { name: 'Usage' }).waitFor();
  const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('button', { name: 'Download CSV' }).click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^period_start,jail,jail_hours,cpu_seconds/);
  assert.match(csv, /,webshop,/, 'the CSV names the tenant\'s jail');
  await shot(p, '14b-admin-tenant-usage');
  await p.getByRole('link', { name: 'Audit' }).click();
  await p.getByRole('table', { name: 'Audit entries' }).waitFor();
  await p.getByRole('link', { name: 'recording' }).first().waitFor(); // the shell session's
  await shot(p, '15-admin-audit');
  // signed in with a token (no cookie): the link still downloads the recording
  const [dl] = await Promise.all([p.waitForEvent('download'), p.getByRole('link', { name: 'recording' }).first().click()]);
  const cast = fs.readFileSync(await dl.path(), 'utf8');
  assert.match(cast.split('\n')[0], /"version":\s*2/, 'the download is an asciicast recording');
  await p.getByRole('link', { name: 'Host' }).click();
  await p.getByRole('heading', { name: 'Preflight warnings' }).waitFor();
  await shot(p, '16-admin-host');
  await p.getByRole('link', { name: 'Templates' }).click();
  await p.getByRole('table', { name: 'Templates' }).getByText('minimal').waitFor();
  // a template from a tarball picked in the page (a busybox userland)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tpl-'));
  execSync(`mkdir -p ${dir}/root/bin && cp /bin/busybox ${dir}/root/bin/ && ln -s busybox ${dir}/root/bin/sh && tar -C ${dir}/root -czf ${dir}/tiny.tar.gz .`);
  const up = p.getByRole('form', { name: 'Publish a template' });
  await up.getByLabel('Name', { exact: true }).fill('tiny');
  await up.getByLabel('Root filesystem tarball', { exact: true }).setInputFiles(`${dir}/tiny.tar.gz`);
  await up.getByRole('button', { name: 'Publish' }).click();
  await p.getByRole('table', { name: 'Templates' }).getByRole('cell', { name: 'tiny', exact: true }).waitFor();
  fs.rmSync(dir, { recursive: true, force: true });
  await shot(p, '17-templates');
  await admin.close();
});

await step('no errors in the browser console (CSP violations included)', async () => {
  const real = consoleErrors.filter((x) => !(PROVOKED[x.step] && PROVOKED[x.step].test(x.text)));
  assert.deepEqual(real, [], JSON.stringify(real));
});

await browser.close();
console.log(failures ? `${failures} failed` : 'all passed');
process.exit(failures ? 1 : 0);
