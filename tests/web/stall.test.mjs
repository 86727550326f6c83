// The stall operators' page, driven as an operator uses it. Run by
// test_stall_page.py, which starts marketd and makes the data (F).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { F, BASE, api, checkAxe, launch, phone, screenshot, until } from './browser.mjs';

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
  await checkAxe(page, 'the sale screen');
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
  assert.equal(await page.locator('#sales li').count(), 3);
  assert.ok((await status(page).textContent()).includes('离线'));

  await ctx.setOffline(false);
  await status(page).getByText('全部已同步').waitFor({ timeout: 30000 });
  const sales = await serverSales(F.stalls.main);
  assert.equal(sales.length, before + 3);
  const mine = sales.slice(-3).map((s) => [s.total_fen, s.payment]).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(mine, [[1500, 'cash'], [3000, 'wechat'], [20700, 'alipay']]);
  assert.equal(await page.locator('#sales .state-synced').count(), 3);
  await ctx.close();
});
