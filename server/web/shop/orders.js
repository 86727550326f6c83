// My orders: status, pickup details or the delivery address, cancel while
// the buyer may (placed or paid), the refund of a cancelled paid order,
// and in demo mode only the demo payment step.
import { api } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { clockTime, shanghaiDate } from '../common/time.js';

const days = new Map();
async function marketDay(id) {
  if (!days.has(id)) days.set(id, await api('/market-days/' + id));
  return days.get(id);
}

// Whether this server runs the demo payment step: the path exists (a GET
// is 405 there) only in demo mode (404 otherwise).
let demo = null;
export async function demoMode() {
  if (demo === null) {
    try {
      const r = await fetch('/api/v1/demo/payments/0', { cache: 'no-store' });
      demo = r.status === 405;
    } catch { return false; }
  }
  return demo;
}

async function fulfilmentText(o) {
  const f = o.fulfillment || {};
  if (f.type === 'pickup') {
    try {
      const d = await marketDay(f.market_day_id);
      return t('pickup_at', { date: d.date, venue: d.venue_name, opens: d.opens_at, closes: d.closes_at });
    } catch { return t('pickup'); }
  }
  const a = f.address || {};
  return t('delivery_to', { name: a.name || '', line1: a.line1 || '', city: a.city || '' });
}

async function orderCard(o, ctx, { open = false } = {}) {
  const isDemo = await demoMode();
  const actions = h('div', { class: 'order-actions' });
  const err = h('p', { class: 'error', role: 'alert' });
  const act = async (path) => {
    err.textContent = '';
    try {
      await api('/orders/' + o.id + path, { method: 'POST' });
      ctx.rerender();
    } catch (e) { err.textContent = e.network ? t('offline') : e.detail; }
  };
  if (o.status === 'placed' && isDemo) {
    actions.append(h('p', { class: 'demo-note' }, t('demo_note')),
      h('button', { type: 'button', class: 'primary demo-pay', onclick: async () => {
        err.textContent = '';
        try { await api('/demo/payments/' + o.id, { method: 'POST' }); ctx.rerender(); } catch (e) { err.textContent = e.network ? t('offline') : e.detail; }
      } }, t('demo_pay')));
  } else if (o.status === 'placed') {
    actions.append(h('p', { class: 'muted' }, t('pay_at_provider')));
  }
  if (o.status === 'placed' || o.status === 'paid') {
    const cancel = h('button', { type: 'button', class: 'danger', onclick: () => {
      fill(actions.querySelector('.cancel-box'),
        h('button', { type: 'button', class: 'danger', onclick: () => act('/cancel') }, t('confirm_cancel', { id: o.id })),
        h('button', { type: 'button', onclick: () => ctx.rerender() }, t('keep_order')));
    } }, t('cancel_order'));
    actions.append(h('div', { class: 'cancel-box' }, cancel));
  }
  return h('li', { class: 'order' + (open ? ' open' : ''), dataset: { order: o.id, status: o.status } },
    h('div', { class: 'line-head' },
      h('a', { href: '#/orders/' + o.id }, t('order_title', { id: o.id })),
      h('span', { class: 'status status-' + o.status }, t('status_' + o.status))),
    h('p', { class: 'muted small' }, t('order_placed_at', { time: shanghaiDate(Date.parse(o.created_at)) + ' ' + clockTime(Date.parse(o.created_at)) })),
    h('ul', { class: 'order-lines' }, o.lines.map((l) => h('li', {}, `${l.name} × ${l.quantity}`, h('span', { class: 'amount' }, yuan(l.amount_fen))))),
    h('p', { class: 'total' }, h('span', {}, t('total')), h('span', {}, yuan(o.total_fen))),
    h('p', { class: 'fulfilment' }, await fulfilmentText(o)),
    o.refund_fen > 0 ? h('p', { class: 'refund' }, t('refund', { amount: yuan(o.refund_fen) })) : null,
    actions, err);
}

export async function renderOrders(main, ctx) {
  if (!ctx.session) { ctx.go('/login', { next: 'orders' }); return; }
  fill(main, h('h2', {}, t('orders_title')), h('p', { class: 'muted' }, t('loading')));
  let items;
  try { items = (await api('/orders', { query: { limit: 100 } })).items; } catch (e) {
    fill(main, h('h2', {}, t('orders_title')), h('p', { class: 'error' }, e.network ? t('offline') : e.detail));
    return;
  }
  items.sort((a, b) => b.id - a.id);
  const cards = [];
  for (const o of items) cards.push(await orderCard(o, ctx));
  fill(main, h('h2', {}, t('orders_title')), items.length ? h('ul', { class: 'orders' }, cards) : h('p', { class: 'muted' }, t('no_orders')));
}

export async function renderOrder(main, ctx, id) {
  if (!ctx.session) { ctx.go('/login', { next: 'orders' }); return; }
  let o;
  try { o = await api('/orders/' + encodeURIComponent(id)); } catch (e) {
    fill(main, h('p', { class: 'error' }, e.network ? t('offline') : e.detail));
    return;
  }
  fill(main, h('p', {}, h('a', { href: '#/orders' }, '‹ ' + t('orders_title'))),
    h('ul', { class: 'orders' }, await orderCard(o, ctx, { open: true })));
}
