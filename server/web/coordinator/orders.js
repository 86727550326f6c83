// Orders: filter by status and by market day (the pickups at that day:
// the API's ?status= and ?market_day_id=); cancel (the refund shown),
// ready, fulfilled.
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { clockTime, shanghaiDate } from '../common/time.js';
import { addDays, errText, select, table } from './ui.js';

const STATUSES = ['placed', 'paid', 'ready', 'fulfilled', 'cancelled'];
// What staff may do from each status (the contract's transitions).
const NEXT = { placed: ['cancel'], paid: ['ready', 'cancel'], ready: ['fulfil', 'cancel'], fulfilled: [], cancelled: [] };

export async function renderOrders(main, ctx, query) {
  const err = h('p', { class: 'error', role: 'alert' });
  const today = shanghaiDate();
  let orders = [], days = [];
  try {
    days = await apiAll('/market-days', { from: addDays(today, -60), to: addDays(today, 90) }, 10);
    orders = await apiAll('/orders', { status: query.status, market_day_id: Number(query.market_day) || undefined }, 50);
  } catch (e) { err.textContent = errText(e); }
  orders.sort((a, b) => b.id - a.id);
  const dayName = new Map(days.map((d) => [d.id, `${d.date} ${d.venue_name}`]));
  const filter = h('form', { class: 'row', id: 'orders-filter' },
    select('status', t('status'), [['', t('all_statuses')], ...STATUSES.map((s) => [s, t('os_' + s)])], query.status),
    select('market_day', t('market_day'), [['', t('all_days')], ...days.filter((d) => d.status !== 'cancelled').map((d) => [d.id, `${d.date} ${d.venue_name} ${d.opens_at}`])], query.market_day),
    h('button', { type: 'submit', class: 'primary' }, t('show')));
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); ctx.go('/orders', { status: filter.status.value, market_day: filter.market_day.value }); });
  const label = { ready: t('mark_ready'), fulfil: t('mark_fulfilled'), cancel: t('cancel_order') };
  const rows = orders.slice(0, 500).map((o) => {
    const status = h('span', { class: 'row-status', role: 'status' });
    const act = async (what, btn) => {
      if (what === 'cancel' && btn.dataset.confirm !== '1') {
        btn.dataset.confirm = '1';
        btn.textContent = t('confirm_cancel', { id: o.id });
        btn.setAttribute('aria-label', btn.textContent);
        return;
      }
      status.textContent = '';
      try {
        const r = await api('/orders/' + o.id + '/' + what, { method: 'POST' });
        ctx.toast(what === 'cancel' && r.refund_fen > 0 ? t('cancelled_refund', { id: o.id, amount: yuan(r.refund_fen) }) : t('order_now', { id: o.id, status: t('os_' + r.status) }));
        Object.assign(o, r);
        const fresh = row(o);
        tr.replaceWith(fresh);
        tr = fresh;
      } catch (e) { status.textContent = errText(e); status.classList.add('error'); }
    };
    const row = (x) => {
      const f = x.fulfillment || {};
      const where = f.type === 'pickup' ? t('pickup_at', { day: dayName.get(f.market_day_id) || '#' + f.market_day_id }) : t('delivery_to', { city: (f.address || {}).city || '' });
      const tr2 = h('tr', { dataset: { order: x.id, status: x.status } },
        h('th', { scope: 'row' }, '#' + x.id), h('td', {}, shanghaiDate(Date.parse(x.created_at)) + ' ' + clockTime(Date.parse(x.created_at))),
        h('td', {}, x.lines.map((l) => `${l.name} × ${l.quantity}`).join('，')), h('td', { class: 'num' }, yuan(x.total_fen)),
        h('td', {}, where), h('td', {}, h('span', { class: 'status status-' + x.status }, t('os_' + x.status))),
        h('td', { class: 'num refund' }, x.refund_fen > 0 ? t('refund', { amount: yuan(x.refund_fen) }) : ''),
        h('td', {}, h('div', { class: 'actions' }, NEXT[x.status].map((w) => {
          const b = h('button', { type: 'button', class: w === 'cancel' ? 'danger' : null, 'aria-label': `${label[w]} #${x.id}`, onclick: () => act(w, b) }, label[w]);
          return b;
        }), status)));
      return tr2;
    };
    // A change draws the order's row again in place.
    let tr = row(o);
    return tr;
  });
  fill(main, h('h2', {}, t('orders_title')), filter, err,
    h('section', { class: 'panel', 'aria-labelledby': 'orders-h' }, h('h3', { id: 'orders-h' }, t('orders_count', { n: orders.length })),
      orders.length ? table(null, [{ label: t('order') }, { label: t('created') }, { label: t('lines') }, { label: t('total'), num: true },
        { label: t('fulfilment') }, { label: t('status') }, { label: t('refund_col'), num: true }, { label: '' }], rows, { id: 'orders-table' })
        : h('p', { class: 'muted' }, t('no_orders'))));
}
