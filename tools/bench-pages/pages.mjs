// tools/bench's page figures (run by tools/bench; prints one JSON object):
//   - the stall page's first load: bytes on the wire, everything included
//     (the page, its modules, styles, manifest, icon, and what the service
//     worker fetches to keep the page offline), and the request count;
//   - a warm reload of the same page (the service worker answers);
//   - the shop's (/) first load in a fresh context: bytes on the wire
//     until the product list is shown, and the request count;
//   - the coordinators' impact page (/coordinator/) first load in a fresh
//     desktop context, logged in as the coordinator given by --coord
//     USER: bytes on the wire until the report's charts are drawn (the
//     page, its modules, uPlot, the login and the report's answers);
//   - the time from tapping "record" to the sale in the day's list;
//   - Lighthouse's scores (performance, accessibility, best-practices) of
//     the stall page and the shop (mobile) and of /coordinator/ (desktop),
//     a fresh chromium each, when lighthouse is installed here (not in
//     --smoke).
// Nothing is asserted: figures are printed, tools/bench compares them.
//
//   node pages.mjs BASE_URL USERNAME PASSWORD [--taps N] [--coord USER]
//                  [--no-lighthouse]
// HOME must hold an NSS database trusting the server's CA (tools/bench
// makes one), so chromium gets a real secure context.
import { chromium } from 'playwright-core';

const [base, username, password, ...rest] = process.argv.slice(2);
const taps = Number(rest.includes('--taps') ? rest[rest.indexOf('--taps') + 1] : 30);
const coord = rest.includes('--coord') ? rest[rest.indexOf('--coord') + 1] : null;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--disable-dev-shm-usage'];
const out = {};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};

// Bytes on the wire of every request the context makes (service worker's
// included), by what the network layer reports.
function meter(ctx) {
  const m = { bytes: 0, requests: 0, urls: [] };
  ctx.on('requestfinished', async (req) => {
    try {
      const s = await req.sizes();
      m.bytes += s.requestHeadersSize + s.requestBodySize + s.responseHeadersSize + s.responseBodySize;
      m.requests++;
      m.urls.push(new URL(req.url()).pathname);
    } catch { /* a request of a closed page */ }
  });
  return m;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
try {
  const ctx = await browser.newContext({
    viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, locale: 'zh-CN',
    serviceWorkers: 'allow',
  });
  let m = meter(ctx);
  const page = await ctx.newPage();
  await page.goto(base + '/stall/', { waitUntil: 'load' });
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
    return reg.active.state;
  });
  await page.waitForLoadState('networkidle');
  out.first_load = { bytes: m.bytes, requests: m.requests };

  m = meter(ctx);
  await page.reload({ waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  out.warm_reload = { bytes: m.bytes, requests: m.requests };

  // Log in, then tap record again and again: from the click to the new
  // sale's row in the list, measured inside the page.
  await page.getByLabel('用户名').fill(username);
  await page.getByLabel('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.locator('#products button').first().waitFor({ timeout: 60000 });
  const times = [];
  for (let i = 0; i < taps; i++) {
    await page.locator('#products button').first().click();
    const ms = await page.evaluate(() => new Promise((resolve) => {
      const list = document.querySelector('#sales');
      const n = list.children.length;
      const t0 = performance.now();
      const obs = new MutationObserver(() => {
        if (list.children.length > n) {
          obs.disconnect();
          resolve(performance.now() - t0);
        }
      });
      obs.observe(list, { childList: true });
      setTimeout(() => { obs.disconnect(); resolve(null); }, 10000); // no stall: nothing to record
      document.querySelector('#record').click();
    }));
    if (ms === null) break;
    times.push(ms);
  }
  out.record_to_list_ms = { median: median(times), max: times.length ? Math.max(...times) : null, taps: times.length };
  await ctx.close();

  // The shop's first load, in a context of its own (nothing cached).
  const shop = await browser.newContext({
    viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, locale: 'zh-CN',
  });
  m = meter(shop);
  const sp = await shop.newPage();
  await sp.goto(base + '/', { waitUntil: 'load' });
  await sp.locator('.product-list .card, .product-list li').first().waitFor({ timeout: 60000 });
  await sp.waitForLoadState('networkidle');
  out.shop_first_load = { bytes: m.bytes, requests: m.requests };
  await shop.close();

  // The coordinators' impact page, in a fresh desktop context: its own
  // files, the login and the report's answers, until its charts show.
  if (coord) {
    const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    m = meter(desk);
    const cp = await desk.newPage();
    await cp.goto(base + '/coordinator/', { waitUntil: 'load' });
    await cp.locator('#login-form').getByLabel('用户名').fill(coord);
    await cp.locator('#login-form').getByLabel('密码').fill(password);
    await cp.locator('#login-form').getByRole('button', { name: '登录' }).click();
    await cp.locator('[data-chart]').first().waitFor({ timeout: 120000 });
    await cp.waitForLoadState('networkidle');
    out.impact_first_load = { bytes: m.bytes, requests: m.requests };
    await desk.close();
  }
} finally {
  await browser.close();
}

// Lighthouse drives its own chromium through the DevTools protocol: a
// fresh one for each page, so no cache, service worker or storage
// carries from one page's run into the next. The coordinators' page is scored
// as desktop (desktop first) and before login: Lighthouse loads it cold.
if (!rest.includes('--no-lighthouse')) {
  out.lighthouse = {};
  let lighthouse, launch, desktopConfig;
  try {
    ({ default: lighthouse } = await import('lighthouse'));
    ({ launch } = await import('chrome-launcher'));
    ({ default: desktopConfig } = await import('lighthouse/core/config/desktop-config.js'));
  } catch (e) {
    out.lighthouse.error = String(e.message || e).split('\n')[0];
  }
  const targets = [['stall', '/stall/', 'mobile'], ['shop', '/', 'mobile'],
    ['coordinator', '/coordinator/', 'desktop']];
  for (const [key, path, form] of lighthouse ? targets : []) {
    let c = null;
    try {
      c = await launch({ chromePath: CHROMIUM, chromeFlags: FLAGS });
      const flags = { port: c.port, output: 'json', logLevel: 'error',
        onlyCategories: ['performance', 'accessibility', 'best-practices'] };
      const r = form === 'desktop'
        ? await lighthouse(base + path, flags, desktopConfig)
        : await lighthouse(base + path, { ...flags, formFactor: 'mobile' });
      const cat = r.lhr.categories;
      out.lighthouse[key] = {
        path, form_factor: form,
        version: r.lhr.lighthouseVersion,
        performance: Math.round(cat.performance.score * 100),
        accessibility: Math.round(cat.accessibility.score * 100),
        best_practices: Math.round(cat['best-practices'].score * 100),
        // The metrics behind the performance score, in ms (CLS unitless).
        metrics: Object.fromEntries(['first-contentful-paint', 'largest-contentful-paint',
          'total-blocking-time', 'cumulative-layout-shift', 'speed-index']
          .map((k) => [k, Math.round((r.lhr.audits[k]?.numericValue ?? NaN) * 1000) / 1000])),
        failed: Object.values(r.lhr.audits).filter((a) => a.score !== null && a.score < 0.9 &&
          a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual').map((a) => a.id),
      };
    } catch (e) {
      out.lighthouse[key] = { path, error: String(e.message || e).split('\n')[0] };
    } finally {
      if (c) await c.kill();
    }
  }
}
console.log(JSON.stringify(out));
