// The day's close-out, as the server counts it (GET
// /reports/market-days/{id}): the operator's stalls with their sales and
// totals by payment method, and the pickups. Sales still waiting on this
// phone are named, since the server cannot count them yet.
import { api } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import * as queue from './queue.js';

const METHODS = ['cash', 'wechat', 'alipay', 'card', 'other'];

export async function renderCloseout(ctx) {
  const note = $('#closeout-note');
  note.textContent = '';
  if (!ctx.stall) { fill($('#closeout')); return; }
  const pending = (await queue.pendingSales(ctx.user.id)).filter((r) => r.market_day_id === ctx.stall.market_day_id).length;
  let rep;
  try {
    rep = await api('/reports/market-days/' + ctx.stall.market_day_id);
  } catch (e) {
    note.textContent = e.network ? t('closeout_offline') : e.detail;
    return;
  }
  if (pending) note.textContent = t('closeout_pending', { n: pending });
  fill($('#closeout'),
    rep.stalls.map((s) => h('section', { class: 'closeout-stall', 'aria-label': t('closeout_stall', { label: s.label }) },
      h('h3', {}, t('closeout_stall', { label: s.label })),
      h('p', { class: 'totals' }, t('closeout_sales', { n: s.sales, total: yuan(s.total_fen) })),
      h('table', {},
        h('caption', {}, t('closeout_by_payment')),
        h('tbody', {}, METHODS.map((m) => h('tr', {},
          h('th', { scope: 'row' }, t('pay_' + m)),
          h('td', { class: 'num', dataset: { method: m } }, yuan(s.by_payment[m] || 0)))))))),
    h('p', {}, t('closeout_pickups', rep.pickups)));
}
