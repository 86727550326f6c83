// The coordinators' pages at /coordinator/, used as a coordinator and an
// admin use them at a desk (1280 px) or on a tablet (768 px). Run by
// test_coordinator_page.py, which starts marketd and makes the data (F).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { F, BASE, api, checkScreen, desktop, launch, screenshot, until } from './browser.mjs';

let browser;
const tokens = {};
before(async () => {
  browser = await launch();
  for (const who of ['admin', 'coord', 'scoped']) {
    const r = await api('POST', '/auth/login', { body: F[who] });
    assert.equal(r.status, 200);
    tokens[who] = r.json.token;
  }
});
after(async () => { await browser?.close(); });

// Fen as the page must show them, written again here: 123456 → ¥1,234.56.
const yuan = (fen) => {
  const d = String(Math.abs(fen)).padStart(3, '0');
  return (fen < 0 ? '-' : '') + '¥' + d.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + d.slice(-2);
};
const addDays = (date, n) => { const d = new Date(date + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };

async function open(who, hash = '#/impact', opts = {}) {
  const ctx = await desktop(browser, opts);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(BASE + '/coordinator/#/login');
  await page.locator('#login-form').getByLabel('用户名').fill(F[who].username);
  await page.locator('#login-form').getByLabel('密码').fill(F[who].password);
  await page.locator('#login-form').getByRole('button', { name: '登录' }).click();
  await page.getByRole('button', { name: '退出' }).waitFor();
  await page.evaluate((h) => { location.hash = h; }, hash);
  return { ctx, page, errors };
}

// Every screen: axe, nothing wider than the screen, no CSP violation, no
// uncaught error.
async function screen(page, errors, what, shot) {
  await checkScreen(page, what);
  assert.deepEqual(await page.evaluate(() => window.__csp), [], `CSP violations on ${what}`);
  assert.deepEqual(errors.map(String), [], `errors on ${what}`);
  if (shot) await screenshot(page, shot);
}

const cellTexts = (loc) => loc.evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent.trim())));

// The impact screen against the API's report for the same range: the
// figures, both charts' data and both tables, to the fen.
async function checkImpact(page, token, from, to, region = '') {
  const q = new URLSearchParams({ from, to, group_by: 'month' });
  if (region) q.set('region', region);
  const r = await api('GET', '/reports/impact?' + q, { token });
  assert.equal(r.status, 200);
  const report = r.json;
  const sections = page.locator('.region-report');
  await until(async () => (await sections.count()) === report.regions.length && (await page.locator('.region-report .uplot canvas').count()) === 2 * report.regions.length, 'the region reports drawn');
  for (const reg of report.regions) {
    const s = page.locator(`.region-report[data-region="${reg.region_code}"]`);
    assert.equal(await s.locator('[data-key="sales_fen"] dd').textContent(), yuan(reg.sales_fen));
    assert.equal(await s.locator('[data-key="sales_per_poor_household_fen"] dd').textContent(), yuan(reg.sales_per_poor_household_fen));
    assert.equal(await s.locator('[data-key="households"] dd').textContent(), `${reg.households} 户（贫困户 ${reg.poor_households} 户）`);
    const ch = JSON.parse(await s.locator('.chart').nth(0).getAttribute('data-chart'));
    const CH = ['holiday_market', 'caravan', 'counter', 'five_into', 'online'];
    assert.deepEqual(ch.series.map((x) => x.values), [CH.map((c) => reg.by_channel[c])], 'the channel chart draws the report');
    // What uPlot holds is what the attribute says.
    assert.deepEqual(await s.locator('.chart').nth(0).evaluate((el) => el.plot.data.slice(1)), ch.series.map((x) => x.values));
    assert.deepEqual((await cellTexts(s.locator('.channel-table tbody tr'))).map((c) => c[1]), CH.map((c) => yuan(reg.by_channel[c])));
    const mo = JSON.parse(await s.locator('.chart').nth(1).getAttribute('data-chart'));
    assert.deepEqual(mo.labels, reg.months.map((m) => m.month));
    assert.deepEqual(mo.series.map((x) => x.values), [reg.months.map((m) => m.stall_sales_fen), reg.months.map((m) => m.online_sales_fen)]);
    assert.deepEqual(await s.locator('.chart').nth(1).evaluate((el) => el.plot.data.slice(1)), mo.series.map((x) => x.values));
    assert.deepEqual(await cellTexts(s.locator('.month-table tbody tr')),
      reg.months.map((m) => [m.month, yuan(m.stall_sales_fen), yuan(m.online_sales_fen), yuan(m.sales_fen), String(m.poor_households)]));
    assert.deepEqual(await cellTexts(s.locator('.top-table tbody tr')), reg.top_products.map((p) => [p.name, String(p.units), yuan(p.sales_fen)]));
  }
  return report;
}

test('impact: figures, the charts by channel and by month and their tables equal the API\'s to the fen; the CSV is the API\'s bytes', async () => {
  const { ctx, page, errors } = await open('coord');
  const from = F.today.slice(0, 4) + '-01-01';
  const report = await checkImpact(page, tokens.coord, from, F.today);
  assert.deepEqual(report.regions.map((r) => r.region_code), ['xinjiang', 'zhenfeng']);
  const zf = report.regions.find((r) => r.region_code === 'zhenfeng');
  // 3 × 15.50 + 168.01 at the stall; online 2 × 15.50 + 1 × 15.50 paid (the placed order does not count).
  assert.equal(zf.stall_sales_fen, 3 * 1550 + 16801);
  assert.equal(zf.online_sales_fen, 3 * 1550);
  assert.ok(zf.by_channel.holiday_market > 0 && zf.by_channel.online > 0);
  await screen(page, errors, 'the impact screen', 'coord-impact');

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载 CSV' }).click()]);
  const bytes = Buffer.concat(await (async () => { const chunks = []; for await (const c of await download.createReadStream()) chunks.push(c); return chunks; })());
  const csv = await fetch(`${BASE}/api/v1/reports/impact?from=${from}&to=${F.today}&format=csv`, { headers: { Authorization: 'Bearer ' + tokens.coord } });
  assert.equal(csv.status, 200);
  assert.ok(bytes.equals(Buffer.from(await csv.arrayBuffer())), 'the downloaded CSV is the API\'s');
  assert.equal(download.suggestedFilename(), `impact-${from}-${F.today}.csv`);

  // One region, another range: the page asks again and still agrees.
  await page.getByLabel('对口地区').selectOption('zhenfeng');
  await page.getByRole('button', { name: '查看报告' }).click();
  await until(async () => (await page.locator('.region-report').count()) === 1, 'the Zhenfeng report');
  await checkImpact(page, tokens.coord, from, F.today, 'zhenfeng');

  // On a tablet the same screen fits.
  await page.setViewportSize({ width: 768, height: 1024 });
  await screen(page, errors, 'the impact screen on a tablet', 'coord-impact-tablet');
  await ctx.close();
});

test('a region-scoped coordinator sees only its region', async () => {
  const { ctx, page, errors } = await open('scoped', '#/impact?region=xinjiang');
  await page.getByText('你的账号只管 贞丰县').waitFor();
  const options = await page.getByLabel('对口地区').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(options, ['zhenfeng']);
  const report = await checkImpact(page, tokens.scoped, F.today.slice(0, 4) + '-01-01', F.today);
  assert.deepEqual(report.regions.map((r) => r.region_code), ['zhenfeng']);
  assert.equal(await page.locator('.region-report[data-region="xinjiang"]').count(), 0);
  assert.ok(!(await page.locator('main').innerText()).includes('新疆'), 'nothing of Xinjiang on the page');
  const other = await api('GET', `/reports/impact?from=${F.today}&to=${F.today}&region=xinjiang`, { token: tokens.scoped });
  assert.equal(other.status, 403);
  await screen(page, errors, 'the scoped impact screen', 'coord-impact-scoped');
  await ctx.close();
});

test('the calendar: a market day, a caravan route of 5 stops (a bad stop makes none), open, close, cancel, a stall', async () => {
  const { ctx, page, errors } = await open('coord', '#/calendar');
  await page.locator('#calendar').waitFor();
  await screen(page, errors, 'the calendar', 'coord-calendar');
  const days = async (q) => (await api('GET', '/market-days?limit=200&' + q)).json.items;

  // A market day.
  const date = addDays(F.today, 14);
  const form = page.locator('#day-form');
  await form.getByLabel('场地').selectOption(String(F.venue));
  await form.getByLabel('日期').fill(date);
  await form.getByLabel('名称（可不填）').fill('国庆扶贫集市');
  await form.getByRole('button', { name: '新建' }).click();
  await page.getByRole('status').getByText(`已新建 ${date} 的市集日`).waitFor();
  const made = (await days(`from=${date}&to=${date}`)).filter((d) => d.venue_id === F.venue);
  assert.equal(made.length, 1);
  assert.equal(made[0].title, '国庆扶贫集市');
  const panel = page.locator('#day-panel');
  await panel.getByText('未开始').waitFor();

  // Open, then close it.
  await panel.getByRole('button', { name: '开市' }).click();
  await page.locator('#day-panel[data-status="open"]').waitFor();
  await page.locator('#day-panel').getByRole('button', { name: '收市' }).click();
  await page.locator('#day-panel[data-status="closed"]').waitFor();
  assert.equal((await api('GET', '/market-days/' + made[0].id)).json.status, 'closed');

  // A caravan route: 5 stops in the 10th to the 14th of next month.
  const month = addDays(F.today.slice(0, 7) + '-28', 7).slice(0, 7);
  const stopDates = [10, 11, 12, 13, 14].map((d) => `${month}-${d}`);
  const route = page.locator('#route-form');
  for (let i = 1; i < 5; i++) await route.getByRole('button', { name: '加一站' }).click();
  const rows = route.locator('.stop');
  assert.equal(await rows.count(), 5);
  await route.getByLabel('线路名称（可不填）').fill('大篷车进社区');
  for (let i = 0; i < 5; i++) {
    await rows.nth(i).getByLabel('场地').selectOption(String(F.stops[i]));
    await rows.nth(i).getByLabel('日期').fill(stopDates[i]);
  }
  // The fourth stop closes before it opens: the batch is refused, nothing made.
  await rows.nth(3).getByLabel('收市时间').fill('08:00');
  await route.getByRole('button', { name: '新建线路' }).click();
  await rows.nth(3).locator('.stop-error').filter({ hasText: /\S/ }).waitFor();
  await route.getByText(/第 4 站不对，整条线路都没有建/).waitFor();
  assert.equal((await days(`from=${month}-01&to=${month}-28&channel=caravan`)).length, 0);
  await screen(page, errors, 'a refused caravan route', 'coord-route-refused');
  await rows.nth(3).getByLabel('收市时间').fill('17:00');
  await route.getByRole('button', { name: '新建线路' }).click();
  await page.getByRole('status').getByText('已新建 5 站').waitFor();
  const caravan = await days(`from=${month}-01&to=${month}-28&channel=caravan`);
  assert.deepEqual(caravan.map((d) => [d.date, d.venue_id, d.title]), stopDates.map((d, i) => [d, F.stops[i], '大篷车进社区']));
  // The calendar shows the month of the route with its 5 stops.
  for (let i = 0; i < 5; i++) {
    await page.locator(`.cell[data-date="${stopDates[i]}"]`).getByRole('button', { name: new RegExp(`社区${i + 1} · 大篷车`) }).waitFor();
  }
  await page.getByLabel('渠道').first().selectOption('caravan');
  await page.locator('#calendar-filter').getByRole('button', { name: '查看' }).click();
  await until(async () => (await page.locator('#calendar button.day').count()) === 5, 'the caravan filter');
  await screen(page, errors, 'the calendar with a caravan route', 'coord-calendar-route');

  // Cancel the first stop; assign a stall at the second.
  await page.locator(`.cell[data-date="${stopDates[0]}"] button.day`).click();
  await page.locator('#day-panel').getByRole('button', { name: '取消这个市集日' }).click();
  await page.locator('#day-panel[data-status="cancelled"]').waitFor();
  assert.equal((await api('GET', '/market-days/' + caravan[0].id)).json.status, 'cancelled');
  await page.locator(`.cell[data-date="${stopDates[1]}"] button.day`).click();
  await page.locator(`#day-panel[data-day="${caravan[1].id}"]`).waitFor();
  const sf = page.locator('#stall-form');
  await sf.getByLabel('摊位号').fill('C01');
  await sf.getByLabel('摊主的用户编号').fill(String(F.operator_id));
  await sf.getByLabel('供货主体').selectOption(String(F.producers.zhenfeng));
  await sf.getByRole('button', { name: '分配摊位' }).click();
  await page.getByRole('status').getByText('已分配摊位 C01').waitFor();
  await page.locator('#stalls-table').getByText('贞丰李子合作社').waitFor();
  const stalls = (await api('GET', `/market-days/${caravan[1].id}/stalls`)).json.items;
  assert.deepEqual(stalls.map((s) => [s.label, s.operator_id, s.producer_id]), [['C01', F.operator_id, F.producers.zhenfeng]]);
  await screen(page, errors, 'a market day with its stall', 'coord-day');
  await ctx.close();
});

test('the catalog: a product\'s price and stock; a CSV import with a bad row shows its error and imports nothing', async () => {
  const { ctx, page, errors } = await open('coord', '#/catalog');
  const row = page.locator(`#products-table tr[data-product="${F.products.plum}"]`);
  await row.waitFor();
  await screen(page, errors, 'the catalog', 'coord-catalog');
  await row.getByLabel('贞丰李子的价格（元）').fill('14.8');
  await row.getByLabel('贞丰李子的库存').fill('480');
  await row.getByRole('button', { name: '保存 贞丰李子' }).click();
  await page.getByRole('status').getByText('已保存').waitFor();
  const p = (await api('GET', '/products/' + F.products.plum)).json;
  assert.equal(p.price_fen, 1480);
  assert.equal(p.stock, 480);
  await page.locator(`#products-table tr[data-product="${F.products.plum}"]`).getByLabel('贞丰李子的价格（元）').and(page.locator('[value="14.80"]')).waitFor();
  // Households of a producer.
  const pr = page.locator(`#producers-table tr[data-producer="${F.producers.xinjiang}"]`);
  await pr.getByLabel('和田红枣协会的贫困户').fill('9');
  // The save draws the screen again: wait for that before using the import form.
  const drawn = await page.locator('main').getAttribute('data-ready');
  await pr.getByRole('button', { name: '保存 和田红枣协会' }).click();
  await until(async () => (await page.locator('main').getAttribute('data-ready')) !== drawn, 'the catalog drawn again');
  assert.equal((await api('GET', '/producers/' + F.producers.xinjiang)).json.poor_households, 9);
  assert.equal(await page.locator(`#producers-table tr[data-producer="${F.producers.xinjiang}"]`).getByLabel('和田红枣协会的贫困户').inputValue(), '9');

  const count = async () => (await api('GET', '/products?limit=200&active=all')).json.items.length;
  const before = await count();
  const csv = (rows) => ({ name: 'catalog.csv', mimeType: 'text/csv', buffer: Buffer.from('\ufeff' + rows.join('\r\n') + '\r\n') });
  const head = 'name,category,unit,price_fen,stock,producer_id,certified,certificate_no';
  const good = [`"贞丰红茶, 特级",tea,100g 罐,8800,20,${F.producers.zhenfeng},true,黔扶认 2021-001`, `新疆核桃,dried_fruit,1kg 袋,4500,50,${F.producers.xinjiang},false,`];
  await page.getByLabel('CSV 文件').setInputFiles(csv([head, good[0], `贞丰薏仁米,grain,1kg 袋,12.5,30,${F.producers.zhenfeng},,`, good[1]]));
  await page.getByRole('button', { name: '检查并导入' }).click();
  const bad = page.locator('#import-result tr[data-line="3"]');
  await bad.getByText('price_fen: 要写成整数').waitFor();
  await page.getByText('有 1 行不对，什么都没有导入。').waitFor();
  assert.equal(await page.locator('#import-result tr.bad').count(), 1);
  assert.equal(await count(), before, 'nothing imported');
  await screen(page, errors, 'a refused CSV import', 'coord-import-refused');

  await page.getByLabel('CSV 文件').setInputFiles(csv([head, ...good]));
  await page.getByRole('button', { name: '检查并导入' }).click();
  await page.getByRole('status').getByText('已导入 2 个商品').waitFor();
  assert.equal(await page.locator('#import-result td.ok').count(), 2);
  const items = (await api('GET', '/products?limit=200&active=all')).json.items;
  assert.equal(items.length, before + 2);
  const tea = items.find((x) => x.name === '贞丰红茶, 特级');
  assert.deepEqual([tea.price_fen, tea.stock, tea.certified, tea.certificate_no, tea.unit], [8800, 20, true, '黔扶认 2021-001', '100g 罐']);
  await ctx.close();
});

test('orders: filter by status and market day; ready, fulfilled; cancel shows the refund', async () => {
  const { ctx, page, errors } = await open('coord', '#/orders');
  const ids = async () => page.locator('#orders-table tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.order)).sort((a, b) => a - b));
  await page.locator('#orders-table').waitFor();
  assert.deepEqual(await ids(), [F.orders.paid, F.orders.placed, F.orders.ready, F.orders.canteen].sort((a, b) => a - b));
  await screen(page, errors, 'the orders', 'coord-orders');
  await page.getByLabel('状态').selectOption('placed');
  await page.locator('#orders-filter').getByRole('button', { name: '查看' }).click();
  await until(async () => JSON.stringify(await ids()) === JSON.stringify([F.orders.placed]), 'the placed orders');
  await page.getByLabel('状态').selectOption('');
  await page.getByLabel('取货市集日').selectOption(String(F.days.today));
  await page.locator('#orders-filter').getByRole('button', { name: '查看' }).click();
  await page.getByText('没有符合条件的订单。').waitFor();
  await page.getByLabel('取货市集日').selectOption(String(F.days.next));
  await page.locator('#orders-filter').getByRole('button', { name: '查看' }).click();
  await until(async () => (await ids()).length === 4, 'the next market day\'s orders');

  const ready = page.locator(`#orders-table tr[data-order="${F.orders.ready}"]`);
  await ready.getByRole('button', { name: `备好可取 #${F.orders.ready}` }).click();
  await page.locator(`#orders-table tr[data-order="${F.orders.ready}"][data-status="ready"]`).getByRole('button', { name: `已交付 #${F.orders.ready}` }).click();
  await page.locator(`#orders-table tr[data-order="${F.orders.ready}"][data-status="fulfilled"]`).waitFor();
  assert.equal((await api('GET', '/orders/' + F.orders.ready, { token: tokens.coord })).json.status, 'fulfilled');

  const paid = (await api('GET', '/orders/' + F.orders.paid, { token: tokens.coord })).json;
  const row = page.locator(`#orders-table tr[data-order="${F.orders.paid}"]`);
  await row.getByRole('button', { name: `取消订单 #${F.orders.paid}` }).click();
  await row.getByRole('button', { name: `确认取消订单 ${F.orders.paid}` }).click();
  const cancelled = page.locator(`#orders-table tr[data-order="${F.orders.paid}"][data-status="cancelled"]`);
  await cancelled.getByText(`退款 ${yuan(paid.total_fen)}`).waitFor();
  await page.getByRole('status').getByText(`订单 ${F.orders.paid} 已取消，退款 ${yuan(paid.total_fen)}`).waitFor();
  const after = (await api('GET', '/orders/' + F.orders.paid, { token: tokens.coord })).json;
  assert.deepEqual([after.status, after.refund_fen], ['cancelled', paid.total_fen]);
  await screen(page, errors, 'a cancelled order with its refund', 'coord-orders-cancelled');
  await ctx.close();
});

test('admin: a user\'s role and region changed, and seen in the audit log; a coordinator has no admin screen', async () => {
  const { ctx, page, errors } = await open('admin', '#/admin');
  const users = (await api('GET', '/users?limit=200', { token: tokens.admin })).json.items;
  const staff = users.find((u) => u.username === 'staff1');
  const row = page.locator(`#users-table tr[data-user="${staff.id}"]`);
  await row.waitFor();
  await screen(page, errors, 'the users and audit screen', 'coord-admin');
  await row.getByLabel('staff1的角色').selectOption('coordinator');
  await row.getByLabel('staff1管的地区').selectOption('zhenfeng');
  await row.getByRole('button', { name: '保存 staff1' }).click();
  await page.getByRole('status').getByText('已保存用户 staff1').waitFor();
  const now = (await api('GET', '/users?limit=200', { token: tokens.admin })).json.items.find((u) => u.id === staff.id);
  assert.deepEqual([now.role, now.region_code], ['coordinator', 'zhenfeng']);
  const first = page.locator('#audit-table tbody tr').first();
  await first.getByText('PATCH /api/v1/users/{id}').waitFor();
  assert.match(await first.innerText(), new RegExp(`admin[\\s\\S]*user ${staff.id}`));
  const audit = (await api('GET', '/audit?limit=1', { token: tokens.admin })).json.items[0];
  assert.deepEqual([audit.action, audit.object_id, audit.username], ['PATCH /api/v1/users/{id}', staff.id, 'admin']);
  await screen(page, errors, 'the audit log after the change', 'coord-audit');

  // English, one tap away.
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Users and audit' }).waitFor();
  await screen(page, errors, 'the admin screen in English', 'coord-admin-en');
  await ctx.close();

  const c = await open('coord', '#/admin');
  await c.page.locator('.region-report').first().waitFor();
  assert.equal(await c.page.locator('#nav-admin').isVisible(), false);
  await c.ctx.close();
});

// A download's bytes, and the API's answer to the same request.
async function bytesOf(download) {
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  return Buffer.concat(chunks);
}
async function apiBytes(p, token) {
  const r = await fetch(`${BASE}/api/v1${p}`, { headers: { Authorization: 'Bearer ' + token } });
  assert.equal(r.status, 200, p);
  return Buffer.from(await r.arrayBuffer());
}
// A refused write's problem as the page (zh-CN) gets it.
async function problemZh(method, p, token, body) {
  const r = await fetch(`${BASE}/api/v1${p}`, { method, body: JSON.stringify(body),
    headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json', 'Accept-Language': 'zh-CN' } });
  return { status: r.status, ...(await r.json()) };
}
const pct = (bp) => `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')} %`;

// The progress table against the API's report, row for row, to the fen.
async function checkProgress(page, year) {
  const rep = (await api('GET', '/reports/procurement?year=' + year, { token: tokens.coord })).json;
  const rows = page.locator('#progress-table tbody tr');
  await until(async () => (await rows.count()) === rep.institutions.length, 'the progress rows');
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => Number(r.dataset.institution))), rep.institutions.map((i) => i.institution_id));
  const cells = await cellTexts(rows);
  rep.institutions.forEach((i, k) => {
    assert.deepEqual([cells[k][0], ...cells[k].slice(2)], [i.name, yuan(i.food_budget_fen), pct(i.reserved_share_bp), yuan(i.reserved_fen), yuan(i.purchased_fen),
      pct(i.completion_bp), yuan(i.expected_fen), i.on_track ? '达标' : '落后', String(i.orders), yuan(i.five_into_sales_fen)]);
  });
  assert.equal(await page.locator('#progress-totals').textContent(),
    `${rep.totals.institutions} 个单位，${rep.totals.on_track} 个达标；预留 ${yuan(rep.totals.reserved_fen)}，已采购 ${yuan(rep.totals.purchased_fen)}。`);
  return rep;
}

test('institutions: progress laggards first equals the API\'s to the fen, its CSV, a new institution and its plan', async () => {
  const { ctx, page, errors } = await open('coord', '#/institutions');
  const year = F.today.slice(0, 4);
  await page.locator('#progress-table').waitFor();
  const rep = await checkProgress(page, year);
  // The hospital has bought nothing of its large plan: first. The school's
  // canteen order (¥39.99) covers its reserved ceil(200.01 × 10 %) = ¥20.01.
  assert.deepEqual(rep.institutions.map((i) => i.institution_id), [F.institutions.hospital, F.institutions.school]);
  const school = rep.institutions[1];
  assert.deepEqual([school.reserved_fen, school.purchased_fen, school.completion_bp, school.on_track], [2001, 3999, 19985, true]);
  assert.equal(rep.institutions[0].reserved_fen, Math.ceil(123456789 * 1500 / 10000));
  await screen(page, errors, 'the institutions screen', 'coord-institutions');

  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#procurement-csv').click()]);
  assert.ok((await bytesOf(download)).equals(await apiBytes(`/reports/procurement?year=${year}&format=csv`, tokens.coord)), 'the procurement CSV is the API\'s');
  assert.equal(download.suggestedFilename(), `procurement-${year}.csv`);

  // A new institution, then its plan: ¥12,345.67 with 12.5 % reserved.
  const nf = page.locator('#institution-form');
  await nf.getByLabel('名称').fill('宁波第二中学');
  await nf.getByLabel('类型').selectOption('school');
  await nf.getByLabel('街道').fill('白云街道');
  await nf.getByRole('button', { name: '新增' }).click();
  await page.getByRole('status').getByText('已新增单位 宁波第二中学').waitFor();
  const made = (await api('GET', '/institutions?limit=200', { token: tokens.coord })).json.items.find((i) => i.name === '宁波第二中学');
  assert.deepEqual([made.kind, made.subdistrict, made.venue_id], ['school', '白云街道', null]);
  await page.locator(`#institutions-table tr[data-institution="${made.id}"]`).waitFor();
  const pf = page.locator('#plan-form');
  assert.equal(await pf.getByLabel('单位').inputValue(), String(made.id));
  await pf.getByLabel('食材预算（元）').fill('12345.67');
  // A share of 0 is refused on its field and nothing is sent.
  await pf.getByLabel('预留比例（%）').fill('0');
  await pf.getByRole('button', { name: '保存计划' }).click();
  await pf.locator('.field-error[data-field="share"]').getByText('比例要在 0.01 到 100 之间').waitFor();
  assert.deepEqual((await api('GET', `/institutions/${made.id}/plans`, { token: tokens.coord })).json.items, []);
  await pf.getByLabel('预留比例（%）').fill('12.5');
  await pf.getByRole('button', { name: '保存计划' }).click();
  await page.getByRole('status').getByText(`已保存 ${year} 年计划，预留 ${yuan(154321)}`).waitFor();
  const plans = (await api('GET', `/institutions/${made.id}/plans`, { token: tokens.coord })).json.items;
  assert.deepEqual(plans.map((p) => [p.year, p.food_budget_fen, p.reserved_share_bp, p.reserved_fen]), [[Number(year), 1234567, 1250, 154321]]);
  await page.locator(`#progress-table tr[data-institution="${made.id}"]`).waitFor();
  await checkProgress(page, year);
  await screen(page, errors, 'the institutions screen with a new plan', 'coord-institutions-plan');

  // Edited: its row's button fills the form, which sends only what changed.
  await page.locator(`#institutions-table tr[data-institution="${made.id}"]`).getByRole('button', { name: '编辑单位 宁波第二中学' }).click();
  const ef = page.locator('#institution-form');
  assert.equal(await ef.getByLabel('名称').inputValue(), '宁波第二中学');
  assert.equal(await ef.getByLabel('类型').inputValue(), 'school');
  await ef.getByLabel('名称').fill('宁波第二中学东校区');
  await ef.getByLabel('街道').fill('鼓楼街道');
  await ef.getByRole('button', { name: '保存修改' }).click();
  await page.getByRole('status').getByText('已保存单位 宁波第二中学东校区').waitFor();
  const edited = (await api('GET', `/institutions/${made.id}`, { token: tokens.coord })).json;
  assert.deepEqual([edited.name, edited.kind, edited.subdistrict, edited.venue_id], ['宁波第二中学东校区', 'school', '鼓楼街道', null]);
  await page.locator(`#institutions-table tr[data-institution="${made.id}"]`).getByText('宁波第二中学东校区').waitFor();
  // An emptied name is held back by the form; cancelling goes back to a new one.
  await page.locator(`#institutions-table tr[data-institution="${made.id}"]`).getByRole('button', { name: '编辑单位 宁波第二中学东校区' }).click();
  await ef.getByLabel('名称').fill('');
  await ef.getByRole('button', { name: '保存修改' }).click();
  assert.equal((await api('GET', `/institutions/${made.id}`, { token: tokens.coord })).json.name, '宁波第二中学东校区', 'an empty name is not sent');
  await ef.getByRole('button', { name: '取消编辑' }).click();
  assert.equal(await ef.getByRole('button', { name: '新增' }).count(), 1);
  assert.equal(await ef.getByLabel('名称').inputValue(), '');
  await ctx.close();
});

test('payouts: a producer\'s statement equals the API\'s; a payout recorded, a correction without a note refused on its field; the report and its CSV', async () => {
  const { ctx, page, errors } = await open('coord', '#/payouts');
  const from = F.today.slice(0, 8) + '01';
  const pid = F.producers.zhenfeng;
  const form = page.locator('#statement-form');
  await form.getByLabel('供货主体').selectOption(String(pid));
  await form.getByLabel('开始日期').fill(from);
  await form.getByLabel('结束日期').fill(F.today);
  await form.getByRole('button', { name: '查看' }).click();
  const checkStatement = async () => {
    const st = (await api('GET', `/producers/${pid}/statement?from=${from}&to=${F.today}`, { token: tokens.coord })).json;
    const s = page.locator('#statement');
    await s.waitFor();
    for (const k of ['opening_balance_fen', 'earned_fen', 'paid_out_fen', 'closing_balance_fen']) {
      assert.equal(await s.locator(`[data-key="${k}"] dd`).textContent(), yuan(st[k]), k);
    }
    assert.deepEqual(await cellTexts(s.locator('#days-table tbody tr')),
      st.days.map((d) => [d.date, yuan(d.stall_sales_fen), yuan(d.online_sales_fen), yuan(d.earned_fen)]));
    return st;
  };
  const st = await checkStatement();
  assert.ok(st.earned_fen > 0);
  await screen(page, errors, 'a producer\'s statement', 'coord-statement');

  const pf = page.locator('#payout-form');
  await pf.getByLabel('金额（元）').fill('50');
  await pf.getByLabel('转账流水号').fill('TX-0001');
  await pf.getByRole('button', { name: '记录付款' }).click();
  await page.getByRole('status').getByText(`已记录付给贞丰李子合作社的 ${yuan(5000)}`).waitFor();
  const list = async () => (await api('GET', `/producers/${pid}/payouts?limit=200`, { token: tokens.coord })).json.items;
  assert.deepEqual((await list()).map((p) => [p.amount_fen, p.paid_on, p.reference, p.note]), [[5000, F.today, 'TX-0001', null]]);
  // The screen is drawn again with the payout: wait for it before typing.
  await until(async () => (await page.locator('#payouts-table tbody tr').count()) === 1, 'the payout listed');

  // A correction of -¥10 without a note: the server's reason under the note.
  const bad = { amount_fen: -1000, paid_on: F.today, reference: 'TX-0002' };
  await page.locator('#payout-form').getByLabel('金额（元）').fill('-10');
  await page.locator('#payout-form').getByLabel('转账流水号').fill('TX-0002');
  await page.locator('#payout-form').getByRole('button', { name: '记录付款' }).click();
  const noteErr = page.locator('#payout-form .field-error[data-field="note"]');
  await noteErr.waitFor();
  const problem = await problemZh('POST', `/producers/${pid}/payouts`, tokens.coord, bad);
  assert.deepEqual([problem.status, problem.field], [400, 'note']);
  assert.equal(await noteErr.textContent(), problem.detail);
  assert.equal(await page.locator('#payout-form').getByLabel('说明').getAttribute('aria-invalid'), 'true');
  assert.equal((await list()).length, 1, 'nothing recorded');
  await screen(page, errors, 'a refused correction', 'coord-payout-refused');
  await page.locator('#payout-form').getByLabel('说明').fill('多付了，更正');
  await page.locator('#payout-form').getByRole('button', { name: '记录付款' }).click();
  await page.getByRole('status').getByText(`已记录付给贞丰李子合作社的 ${yuan(-1000)}`).waitFor();
  await until(async () => (await page.locator('#payouts-table tbody tr').count()) === 2, 'the correction listed');
  const payouts = await list();
  assert.deepEqual(payouts.map((p) => [p.amount_fen, p.note]), [[5000, null], [-1000, '多付了，更正']]);
  assert.deepEqual(await cellTexts(page.locator('#payouts-table tbody tr')), payouts.map((p) => [p.paid_on, yuan(p.amount_fen), p.reference, p.note || '']));
  const after = await checkStatement();
  assert.equal(after.paid_out_fen, 4000);
  assert.equal(after.closing_balance_fen, st.closing_balance_fen - 4000);

  // The payouts report of the range, and its CSV.
  const rep = (await api('GET', `/reports/payouts?from=${from}&to=${F.today}`, { token: tokens.coord })).json;
  const cols = ['opening_balance_fen', 'earned_fen', 'paid_out_fen', 'closing_balance_fen'];
  assert.deepEqual(await cellTexts(page.locator('#payouts-report tbody tr')),
    [...rep.producers.map((p) => [p.producer_name, p.region_code === 'zhenfeng' ? '贞丰县' : '新疆', ...cols.map((c) => yuan(p[c]))]),
      ['合计', '', ...cols.map((c) => yuan(rep.totals[c]))]]);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#payouts-csv').click()]);
  assert.ok((await bytesOf(download)).equals(await apiBytes(`/reports/payouts?from=${from}&to=${F.today}&format=csv`, tokens.coord)), 'the payouts CSV is the API\'s');
  await screen(page, errors, 'the statement after the payouts', 'coord-payouts');
  await ctx.close();
});

test('lots: a product\'s lots, a lot received (stock rises), a duplicate code refused, the trace as the API\'s JSON and CSV', async () => {
  const { ctx, page, errors } = await open('coord', '#/catalog');
  const tea = F.products.tea;
  await page.locator(`#products-table tr[data-product="${tea}"]`).getByRole('button', { name: '贞丰古树茶的批次' }).click();
  const lots = page.locator('#lots');
  await lots.locator(`tr[data-lot="${F.tea_lot}"]`).waitFor();
  const apiLots = async () => (await api('GET', `/products/${tea}/lots?limit=200`)).json.items;
  const check = async () => {
    const ls = await apiLots();
    assert.deepEqual(await cellTexts(lots.locator('#lots-table tbody tr')),
      ls.map((l) => [l.code, String(l.quantity), String(l.remaining), l.packed_on, l.harvested_on || '', l.best_before || '', l.origin || '', '溯源']));
    return ls;
  };
  const first = await check();
  // The stall sale and the placed order drew one each.
  assert.deepEqual(first.map((l) => [l.code, l.quantity, l.remaining]), [['ZF-2026-01', 20, 18]]);
  await screen(page, errors, 'a product\'s lots', 'coord-lots');

  const stock = (await api('GET', '/products/' + tea)).json.stock;
  const lf = page.locator('#lot-form');
  await lf.getByLabel('批次号').fill('ZF-2026-02');
  await lf.getByLabel('数量').fill('30');
  await lf.getByLabel('包装日期').fill(F.today);
  await lf.getByLabel('保质期至').fill(addDays(F.today, 365));
  await lf.getByLabel('产地').fill('贞丰县北盘江镇');
  await lf.getByRole('button', { name: '入库' }).click();
  await page.getByRole('status').getByText('已入库批次 ZF-2026-02，30 件').waitFor();
  await page.locator('#lots-table tbody tr').nth(1).waitFor();
  const two = await check();
  assert.deepEqual(two.map((l) => [l.code, l.quantity, l.remaining, l.best_before, l.origin]),
    [['ZF-2026-01', 20, 18, null, '贞丰县者相镇'], ['ZF-2026-02', 30, 30, addDays(F.today, 365), '贞丰县北盘江镇']]);
  assert.equal((await api('GET', '/products/' + tea)).json.stock, stock + 30);

  // The same code again: the server's conflict is shown, nothing received.
  const again = page.locator('#lot-form');
  await again.getByLabel('批次号').fill('ZF-2026-02');
  await again.getByLabel('数量').fill('5');
  await again.getByLabel('包装日期').fill(F.today);
  await again.getByRole('button', { name: '入库' }).click();
  const problem = await problemZh('POST', `/products/${tea}/lots`, tokens.coord, { code: 'ZF-2026-02', quantity: 5, packed_on: F.today });
  assert.equal(problem.status, 409);
  await page.locator('#lots').getByText(problem.detail).waitFor();
  assert.equal((await apiLots()).length, 2);
  assert.equal((await api('GET', '/products/' + tea)).json.stock, stock + 30);

  // The trace of the first lot: received, sold at the stall, ordered.
  await page.getByRole('link', { name: '批次 ZF-2026-01 的溯源' }).click();
  const json = page.locator('#trace-json');
  await json.waitFor();
  const trace = (await api('GET', `/lots/${F.tea_lot}/trace`, { token: tokens.coord })).json;
  assert.deepEqual(JSON.parse(await json.textContent()), trace);
  assert.deepEqual(trace.events.map((e) => [e.kind, e.quantity]).sort(), [['ordered', 1], ['received', 20], ['sold', 1]]);
  assert.equal(trace.events[0].kind, 'received');
  await screen(page, errors, 'a lot\'s trace', 'coord-trace');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#trace-csv').click()]);
  assert.ok((await bytesOf(download)).equals(await apiBytes(`/lots/${F.tea_lot}/trace?format=csv`, tokens.coord)), 'the trace CSV is the API\'s');
  assert.equal(download.suggestedFilename(), `lot-${F.tea_lot}-trace.csv`);
  await ctx.close();
});

test('admin: a buyer\'s institution is set; other roles have none to set', async () => {
  const { ctx, page, errors } = await open('admin', '#/admin');
  const users = (await api('GET', '/users?limit=200', { token: tokens.admin })).json.items;
  const buyer = users.find((u) => u.username === 'buyer1');
  const op = users.find((u) => u.username === 'op1');
  const row = page.locator(`#users-table tr[data-user="${buyer.id}"]`);
  await row.waitFor();
  assert.equal(buyer.institution_id, null);
  assert.equal(await page.getByLabel('op1所属单位').isDisabled(), true);
  assert.equal(await page.getByLabel('canteen1所属单位').inputValue(), String(F.institutions.school));
  await row.getByLabel('buyer1所属单位').selectOption({ label: '海曙区第一医院' });
  const drawn = await page.locator('main').getAttribute('data-ready');
  await row.getByRole('button', { name: '保存 buyer1' }).click();
  await until(async () => (await page.locator('main').getAttribute('data-ready')) !== drawn, 'the users drawn again');
  await page.getByRole('status').getByText('已保存用户 buyer1').waitFor();
  const now = (await api('GET', '/users?limit=200', { token: tokens.admin })).json.items;
  assert.equal(now.find((u) => u.id === buyer.id).institution_id, F.institutions.hospital);
  assert.equal(now.find((u) => u.id === op.id).institution_id, null);
  assert.equal(await page.locator(`#users-table tr[data-user="${buyer.id}"]`).getByLabel('buyer1所属单位').inputValue(), String(F.institutions.hospital));
  await screen(page, errors, 'a buyer with an institution', 'coord-admin-institution');
  await ctx.close();
});
