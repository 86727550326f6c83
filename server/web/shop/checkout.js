// The cart and the checkout: pickup at a coming market day or delivery
// (the address checked as the API checks it), one Idempotency-Key per
// attempt (cart.js), an out_of_stock answer shown on the line it names.
import { api, apiAll } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { shanghaiDate } from '../common/time.js';
import { attemptKey, cartLines, cartTotal, clearCart, endAttempt, setQuantity } from './cart.js';

let lineErrors = {};     // product_id → detail, from the last refusal
let formState = { type: 'pickup', day: '', name: '', phone: '', line1: '', city: '', note: '' };
let inFlight = false;
let notice = '';      // shown above the cart once, after a refusal

// The address as the API checks it: name 1..100, phone 3..32 of 0-9,
// space, + - ( ), line1 1..200, city 1..100 characters (code points).
export function addressErrors(a) {
  const errs = {};
  const len = (s) => [...s].length;
  for (const [k, max] of [['name', 100], ['phone', 32], ['line1', 200], ['city', 100]]) {
    const v = a[k] || '';
    if (len(v) === 0) errs[k] = t('err_required');
    else if (len(v) > max) errs[k] = t('err_too_long', { n: max });
  }
  if (!errs.phone && !/^[0-9 +\-()]{3,32}$/.test(a.phone)) errs.phone = t('err_phone');
  return errs;
}

async function comingDays() {
  const from = shanghaiDate(), to = shanghaiDate(Date.now() + 60 * 86400000);
  const days = await apiAll('/market-days', { from, to }, 5);
  return days.filter((d) => (d.status === 'scheduled' || d.status === 'open') && d.date >= from);
}

export async function renderCart(main, ctx) {
  const lines = cartLines();
  const err = h('p', { id: 'checkout-error', class: 'error', role: 'alert' }, notice);
  notice = '';
  const list = h('ul', { class: 'cart-lines' }, lines.map((l, i) => cartLine(l, i, ctx)));
  const parts = [h('h2', {}, t('cart_title')), lines.length ? list : h('p', { class: 'muted' }, t('cart_empty'))];
  if (lines.length) {
    parts.push(h('p', { class: 'total' }, h('span', {}, t('total')), h('output', { id: 'cart-total' }, yuan(cartTotal(lines)))));
    if (!ctx.session || ctx.session.user.role !== 'buyer') {
      parts.push(h('p', { class: 'warning' }, ctx.session ? t('not_buyer') : t('login_to_checkout')),
        ctx.session ? null : h('a', { href: '#/login?next=cart', class: 'button primary' }, t('nav_login')));
    } else {
      parts.push(await checkoutForm(ctx, err));
    }
  }
  parts.push(err);
  fill(main, parts);
}

function cartLine(l, i, ctx) {
  const problem = lineErrors[l.product_id];
  const qty = h('input', { type: 'number', inputmode: 'numeric', min: 1, value: l.quantity, class: 'qty',
    'aria-label': t('quantity') + ' ' + l.name, 'aria-invalid': problem ? 'true' : null,
    'aria-describedby': problem ? 'line-error-' + l.product_id : null });
  qty.addEventListener('change', () => {
    const n = Number.parseInt(qty.value, 10);
    if (Number.isSafeInteger(n) && n > 0) { delete lineErrors[l.product_id]; setQuantity(l.product_id, n); ctx.rerender(); }
  });
  const change = (d) => { delete lineErrors[l.product_id]; setQuantity(l.product_id, Math.max(1, l.quantity + d)); ctx.rerender(); };
  return h('li', { class: 'cart-line' + (problem ? ' has-error' : ''), dataset: { product: l.product_id, line: i } },
    h('div', { class: 'line-head' }, h('a', { href: '#/p/' + l.product_id }, l.name),
      h('span', { class: 'amount' }, yuan(l.price_fen * l.quantity))),
    h('p', { class: 'muted small' }, yuan(l.price_fen) + ' · ' + t('per_unit', { unit: l.unit })),
    h('div', { class: 'stepper' },
      h('button', { type: 'button', 'aria-label': t('less', { name: l.name }), onclick: () => change(-1) }, '−'),
      qty,
      h('button', { type: 'button', 'aria-label': t('more', { name: l.name }), onclick: () => change(1) }, '+'),
      h('button', { type: 'button', class: 'link', onclick: () => { delete lineErrors[l.product_id]; setQuantity(l.product_id, 0); ctx.rerender(); } },
        h('span', { 'aria-hidden': 'true' }, '×'), h('span', { class: 'sr-only' }, t('remove', { name: l.name })))),
    problem ? h('p', { class: 'error line-error', id: 'line-error-' + l.product_id, role: 'alert' }, problem) : null);
}

function field(id, label, value, attrs = {}) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name: id, value, ...attrs }),
    h('p', { class: 'error field-error', id: id + '-error' }));
}

async function checkoutForm(ctx, err) {
  let days = [];
  try { days = await comingDays(); } catch (e) { err.textContent = e.network ? t('offline') : e.detail; }
  const s = formState;
  const form = h('form', { id: 'checkout', novalidate: true },
    h('h3', {}, t('checkout_title')),
    h('fieldset', { class: 'choice' }, h('legend', {}, t('fulfillment')),
      h('label', {}, h('input', { type: 'radio', name: 'type', value: 'pickup', checked: s.type === 'pickup' }), ' ', t('pickup')),
      h('label', {}, h('input', { type: 'radio', name: 'type', value: 'delivery', checked: s.type === 'delivery' }), ' ', t('delivery'))),
    h('div', { id: 'pickup-part', hidden: s.type !== 'pickup' },
      days.length ? [h('label', { for: 'day' }, t('market_day')),
        h('select', { id: 'day', name: 'day' }, days.map((d) => h('option', { value: d.id, selected: String(d.id) === s.day },
          t('day_option', { date: d.date, venue: d.venue_name, opens: d.opens_at, closes: d.closes_at }) + (d.title ? ' · ' + d.title : ''))))]
        : h('p', { class: 'muted' }, t('no_market_days')),
      h('p', { class: 'error field-error', id: 'day-error' })),
    h('div', { id: 'delivery-part', hidden: s.type !== 'delivery' },
      field('name', t('addr_name'), s.name, { autocomplete: 'name' }),
      field('phone', t('addr_phone'), s.phone, { type: 'tel', autocomplete: 'tel', inputmode: 'tel' }),
      field('line1', t('addr_line1'), s.line1, { autocomplete: 'street-address' }),
      field('city', t('addr_city'), s.city, { autocomplete: 'address-level2' })),
    field('note', t('note'), s.note),
    h('button', { type: 'submit', id: 'place-order', class: 'primary big' }, t('place_order')));
  const keep = () => {
    s.type = form.type.value;
    s.day = form.day ? form.day.value : '';
    for (const k of ['name', 'phone', 'line1', 'city', 'note']) s[k] = form[k].value;
    $('#pickup-part', form).hidden = s.type !== 'pickup';
    $('#delivery-part', form).hidden = s.type !== 'delivery';
  };
  form.addEventListener('input', keep);
  form.addEventListener('change', keep);
  form.addEventListener('submit', (ev) => { ev.preventDefault(); keep(); placeOrder(ctx, form, err); });
  return form;
}

function showFieldError(form, name, text) {
  const p = $('#' + name + '-error', form);
  const input = form[name];
  if (p) p.textContent = text || '';
  if (input && input.setAttribute) {
    if (text) { input.setAttribute('aria-invalid', 'true'); input.setAttribute('aria-describedby', name + '-error'); }
    else { input.removeAttribute('aria-invalid'); input.removeAttribute('aria-describedby'); }
  }
}

async function placeOrder(ctx, form, err) {
  if (inFlight) return; // a second tap while the first is on its way
  const s = formState;
  err.textContent = '';
  for (const k of ['name', 'phone', 'line1', 'city', 'day']) showFieldError(form, k, '');
  const lines = cartLines();
  let fulfillment;
  if (s.type === 'pickup') {
    if (!s.day) { showFieldError(form, 'day', t('err_choose_day')); return; }
    fulfillment = { type: 'pickup', market_day_id: Number(s.day) };
  } else {
    const address = { name: s.name.trim(), phone: s.phone.trim(), line1: s.line1.trim(), city: s.city.trim() };
    const errs = addressErrors(address);
    if (Object.keys(errs).length) {
      for (const [k, v] of Object.entries(errs)) showFieldError(form, k, v);
      form[Object.keys(errs)[0]].focus();
      return;
    }
    fulfillment = { type: 'delivery', address };
  }
  const body = { lines: lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity })), fulfillment };
  if (s.note.trim()) body.note = s.note.trim();
  const text = JSON.stringify(body);
  const key = attemptKey(text);
  const button = $('#place-order', form);
  inFlight = true;
  button.disabled = true;
  button.textContent = t('placing');
  try {
    const order = await api('/orders', { method: 'POST', body, headers: { 'Idempotency-Key': key } });
    endAttempt();
    clearCart();
    lineErrors = {};
    formState = { ...formState, note: '' };
    ctx.toast(t('order_placed'), true);
    ctx.go('/orders/' + order.id);
  } catch (e) {
    if (e.network || e.status >= 500) {
      err.textContent = t('err_lost'); // the key is kept: the same body again is the same order
    } else {
      endAttempt();
      if (e.code === 'out_of_stock') {
        const m = /^lines\[(\d+)\]/.exec(e.field || '');
        const line = m ? lines[Number(m[1])] : null;
        lineErrors = line ? { [line.product_id]: e.detail } : {};
        notice = t('err_out_of_stock');
        ctx.rerender();
        return;
      }
      const f = (e.field || '').replace(/^fulfillment\.(address\.)?/, '').replace('market_day_id', 'day');
      if (e.field && form[f]) showFieldError(form, f, e.detail);
      err.textContent = e.detail;
    }
  } finally {
    inFlight = false;
    if (button.isConnected) { button.disabled = false; button.textContent = t('place_order'); }
  }
}
