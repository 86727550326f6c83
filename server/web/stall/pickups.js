// Pickups: the paid and ready online orders to be picked up at the chosen
// stall's market day, with the buyer's name and lines; paid → ready →
// fulfilled. Online only: the server decides each step.
import { api, apiAll } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';

export async function renderPickups(ctx) {
  const note = $('#pickups-note');
  note.textContent = '';
  if (!ctx.stall) { fill($('#pickups')); return; }
  const dayId = ctx.stall.market_day_id;
  let orders;
  try {
    const [paid, ready] = await Promise.all([apiAll('/orders', { status: 'paid' }), apiAll('/orders', { status: 'ready' })]);
    orders = [...paid, ...ready]
      .filter((o) => o.fulfillment && o.fulfillment.type === 'pickup' && o.fulfillment.market_day_id === dayId)
      .sort((a, b) => a.id - b.id);
  } catch (e) {
    note.textContent = e.network ? t('pickups_offline') : e.detail;
    return;
  }
  if (orders.length === 0) {
    fill($('#pickups'), h('li', { class: 'muted' }, t('pickups_none')));
    return;
  }
  fill($('#pickups'), orders.map((o) => h('li', { class: 'order' },
    h('h3', {}, t('order_no', { id: o.id }), ' ', h('span', { class: 'badge' }, t('status_' + o.status))),
    h('p', {}, t('buyer', { name: o.buyer_display_name || o.buyer_username || '#' + o.buyer_id })),
    h('ul', { class: 'order-lines' }, o.lines.map((l) => h('li', {}, l.name + ' ×' + l.quantity))),
    h('p', { class: 'amount' }, yuan(o.total_fen)),
    h('button', {
      type: 'button', class: 'primary',
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await api('/orders/' + o.id + (o.status === 'paid' ? '/ready' : '/fulfil'), { method: 'POST' });
        } catch (e) {
          note.textContent = e.network ? t('pickups_offline') : e.detail;
        }
        renderPickups(ctx);
      },
    }, o.status === 'paid' ? t('mark_ready') : t('mark_fulfilled')))));
}
