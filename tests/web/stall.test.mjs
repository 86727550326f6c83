// The stall operators' page, driven as an operator uses it. Run by
// test_stall_page.py, which starts marketd and makes the data (F).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { F, BASE, api, checkScreen, launch, phone, screenshot, until } from './browser.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const STALL = BASE + '/stall/';

// Every sale the server holds at a stall.
async function serverSales(stall) {
  const r = await api('GET', `/sales?stall_id=${stall}&limit=200`, { token: F.admin });
  assert.equal(r.status, 200);
  return r.json.items;
}

// Opens the page in a new phone context and logs the operator in; waits
// until the service worker controls the page (so it can start offline).
async function openLoggedIn(ctxOpts) {
  const ctx = await phone(browser, ctxOpts);
  const page = await ctx.newPage();
  await page.goto(STALL);
  await page.getByLabel('用户名').fill(F.operator.username);
  await page.getByLabel('密码').fill(F.operator.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByRole('button', { name: '加一份 贞丰李子' }).waitFor();
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
  return { ctx, page };
}

// The sales of after that before did not hold.
const added = (before, after) => after.filter((s) => !before.some((b) => b.id === s.id));

const status = (page) => page.getByRole('status', { name: '同步状态' });

async function recordSale(page, taps, payment) {
  for (const [name, n] of taps) {
    for (let i = 0; i < n; i++) await page.getByRole('button', { name: '加一份 ' + name }).click();
  }
  if (payment) await page.getByLabel(payment).check();
  await page.getByRole('button', { name: '记录', exact: true }).click();
}

async function chooseStall(page, label) {
  const sel = page.getByLabel('摊位', { exact: true });
  const option = await sel.locator('option', { hasText: label }).getAttribute('value');
  await sel.selectOption(option);
}

test('three sales recorded offline survive a reload and reach the server once each', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  const before = (await serverSales(F.stalls.main)).length;
  await checkScreen(page, 'the sale screen');
  await screenshot(page, 'stall-sale');

  await ctx.setOffline(true);
  await until(async () => (await status(page).textContent()).includes('离线'), 'the offline state');
  await recordSale(page, [['贞丰李子', 1]]);
  await recordSale(page, [['贞丰李子', 2]], '微信');
  await recordSale(page, [['贞丰古树茶', 1], ['新疆灰枣', 1]], '支付宝');
  await assert.doesNotReject(status(page).getByText('3 笔待同步').waitFor());
  assert.equal(await page.locator('#sales li').count(), 3);
  await assert.doesNotReject(page.getByText('3 笔，共 ¥252.00').waitFor());
  await screenshot(page, 'stall-offline-pending');

  await page.reload();
  await status(page).getByText('3 笔待同步').waitFor();
  // The pending count comes from the queue at once; the list waits for
  // the stall to be restored from the cached catalog (on a slow machine
  // it was still empty when the count showed).
  await until(async () => (await page.locator('#sales li').count()) === 3,
    'the three sales listed after the reload');
  assert.ok((await status(page).textContent()).includes('离线'));

  await ctx.setOffline(false);
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });
  const sales = await serverSales(F.stalls.main);
  assert.equal(sales.length, before + 3);
  const mine = sales.slice(-3).map((s) => [s.total_fen, s.payment]).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(mine, [[1500, 'cash'], [3000, 'wechat'], [20700, 'alipay']]);
  assert.equal(await page.locator('#sales .state-synced').count(), 3);
  await ctx.close();
});

test('a reply lost after the server stored the batch: the sale is sent again and stored once', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  const before = await serverSales(F.stalls.main);
  // The first batch reaches the server, which stores it; its answer is
  // dropped on the way back.
  let dropped = 0;
  const sent = [];
  page.on('request', (req) => {
    if (req.url().endsWith('/api/v1/sales/batch')) sent.push(...JSON.parse(req.postData()).sales.map((s) => s.id));
  });
  await page.route('**/api/v1/sales/batch', async (route) => {
    if (dropped === 0) {
      dropped++;
      const resp = await route.fetch();
      assert.equal(resp.status(), 200);
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await recordSale(page, [['贞丰李子', 3]], '现金');
  await until(() => dropped === 1, 'the dropped reply');
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });
  const after = await serverSales(F.stalls.main);
  assert.equal(after.length, before.length + 1);
  const [sale] = added(before, after);
  const id = sale.id;
  assert.equal(sale.total_fen, 4500);
  assert.ok(sent.filter((s) => s === id).length >= 2, 'the sale was sent again');
  await ctx.close();
});

test('refused sales land in "needs attention" with the reason; the others still sync', async () => {
  const { ctx, page } = await openLoggedIn();
  await ctx.setOffline(true);
  // While the phone is offline, a coordinator cancels the market day of
  // stall B01.
  const r = await api('PATCH', `/market-days/${F.days.cancelled}`, { token: F.coord, body: { status: 'cancelled' } });
  assert.equal(r.status, 200);
  await chooseStall(page, 'B01');
  await recordSale(page, [['贞丰李子', 1]]);
  await chooseStall(page, 'A03');
  await recordSale(page, [['新疆灰枣', 2]]);
  // The phone's clock runs 20 minutes fast for the next sale.
  await page.clock.setSystemTime(new Date(Date.now() + 20 * 60 * 1000));
  await recordSale(page, [['贞丰古树茶', 1]]);
  await page.clock.setSystemTime(new Date(Date.now() - 20 * 60 * 1000));
  await recordSale(page, [['贞丰李子', 4]], '银行卡');
  const before = await serverSales(F.stalls.main);
  await ctx.setOffline(false);
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });

  const after = await serverSales(F.stalls.main);
  const fresh = added(before, after);
  assert.deepEqual(fresh.map((s) => s.total_fen).sort((a, b) => a - b), [6000, 7800]);
  assert.equal((await serverSales(F.stalls.cancelled)).length, 0);

  await page.getByRole('button', { name: /需处理/ }).click();
  const items = page.locator('#attention li');
  await until(async () => (await items.count()) === 2, 'two sales in needs attention');
  const texts = await items.allTextContents();
  assert.ok(texts.some((s) => s.includes('¥15.00') && s.includes('市集日的状态不允许')), texts.join(' | '));
  assert.ok(texts.some((s) => s.includes('¥168.00') && s.includes('recorded_at')), texts.join(' | '));
  await checkScreen(page, 'needs attention');
  await screenshot(page, 'stall-attention');

  // Discarding asks first; declining keeps the sale.
  page.once('dialog', (d) => d.dismiss());
  await items.filter({ hasText: '¥15.00' }).getByRole('button', { name: '放弃' }).click();
  assert.equal(await items.count(), 2);
  page.once('dialog', (d) => d.accept());
  await items.filter({ hasText: '¥15.00' }).getByRole('button', { name: '放弃' }).click();
  await until(async () => (await items.count()) === 1, 'the discarded sale gone');

  // Correcting puts the lines back into the sale screen; recorded anew
  // (the clock is right again) it is stored.
  await items.getByRole('button', { name: '改正后重新记录' }).click();
  await page.getByRole('button', { name: '记录', exact: true }).click();
  const [last] = await until(async () => {
    const now = added(after, await serverSales(F.stalls.main));
    return now.length ? now : null;
  }, 'the corrected sale on the server');
  assert.equal(last.total_fen, 16800);
  assert.equal(await page.getByRole('button', { name: /需处理/ }).textContent(), '需处理 ');
  await ctx.close();
});

test('a price lowered while the phone was offline: the sales made before sync at the old price', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  await ctx.setOffline(true);
  await recordSale(page, [['贞丰古树茶', 2]]);
  // The server counts time in seconds: the cut comes in a later second.
  const soldAt = Math.floor(Date.now() / 1000);
  await until(() => Math.floor(Date.now() / 1000) > soldAt, 'the next second');
  const r = await api('PATCH', `/products/${F.products.tea}`, { token: F.coord, body: { price_fen: 12000 } });
  assert.equal(r.status, 200);
  const before = await serverSales(F.stalls.main);
  await ctx.setOffline(false);
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });
  const after = await serverSales(F.stalls.main);
  assert.equal(after.length, before.length + 1);
  const [sale] = added(before, after);
  assert.equal(sale.total_fen, 2 * 16800);
  assert.equal(sale.lines[0].unit_price_fen, 16800);
  // The page then shows the new price, and the day's list the old sale.
  await page.getByRole('button', { name: '刷新' }).click();
  await page.getByRole('button', { name: /贞丰古树茶.*¥120\.00/ }).waitFor();
  await ctx.close();
});

test('two tabs offline, then online: every sale is sent once', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  const page2 = await ctx.newPage();
  await page2.goto(STALL);
  await page2.getByRole('button', { name: '加一份 贞丰李子' }).waitFor();
  await chooseStall(page2, 'A03');
  const sent = [];
  // The batches that reached the server (an attempt while offline fails
  // inside the browser and sends nothing).
  ctx.on('requestfinished', (req) => {
    if (req.url().endsWith('/api/v1/sales/batch')) sent.push(...JSON.parse(req.postData()).sales.map((s) => s.id));
  });
  const before = await serverSales(F.stalls.main);
  await ctx.setOffline(true);
  await recordSale(page, [['贞丰李子', 1]]);
  await recordSale(page2, [['新疆灰枣', 1]]);
  await recordSale(page, [['贞丰李子', 2]]);
  await recordSale(page2, [['新疆灰枣', 3]]);
  await until(async () => (await status(page2).textContent()).includes('4 笔待同步') &&
    (await status(page).textContent()).includes('4 笔待同步'), 'both tabs see 4 pending', 30000)
    .catch(async (e) => { throw new Error(e.message + ': ' + await status(page).textContent() + ' / ' + await status(page2).textContent()); });
  await ctx.setOffline(false);
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });
  await status(page2).getByText('全部已同步').waitFor({ timeout: 60000 });
  const after = await serverSales(F.stalls.main);
  assert.equal(after.length, before.length + 4);
  const fresh = added(before, after).map((s) => s.id);
  assert.equal(sent.length, 4, 'sent: ' + sent.join(','));
  assert.deepEqual([...sent].sort(), [...fresh].sort());
  await ctx.close();
});

test('pickups go ready, then fulfilled; the close-out shows what the API counts', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  await page.getByRole('button', { name: '取货' }).click();
  const orders = page.locator('#pickups > li');
  await until(async () => (await orders.count()) === 2, 'two pickups');
  const first = orders.filter({ hasText: '订单 ' + F.orders[0] });
  await assert.doesNotReject(first.getByText('买家：buyer1').waitFor());
  await assert.doesNotReject(first.getByText('贞丰李子 ×2').waitFor());
  await checkScreen(page, 'pickups');
  await screenshot(page, 'stall-pickups');
  await first.getByRole('button', { name: '备好了' }).click();
  await first.getByRole('button', { name: '已取货' }).click();
  await until(async () => (await orders.count()) === 1, 'the fulfilled order gone from the list');
  const o = await api('GET', `/orders/${F.orders[0]}`, { token: F.admin });
  assert.equal(o.json.status, 'fulfilled');

  await page.getByRole('button', { name: '日结' }).click();
  const rep = (await api('GET', `/reports/market-days/${F.days.main}`, { token: F.admin })).json;
  const stall = rep.stalls.find((s) => s.stall_id === F.stalls.main);
  const yuan = (fen) => '¥' + String(Math.trunc(fen / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + String(fen % 100).padStart(2, '0');
  await page.getByText(`${stall.sales} 笔销售，共 ${yuan(stall.total_fen)}`).waitFor();
  for (const m of ['cash', 'wechat', 'alipay', 'card', 'other']) {
    assert.equal(await page.locator(`td[data-method=${m}]`).textContent(), yuan(stall.by_payment[m]), m);
  }
  await page.getByText(`取货：共 ${rep.pickups.total} 单，已取 ${rep.pickups.fulfilled}，未取 ${rep.pickups.outstanding}`).waitFor();
  assert.equal(rep.pickups.fulfilled, 1);
  await checkScreen(page, 'close-out');
  await screenshot(page, 'stall-closeout');
  await ctx.close();
});

test('an expired login asks for the password again and keeps the pending sales; logging out warns', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  await ctx.setOffline(true);
  await recordSale(page, [['贞丰李子', 5]]);
  await status(page).getByText('1 笔待同步').waitFor();
  // The token stops working while the phone is offline (as when it expires).
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('market.session')).token);
  assert.equal((await api('POST', '/auth/logout', { token })).status, 204);
  const before = await serverSales(F.stalls.main);
  await ctx.setOffline(false);
  await page.getByText('登录已过期，请再次输入密码。待同步的销售都还在。').waitFor({ timeout: 60000 });
  assert.equal((await serverSales(F.stalls.main)).length, before.length);
  assert.equal(await page.getByLabel('用户名').inputValue(), F.operator.username);
  await checkScreen(page, 'the login form');
  await screenshot(page, 'stall-login-expired');
  await page.getByLabel('密码').fill(F.operator.password);
  await page.getByRole('button', { name: '登录' }).click();
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });
  assert.equal((await serverSales(F.stalls.main)).length, before.length + 1);

  // Logging out with a sale still pending warns, and keeps it.
  await ctx.setOffline(true);
  await recordSale(page, [['贞丰李子', 1]]);
  await status(page).getByText('1 笔待同步').waitFor();
  // The warning comes after the page has counted the pending sales
  // (IndexedDB): wait for the dialog itself, not for the click.
  // The click does not return while a confirm() is open: answer it from
  // the handler, and wait for the handler to have run.
  const warned = new Promise((resolve) => page.once('dialog', async (d) => {
    const text = d.message();
    await d.dismiss();
    resolve(text);
  }));
  await page.getByRole('button', { name: '退出' }).click();
  assert.match(await warned, /还有 1 笔销售没有同步/);
  await page.getByRole('button', { name: '记录', exact: true }).waitFor();
  const accepted = new Promise((resolve) => page.once('dialog', async (d) => {
    await d.accept();
    resolve();
  }));
  await page.getByRole('button', { name: '退出' }).click();
  await accepted;
  await page.getByRole('heading', { name: '登录' }).waitFor();
  await ctx.setOffline(false);
  await page.getByLabel('用户名').fill(F.operator.username);
  await page.getByLabel('密码').fill(F.operator.password);
  await status(page).getByText('1 笔待同步').waitFor();
  await page.getByRole('button', { name: '登录' }).click();
  await status(page).getByText('全部已同步').waitFor({ timeout: 60000 });
  assert.equal((await serverSales(F.stalls.main)).length, before.length + 2);
  await ctx.close();
});

test('a synced sale is voided with a reason and marked voided', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  const before = await serverSales(F.stalls.main);
  await recordSale(page, [['新疆灰枣', 7]]);
  const row = page.locator('#sales li').filter({ hasText: '¥273.00' }).first();
  await row.getByText('已同步').waitFor({ timeout: 60000 });
  const [sale] = added(before, await serverSales(F.stalls.main));
  let asked = '';
  page.once('dialog', (d) => { asked = d.message(); d.accept('顾客退货'); });
  await row.getByRole('button', { name: '作废' }).click();
  await row.getByText('已作废').waitFor();
  assert.equal(asked, '作废原因');
  const after = (await serverSales(F.stalls.main)).find((s) => s.id === sale.id);
  assert.equal(after.voided, true);
  assert.equal(await row.getByRole('button', { name: '作废' }).count(), 0);
  await ctx.close();
});

test('a long catalog: 40 products at a time, more on request, a search over all; a sale leaves the grid as it is', async () => {
  const { ctx, page } = await openLoggedIn();
  await chooseStall(page, 'A03');
  const grid = page.locator('#products button.product');
  const more = page.locator('#more-products');
  // The stall's producer's products first, then the others by id.
  await more.getByText(`再显示 40 个（还有 ${F.catalog_size - 40} 个）`).waitFor();
  assert.equal(await grid.count(), 40);
  assert.deepEqual((await grid.locator('.name').allTextContents()).slice(0, 3), ['贞丰李子', '贞丰古树茶', '新疆灰枣']);
  await more.click();
  assert.equal(await grid.count(), 80);

  const search = page.getByLabel('找商品');
  await search.fill('不存在的东西');
  await page.getByText('没有这个名字的商品。').waitFor();
  assert.equal(await grid.count(), 0);
  await search.fill('核桃 230号');
  await until(async () => (await grid.count()) === 1, 'one product found');
  assert.ok(await more.isHidden());
  await page.getByRole('button', { name: '加一份 和田核桃 230号' }).click();
  await search.fill('');
  await until(async () => (await grid.count()) === 40, 'the first 40 again');
  await page.getByRole('button', { name: '加一份 贞丰李子' }).click();
  assert.equal(await page.locator('#cart li').count(), 2);

  // A sale, its sync and the re-render they cause keep the grid's
  // buttons (redrawing 40, or 10,000, is what made a tap slow).
  await page.evaluate(() => { document.querySelector('#products button.product').dataset.kept = 'yes'; });
  const before = await serverSales(F.stalls.main);
  await page.getByRole('button', { name: '记录', exact: true }).click();
  await page.locator('#sales li').first().getByText('已同步').waitFor({ timeout: 60000 });
  assert.equal(await page.locator('#products button.product[data-kept="yes"]').count(), 1);
  const [sale] = added(before, await serverSales(F.stalls.main));
  assert.deepEqual(sale.lines.map((l) => l.product_id).sort((a, b) => a - b),
    [F.products.plum, F.products.last_walnut].sort((a, b) => a - b));
  await ctx.close();
});

test('the page in English', async () => {
  const { ctx, page } = await openLoggedIn();
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Record a sale' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await checkScreen(page, 'the sale screen in English');
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('heading', { name: '记一笔销售' }).waitFor();
  await ctx.close();
});
