// The shop at /, used as a buyer uses it on a phone. Run by
// test_shop_page.py, which starts marketd --demo and makes the data (F).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { F, BASE, api, checkScreen, launch, phone, screenshot, until } from './browser.mjs';

let browser, buyerToken;
before(async () => {
  browser = await launch();
  const r = await api('POST', '/auth/login', { body: F.buyer });
  assert.equal(r.status, 200);
  buyerToken = r.json.token;
});
after(async () => { await browser?.close(); });

const SHOP = BASE + '/';

async function buyerOrders() {
  const r = await api('GET', '/orders?limit=200', { token: buyerToken });
  assert.equal(r.status, 200);
  return r.json.items;
}
const stock = async (id) => (await api('GET', '/products/' + id)).json.stock;

async function open() {
  const ctx = await phone(browser);
  const page = await ctx.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(SHOP);
  await page.getByRole('heading', { level: 1 }).waitFor();
  return { ctx, page };
}

// Logs the buyer in, through the header's link unless on the way already.
async function logIn(page, viaHeader = true) {
  if (viaHeader) await page.locator('header').getByRole('link', { name: '登录' }).click();
  await page.locator('#login-form').getByLabel('用户名').fill(F.buyer.username);
  await page.locator('#login-form').getByLabel('密码').fill(F.buyer.password);
  await page.locator('#login-form').getByRole('button', { name: '登录' }).click();
  await page.getByRole('button', { name: '退出' }).waitFor();
}

// The cart as the page keeps it.
const cart = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('market.cart') || '[]')
  .map((l) => [l.product_id, l.quantity]));

async function toCheckout(page) {
  await page.getByRole('link', { name: /^购物车/ }).click();
  await page.locator('#checkout').waitFor();
}

test('browse by region and category, search 贞丰, a product page with its producer and certificate', async () => {
  const { ctx, page } = await open();
  const names = () => page.locator('.product-list .card-name').allTextContents();
  await page.locator('.product-list .card').first().waitFor();
  assert.deepEqual((await names()).sort(), ['新疆灰枣', '贞丰古树茶', '贞丰李子'].sort());
  await checkScreen(page, 'the product list');
  await screenshot(page, 'shop-list');

  await page.getByLabel('搜索商品').fill('贞丰');
  await page.getByRole('button', { name: '搜索' }).click();
  await until(async () => (await names()).length === 2 && !(await names()).includes('新疆灰枣'), 'the search for 贞丰');
  assert.deepEqual((await names()).sort(), ['贞丰古树茶', '贞丰李子'].sort());
  assert.match(page.url(), /q=%E8%B4%9E%E4%B8%B0/);

  await page.getByLabel('搜索商品').fill('');
  await page.getByLabel('对口地区').selectOption('xinjiang');
  await until(async () => JSON.stringify(await names()) === '["新疆灰枣"]', 'the Xinjiang products');
  await page.getByLabel('对口地区').selectOption('');
  await page.getByLabel('类别').selectOption('tea');
  await until(async () => JSON.stringify(await names()) === '["贞丰古树茶"]', 'the tea');
  await page.getByLabel('类别').selectOption('');
  await until(async () => (await names()).length === 3, 'every product again');

  // Prices come from integer fen: 1550 → ¥15.50.
  const plumCard = page.locator('.card', { hasText: '贞丰李子' });
  await assert.doesNotReject(plumCard.getByText('¥15.50').waitFor());
  await plumCard.getByRole('link', { name: '贞丰李子' }).click();
  const article = page.locator('.product-page');
  await article.waitFor();
  const text = await article.innerText();
  for (const want of ['贞丰李子', '¥15.50', '贞丰李子合作社', '贞丰县', '带动农户 120 户', '贫困户 30 户', '黔扶认 2020-0815',
    '批次 ZF-0501：产地 者相镇纳孔村，包装日期 2026-05-01']) {
    assert.ok(text.includes(want), `the product page shows ${want}: ${text}`);
  }
  await checkScreen(page, 'a product page');
  await screenshot(page, 'shop-product');
  await ctx.close();
});

test('a buyer puts 2 in the cart, which survives a reload; a double tap on "place order" places one order; pays in demo mode; cancels and sees the refund', async () => {
  const { ctx, page } = await open();
  await page.locator('.card', { hasText: '贞丰李子' }).getByRole('link', { name: '贞丰李子' }).click();
  await page.getByRole('button', { name: '加一份 贞丰李子' }).click();
  await page.getByRole('button', { name: '加入购物车 贞丰李子' }).click();
  await page.getByRole('status').getByText('已加入购物车：贞丰李子 × 2').waitFor();
  assert.deepEqual(await cart(page), [[F.products.plum, 2]]);
  await page.reload();
  await page.locator('#cart-count').getByText('2').waitFor();
  assert.deepEqual(await cart(page), [[F.products.plum, 2]]);

  await page.getByRole('link', { name: /^购物车/ }).click();
  await page.getByText('登录后才能下单。').waitFor();
  await page.locator('#cart-total').getByText('¥31.00').waitFor();
  await checkScreen(page, 'the cart, logged out');
  await page.locator('main').getByRole('link', { name: '登录' }).click();
  await logIn(page, false);
  await page.locator('#checkout').waitFor(); // back at the cart
  assert.deepEqual(await cart(page), [[F.products.plum, 2]], 'the cart is kept across the login');
  // The coming market days, the next first, with date, venue and hours.
  const options = await page.getByLabel('取货的市集日').locator('option').allTextContents();
  assert.equal(options.length, 2);
  assert.ok(options[0].startsWith(`${F.day_dates[0]} 鼓楼步行街 09:00–17:00`), options[0]);
  await checkScreen(page, 'the checkout');
  await screenshot(page, 'shop-checkout');

  const before = await buyerOrders();
  const keys = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url().endsWith('/api/v1/orders')) keys.push(req.headers()['idempotency-key']);
  });
  await page.getByRole('button', { name: '提交订单' }).dblclick();
  await page.getByText('订单已提交。').waitFor();
  const after = await buyerOrders();
  assert.equal(after.length, before.length + 1, 'one order placed');
  const order = after.find((o) => !before.some((b) => b.id === o.id));
  assert.deepEqual(order.lines.map((l) => [l.product_id, l.quantity]), [[F.products.plum, 2]]);
  assert.deepEqual(order.fulfillment, { type: 'pickup', market_day_id: F.days[0] });
  assert.equal(order.total_fen, 3100);
  assert.ok(keys.length >= 1 && keys.every((k) => k === keys[0]), 'every request of the attempt has one key');
  assert.deepEqual(await cart(page), [], 'the cart is emptied once the order is placed');

  const card = page.locator(`.order[data-order="${order.id}"]`);
  await card.getByText('待付款').waitFor();
  await card.getByText(`取货：${F.day_dates[0]} 鼓楼步行街，09:00–17:00`).waitFor();
  await card.getByText(/演示模式/).waitFor();
  await checkScreen(page, 'an order awaiting payment');
  await screenshot(page, 'shop-order-placed');
  await card.getByRole('button', { name: '演示付款（不会扣钱）' }).click();
  await page.locator(`.order[data-order="${order.id}"][data-status="paid"]`).getByText('已付款').waitFor();
  assert.equal((await api('GET', '/orders/' + order.id, { token: buyerToken })).json.status, 'paid');

  await page.locator('header').getByRole('link', { name: '我的订单' }).click();
  const mine = page.locator(`.order[data-order="${order.id}"]`);
  await mine.getByText('已付款').waitFor();
  await mine.getByRole('button', { name: '取消订单' }).click();
  await mine.getByRole('button', { name: `确认取消订单 ${order.id}` }).click();
  await page.locator(`.order[data-order="${order.id}"][data-status="cancelled"]`).getByText('已退款 ¥31.00').waitFor();
  const cancelled = (await api('GET', '/orders/' + order.id, { token: buyerToken })).json;
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.refund_fen, 3100);
  await checkScreen(page, 'my orders');
  await screenshot(page, 'shop-orders');
  await ctx.close();
});

test('the reply to "place order" is lost after the server placed it: tapping again gives the same order, never a second', async () => {
  const { ctx, page } = await open();
  await logIn(page);
  await page.getByRole('link', { name: '商品' }).click();
  await page.getByRole('button', { name: '加入购物车 新疆灰枣' }).click();
  await toCheckout(page);
  const before = await buyerOrders();
  const keys = [];
  let dropped = 0;
  await page.route('**/api/v1/orders', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    keys.push(route.request().headers()['idempotency-key']);
    if (dropped === 0) {
      dropped++;
      const resp = await route.fetch();
      assert.equal(resp.status(), 201);
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.getByText(/没有收到服务器的回答/).waitFor();
  assert.equal((await buyerOrders()).length, before.length + 1, 'the server placed it');
  assert.deepEqual(await cart(page), [[F.products.jujube, 1]], 'the cart is kept while the answer is unknown');
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.getByText('订单已提交。').waitFor();
  const after = await buyerOrders();
  assert.equal(after.length, before.length + 1, 'still one order');
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1], 'the retry sent the same Idempotency-Key');
  const [order] = after.filter((o) => !before.some((b) => b.id === o.id));
  assert.match(page.url(), new RegExp(`#/orders/${order.id}$`));
  await ctx.close();
});

test('an order asking for more than the stock shows the problem on that line, keeps the cart and places nothing', async () => {
  const { ctx, page } = await open();
  await logIn(page);
  await page.getByRole('link', { name: '商品' }).click();
  await page.getByRole('button', { name: '加入购物车 贞丰李子' }).click();
  await page.locator('.card', { hasText: '贞丰古树茶' }).getByRole('link').click();
  for (let i = 0; i < 4; i++) await page.getByRole('button', { name: '加一份 贞丰古树茶' }).click();
  await page.getByRole('button', { name: '加入购物车 贞丰古树茶' }).click();
  await toCheckout(page);
  const want = [[F.products.plum, 1], [F.products.tea, 5]];
  assert.deepEqual(await cart(page), want);
  const before = await buyerOrders();
  const teaStock = await stock(F.products.tea);
  await page.getByRole('button', { name: '提交订单' }).click();
  const teaLine = page.locator(`.cart-line[data-product="${F.products.tea}"]`);
  await teaLine.locator('.line-error').getByText(`仅剩 ${teaStock}`, { exact: false }).waitFor();
  assert.equal(await page.locator(`.cart-line[data-product="${F.products.plum}"] .line-error`).count(), 0,
    'the other line has no problem');
  await page.getByText(/有商品库存不足/).waitFor();
  assert.equal(await teaLine.getByRole('spinbutton').getAttribute('aria-invalid'), 'true');
  assert.deepEqual(await cart(page), want, 'the cart keeps everything');
  assert.equal((await buyerOrders()).length, before.length, 'nothing placed');
  assert.equal(await stock(F.products.tea), teaStock);
  await checkScreen(page, 'the cart with an out-of-stock line');
  await screenshot(page, 'shop-out-of-stock');

  // Down to what there is: placed.
  await teaLine.getByRole('spinbutton').fill(String(teaStock));
  await teaLine.getByRole('spinbutton').press('Enter');
  await until(async () => JSON.stringify(await cart(page)) === JSON.stringify([[F.products.plum, 1], [F.products.tea, teaStock]]), 'the corrected cart');
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.getByText('订单已提交。').waitFor();
  assert.equal((await buyerOrders()).length, before.length + 1);
  assert.equal(await stock(F.products.tea), 0);
  await ctx.close();
});

test('a new buyer registers and orders a delivery; the address is checked as the API checks it', async () => {
  const { ctx, page } = await open();
  await page.getByRole('button', { name: '加入购物车 新疆灰枣' }).click();
  await page.getByRole('link', { name: '登录' }).first().click();
  await checkScreen(page, 'log in and register');
  await screenshot(page, 'shop-login');
  await page.locator('#register-form').getByLabel('用户名').fill('newbuyer');
  await page.locator('#register-form').getByLabel('密码').fill('newbuyer-password');
  await page.getByLabel('称呼（可不填）').fill('李女士');
  await page.getByRole('button', { name: '注册' }).click();
  await page.getByText('李女士，你好').waitFor({ state: 'attached' });
  await toCheckout(page);
  await page.getByLabel('送货上门').check();
  await page.getByLabel('收货人').fill('李女士');
  await page.getByLabel('电话').fill('138 0000 abcd');
  await page.getByLabel('地址').fill('中山西路 1 号');
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.getByText('电话只能有 3 到 32 个数字、空格、+、-、( 和 )。').waitFor();
  await page.getByText('请填写这一项。').waitFor(); // the city
  await checkScreen(page, 'a delivery address with errors');
  const login = await api('POST', '/auth/login', { body: { username: 'newbuyer', password: 'newbuyer-password' } });
  assert.equal((await api('GET', '/orders', { token: login.json.token })).json.items.length, 0);
  await page.getByLabel('电话').fill('+86 138-0000-0000');
  await page.getByLabel('城市').fill('宁波');
  await page.getByRole('button', { name: '提交订单' }).click();
  await page.getByText('订单已提交。').waitFor();
  const orders = (await api('GET', '/orders', { token: login.json.token })).json.items;
  assert.equal(orders.length, 1);
  assert.deepEqual(orders[0].fulfillment, { type: 'delivery', address: { name: '李女士', phone: '+86 138-0000-0000', line1: '中山西路 1 号', city: '宁波' } });
  await page.getByText('送货：李女士，中山西路 1 号，宁波').waitFor();
  await ctx.close();
});

test('the shop in English', async () => {
  const { ctx, page } = await open();
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('button', { name: 'Add to cart 贞丰李子' }).waitFor();
  await page.getByRole('link', { name: 'My orders' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await checkScreen(page, 'the product list in English');
  await screenshot(page, 'shop-english');
  await page.reload();
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('button', { name: '加入购物车 贞丰李子' }).waitFor();
  await ctx.close();
});
