// The sale screen: the products on sale (the stall's producer's first),
// the sale being made, recording it, and the day's list with its totals.
// A sale gets its id the moment it is made and is written to the queue
// before anything else; the list shows it at once.
import { api, apiAll } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { parseYuan, plainYuan, yuan } from '../common/money.js';
import { clockTime } from '../common/time.js';
import * as queue from './queue.js';
import { notifyChanged, syncNow } from './sync.js';

let ctx = null;
let products = [];      // [{id, name, unit, price_fen, producer_id, ...}]
let pricesReadAt = null;
const cart = new Map(); // product id → {quantity, price (text as typed)}

export function initSale(c) {
  const first = ctx === null;
  ctx = c;
  if (!first) return;
  $('#sale-form').addEventListener('submit', (ev) => { ev.preventDefault(); record(); });
  $('#refresh-products').addEventListener('click', () => loadProducts(true));
  loadProducts(false);
}

// The catalog, from the network when it answers, else as last read.
async function loadProducts(force) {
  const cached = await queue.cacheGet('products');
  if (cached) {
    products = cached.items;
    pricesReadAt = cached.read_at;
    renderProducts();
  }
  if (cached && !force && Date.now() - cached.read_at < 60 * 1000) return;
  try {
    const items = await apiAll('/products', {});
    pricesReadAt = Date.now();
    products = items;
    await queue.cachePut('products', { items, read_at: pricesReadAt });
  } catch (e) {
    if (!e.network) throw e;
  }
  renderProducts();
}

function ordered() {
  const producer = ctx.stall ? ctx.stall.producer_id : null;
  return [...products].sort((a, b) =>
    (b.producer_id === producer) - (a.producer_id === producer) || a.id - b.id);
}

function renderProducts() {
  if (!ctx || !ctx.user) return;
  $('#prices-as-of').textContent = pricesReadAt ? t('prices_as_of', { time: clockTime(pricesReadAt) }) : t('prices_never');
  fill($('#products'), ordered().map((p) => h('li', {},
    h('button', { type: 'button', class: 'product', onclick: () => add(p.id, 1) },
    h('span', { class: 'sr-only' }, t('add_one'), ' '),
    h('span', { class: 'name' }, p.name),
    h('span', { class: 'price' }, yuan(p.price_fen), ' / ', p.unit)))));
}

function add(id, n) {
  const line = cart.get(id) || { quantity: 0, price: null };
  line.quantity += n;
  if (line.quantity <= 0) cart.delete(id);
  else cart.set(id, line);
  renderCart();
}

function product(id) { return products.find((p) => p.id === id); }

// The cart's lines with their unit prices in fen (null where the typed
// price is not valid).
function lines() {
  return [...cart.entries()].map(([id, l]) => {
    const p = product(id);
    const list = p ? p.price_fen : 0;
    const unit = l.price === null ? list : parseYuan(l.price);
    return { id, p, quantity: l.quantity, list, unit: unit !== null && unit <= list ? unit : null };
  });
}

function renderCart() {
  const ls = lines();
  $('#cart-empty').hidden = ls.length > 0;
  fill($('#cart'), ls.map((l) => {
    const name = l.p ? l.p.name : '#' + l.id;
    const qid = 'qty-' + l.id, pid = 'price-' + l.id;
    return h('li', { class: 'line' },
      h('span', { class: 'name' }, name),
      h('div', { class: 'stepper' },
        h('button', { type: 'button', 'aria-label': t('less') + ' ' + name, onclick: () => add(l.id, -1) }, '−'),
        h('label', { for: qid, class: 'sr-only' }, t('quantity_of', { name })),
        h('input', {
          id: qid, inputmode: 'numeric', value: l.quantity, size: 3,
          onchange: (ev) => {
            const n = Number.parseInt(ev.target.value, 10);
            if (Number.isSafeInteger(n) && n > 0) cart.get(l.id).quantity = n;
            renderCart();
          },
        }),
        h('button', { type: 'button', 'aria-label': t('more') + ' ' + name, onclick: () => add(l.id, 1) }, '+')),
      h('label', { for: pid, class: 'price-label' }, t('unit_price_of', { name })),
      h('input', {
        id: pid, class: 'price-input', inputmode: 'decimal',
        value: cart.get(l.id).price ?? plainYuan(l.list),
        onchange: (ev) => { cart.get(l.id).price = ev.target.value; renderCart(); },
        'aria-invalid': l.unit === null ? 'true' : false,
      }));
  }));
  $('#cart-total').textContent = yuan(ls.reduce((sum, l) => sum + (l.unit ?? 0) * l.quantity, 0));
}

async function record() {
  const err = $('#sale-error');
  err.textContent = '';
  const ls = lines();
  if (!ctx.stall) return;
  if (ls.length === 0) { err.textContent = t('empty_sale'); return; }
  const bad = ls.find((l) => l.unit === null);
  if (bad) {
    err.textContent = t('bad_price', { name: bad.p ? bad.p.name : '#' + bad.id, price: yuan(bad.list) });
    return;
  }
  const payment = new FormData($('#sale-form')).get('payment') || 'cash';
  const id = crypto.randomUUID();
  const body = {
    id, stall_id: ctx.stall.id, recorded_at: new Date().toISOString(), payment,
    lines: ls.map((l) => ({ product_id: l.id, quantity: l.quantity, unit_price_fen: l.unit })),
  };
  const total = ls.reduce((sum, l) => sum + l.unit * l.quantity, 0);
  await queue.addSale({
    id, user_id: ctx.user.id, stall_id: ctx.stall.id, market_day_id: ctx.stall.market_day_id, body, total_fen: total,
    names: Object.fromEntries(ls.map((l) => [l.id, l.p ? l.p.name : '#' + l.id])),
  });
  cart.clear();
  renderCart();
  await renderSales();
  notifyChanged();
  syncNow();
}

// Puts a refused sale's lines back into the cart, to be recorded anew.
export function loadIntoCart(rec) {
  cart.clear();
  for (const l of rec.body.lines) {
    cart.set(l.product_id, { quantity: l.quantity, price: l.unit_price_fen === undefined ? null : plainYuan(l.unit_price_fen) });
  }
  const radio = document.querySelector(`input[name=payment][value=${rec.body.payment}]`);
  if (radio) radio.checked = true;
}

const STATE = (r) => (r.voided ? 'voided' : r.state);

async function renderSales() {
  if (!ctx.stall) { fill($('#sales')); $('#day-totals').textContent = t('no_stalls'); return; }
  const mine = (await queue.allSales()).filter((r) => r.stall_id === ctx.stall.id && r.state !== 'discarded');
  mine.reverse();
  const counted = mine.filter((r) => !r.voided && (r.state === 'pending' || r.state === 'synced'));
  $('#day-totals').textContent = t('day_totals', { n: counted.length, total: yuan(counted.reduce((s, r) => s + r.total_fen, 0)) });
  fill($('#sales'), mine.map((r) => h('li', { class: 'sale state-' + STATE(r) },
    h('div', { class: 'sale-head' },
      h('span', { class: 'time' }, clockTime(Date.parse(r.body.recorded_at))),
      h('span', { class: 'amount' }, yuan(r.total_fen)),
      h('span', { class: 'pay' }, t('pay_' + r.body.payment)),
      h('span', { class: 'badge state' }, t('state_' + STATE(r)))),
    h('div', { class: 'sale-lines' }, r.body.lines.map((l) => (r.names?.[l.product_id] || '#' + l.product_id) + ' ×' + l.quantity).join('，')),
    r.state === 'synced' && !r.voided ? h('button', { type: 'button', class: 'chip', onclick: () => voidSale(r) }, t('void')) : null)));
}

async function voidSale(rec) {
  const reason = prompt(t('void_reason'));
  if (reason === null || reason.trim() === '') return;
  try {
    await api('/sales/' + encodeURIComponent(rec.id) + '/void', { method: 'POST', body: { reason: reason.trim() } });
    await queue.markVoided(rec.id, reason.trim());
  } catch (e) {
    if (e.code === 'invalid_state') await queue.markVoided(rec.id, reason.trim());
    else alert(e.network ? t('void_needs_online') : t('void_failed', { reason: e.detail }));
  }
  await renderSales();
  notifyChanged();
}

export function renderSale(c) {
  ctx = c;
  renderProducts();
  renderCart();
  renderSales();
}

