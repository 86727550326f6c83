// The sale screen: the products on sale (the stall's producer's first),
// the sale being made, recording it, and the day's list with its totals.
// A sale gets its id the moment it is made and is written to the queue
// before anything else; the list shows it at once.
import { api, apiAll } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { lang, t } from '../common/i18n.js';
import { parseYuan, plainYuan, yuan } from '../common/money.js';
import { clockTime } from '../common/time.js';
import * as queue from './queue.js';
import { notifyChanged, syncNow } from './sync.js';

let ctx = null;
let products = [];      // [{id, name, unit, price_fen, producer_id, ...}]
let byId = new Map();   // product id → product
let pricesReadAt = null;
const cart = new Map(); // product id → {quantity, price (text as typed)}

// The grid shows PAGE products at a time (the stall's producer's first),
// more on request, and the search box looks through the whole cached
// catalog: a district's catalog may hold 10,000 products, and drawing
// them all took a phone 150 ms each time, far from a tap's budget.
const PAGE = 40;
let shown = PAGE;
let query = '';
let drawn = null;       // what the grid shows now (see renderProducts)
let sorted = null;      // {products, producer, list}: ordered() memoized

export function initSale(c) {
  const first = ctx === null;
  ctx = c;
  if (!first) return;
  $('#sale-form').addEventListener('submit', (ev) => { ev.preventDefault(); record(); });
  $('#refresh-products').addEventListener('click', () => loadProducts(true));
  $('#product-search').addEventListener('input', (ev) => {
    query = ev.target.value.trim().toLocaleLowerCase();
    shown = PAGE;
    renderProducts();
  });
  $('#more-products').addEventListener('click', () => { shown += PAGE; renderProducts(); });
  loadProducts(false);
}

function setProducts(items) {
  products = items;
  byId = new Map(items.map((p) => [p.id, p]));
}

// The catalog, from the network when it answers, else as last read.
async function loadProducts(force) {
  const cached = await queue.cacheGet('products');
  if (cached) {
    setProducts(cached.items);
    pricesReadAt = cached.read_at;
    renderProducts();
  }
  if (cached && !force && Date.now() - cached.read_at < 60 * 1000) return;
  try {
    // Without a cached catalog (a first login), the grid fills page by
    // page as the catalog arrives; with one, it changes once, when the
    // whole new catalog is here.
    const readAt = Date.now();
    const onPage = cached ? null : (sofar) => {
      setProducts(sofar.slice());
      pricesReadAt = readAt;
      renderProducts();
    };
    const items = await apiAll('/products', {}, 50, onPage);
    pricesReadAt = readAt;
    setProducts(items);
    await queue.cachePut('products', { items, read_at: pricesReadAt });
  } catch (e) {
    if (!e.network) throw e;
  }
  renderProducts();
}

function ordered(producer) {
  if (sorted && sorted.products === products && sorted.producer === producer) return sorted.list;
  const list = [...products].sort((a, b) =>
    (b.producer_id === producer) - (a.producer_id === producer) || a.id - b.id);
  sorted = { products, producer, list };
  return list;
}

// Draws the grid only when what it shows changes (the catalog, the
// stall's producer, the search, how many are shown, the language): a
// sale, a sync or a tab switch leaves it as it is.
function renderProducts() {
  if (!ctx || !ctx.user) return;
  $('#prices-as-of').textContent = pricesReadAt ? t('prices_as_of', { time: clockTime(pricesReadAt) }) : t('prices_never');
  const producer = ctx.stall ? ctx.stall.producer_id : null;
  const want = { products, producer, query, shown, lang: lang() };
  if (drawn && Object.keys(want).every((k) => drawn[k] === want[k])) return;
  drawn = want;
  const all = ordered(producer);
  const matching = query === '' ? all : all.filter((p) => p.name.toLocaleLowerCase().includes(query));
  fill($('#products'), matching.slice(0, shown).map((p) => h('li', {},
    h('button', { type: 'button', class: 'product', onclick: () => add(p.id, 1) },
    h('span', { class: 'sr-only' }, t('add_one'), ' '),
    h('span', { class: 'name' }, p.name),
    h('span', { class: 'price' }, yuan(p.price_fen), ' / ', p.unit)))));
  const rest = matching.length - Math.min(shown, matching.length);
  const more = $('#more-products');
  more.hidden = rest === 0;
  more.textContent = t('more_products', { n: Math.min(rest, PAGE), rest });
  $('#no-match').hidden = !(query !== '' && matching.length === 0);
}

function add(id, n) {
  const line = cart.get(id) || { quantity: 0, price: null };
  line.quantity += n;
  if (line.quantity <= 0) cart.delete(id);
  else cart.set(id, line);
  renderCart();
}

function product(id) { return byId.get(id); }

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

