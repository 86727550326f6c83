// "Needs attention": sales the server refused, with its reason. The
// operator corrects one (its lines go back into the sale screen, to be
// recorded as a new sale) or discards it after a confirmation. Nothing
// leaves this list in silence.
import { $, fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { clockTime } from '../common/time.js';
import * as queue from './queue.js';
import { loadIntoCart } from './sale.js';
import { notifyChanged } from './sync.js';

// The server's reason in the operator's words, with its own detail.
export function reason(problem) {
  const key = 'err_' + (problem.code || 'unknown');
  const words = t(key) === key ? t('err_unknown') : t(key);
  const field = problem.field ? ' (' + t('field', { field: problem.field }) + ')' : '';
  return words + (problem.detail ? '：' + problem.detail : '') + field;
}

export async function renderAttention(ctx) {
  const list = (await queue.salesInState('attention')).filter((r) => r.user_id === ctx.user.id);
  if (list.length === 0) {
    fill($('#attention'), h('li', { class: 'muted' }, t('attention_none')));
    return;
  }
  fill($('#attention'), list.map((r) => h('li', { class: 'sale state-attention' },
    h('div', { class: 'sale-head' },
      h('span', { class: 'time' }, clockTime(Date.parse(r.body.recorded_at))),
      h('span', { class: 'amount' }, yuan(r.total_fen)),
      h('span', { class: 'pay' }, t('pay_' + r.body.payment))),
    h('div', { class: 'sale-lines' }, r.body.lines.map((l) => (r.names?.[l.product_id] || '#' + l.product_id) + ' ×' + l.quantity).join('，')),
    h('p', { class: 'error reason' }, reason(r.error || {})),
    h('div', { class: 'actions' },
      h('button', {
        type: 'button', class: 'primary',
        onclick: async () => {
          loadIntoCart(r);
          await queue.markDiscarded(r.id);
          notifyChanged();
          ctx.tab = 'sale';
          ctx.render();
          $('#sale-error').textContent = t('corrected');
        },
      }, t('correct')),
      h('button', {
        type: 'button', class: 'chip danger',
        onclick: async () => {
          if (!confirm(t('discard_confirm', { total: yuan(r.total_fen) }))) return;
          await queue.markDiscarded(r.id);
          notifyChanged();
          ctx.render();
        },
      }, t('discard'))))));
}
