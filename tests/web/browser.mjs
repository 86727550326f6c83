// Shared by the browser tests: Debian's chromium, headless, driven by
// playwright-core, with a fresh profile. The test CA is trusted through
// the NSS database in $HOME (made by web_fixture.py), so the pages get a
// real secure context: service workers, IndexedDB, crypto.randomUUID.
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

export const F = JSON.parse(process.env.MARKET_FIXTURE);
export const BASE = F.base;

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-quic', '--disable-dev-shm-usage'],
  });
}

// A new context: a phone screen, Chinese, a clean profile.
export async function phone(browser, opts = {}) {
  const ctx = await browser.newContext({
    viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    locale: 'zh-CN', timezoneId: 'Asia/Shanghai', serviceWorkers: 'allow', ...opts,
  });
  // A busy CI machine is slow, never wrong: generous waits, no sleeps.
  ctx.setDefaultTimeout(60000);
  return ctx;
}

export async function screenshot(page, name) {
  const dir = process.env.MARKET_ARTIFACTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, name + '.png'), fullPage: true });
}

// The screen as it is now: no serious or critical accessibility
// violation, and nothing wider than the screen (a phone would zoom out).
export async function checkScreen(page, what) {
  const [width, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
  assert.ok(width <= inner, `${what}: the page is ${width} px wide on a ${inner} px screen`);
  const res = await new AxeBuilder({ page }).analyze();
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`), [],
    `axe on ${what}`);
}

// The API, from the test's side (Node trusts the CA by NODE_EXTRA_CA_CERTS).
export async function api(method, p, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(BASE + '/api/v1' + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, headers: r.headers };
}

// Waits until f() returns something truthy (polling; no fixed sleeps).
export async function until(f, what, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// A new context for the coordinators' pages: a desktop screen (a tablet
// with { viewport: { width: 768, height: 1024 } }), Chinese. Content
// Security Policy violations are gathered in window.__csp.
export async function desktop(browser, opts = {}) {
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    acceptDownloads: true, ...opts,
  });
  ctx.setDefaultTimeout(60000);
  await ctx.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return ctx;
}
