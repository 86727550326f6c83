// Producer payouts and statements: a producer and a range give the
// statement (opening, earned, paid out, closing, a row a day with
// earnings) and the producer's payouts; a payout is recorded here (a
// negative one, a correction, needs a note: the server says so on the
// field). Below, the payouts report of the range for every producer the
// coordinator may see, with its CSV.
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { shanghaiDate } from '../common/time.js';
import { download, errText, field, fieldErrors, loadProducers, loadRegions, parseSignedYuan, regionName, select, table } from './ui.js';

export async function renderPayouts(main, ctx, query) {
  const today = shanghaiDate();
  const scoped = ctx.user.region_code || '';
  const from = query.from || today.slice(0, 8) + '01';
  const to = query.to || today;
  const err = h('p', { class: 'error', role: 'alert' });
  let producers = [];
  try {
    await loadRegions();
    producers = (await loadProducers(true)).filter((p) => !scoped || p.region_code === scoped);
  } catch (e) { err.textContent = errText(e); }
  const producer = query.producer || '';
  const form = h('form', { class: 'row', id: 'statement-form' },
    select('producer', t('producer'), [['', t('choose_producer')], ...producers.map((p) => [p.id, p.name])], producer),
    field('from', t('from'), { type: 'date', value: from, required: true }),
    field('to', t('to'), { type: 'date', value: to, required: true }),
    h('button', { type: 'submit', class: 'primary' }, t('show')));
  const params = () => ({ from: form.from.value, to: form.to.value });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); ctx.go('/payouts', { producer: form.producer.value, ...params() }); });
  fill(main, h('h2', {}, t('payouts_title')), form, err);

  if (producer) {
    try {
      const st = await api(`/producers/${producer}/statement`, { query: { from, to } });
      const payouts = await apiAll(`/producers/${producer}/payouts`, {}, 20);
      main.append(statementPanel(ctx, st, payouts, err));
    } catch (e) { err.textContent = errText(e); }
  }
  try {
    const rep = await api('/reports/payouts', { query: { from, to, region: scoped } });
    main.append(reportPanel(ctx, rep, scoped, err));
  } catch (e) { err.textContent = errText(e); }
}

function statementPanel(ctx, st, payouts, err) {
  const fig = (key, label, fen) => h('div', { class: 'figure', dataset: { key } }, h('dt', {}, label), h('dd', {}, yuan(fen)));
  const pform = h('form', { class: 'row', id: 'payout-form' },
    field('amount', t('amount_yuan'), { inputmode: 'decimal', required: true, size: 10 }),
    field('paid_on', t('paid_on'), { type: 'date', value: shanghaiDate(), required: true }),
    field('reference', t('reference'), { required: true, maxlength: 64 }),
    field('note', t('note'), { maxlength: 200 }),
    h('button', { type: 'submit', class: 'primary' }, t('record_payout')));
  const perr = h('p', { class: 'error', role: 'alert' });
  const fe = fieldErrors(pform);
  const names = { amount_fen: 'amount', paid_on: 'paid_on', reference: 'reference', note: 'note' };
  pform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    perr.textContent = '';
    fe.clear();
    const fen = parseSignedYuan(pform.amount.value);
    if (fen === null) { fe.show('amount', t('bad_amount')); return; }
    const b = { amount_fen: fen, paid_on: pform.paid_on.value, reference: pform.reference.value.trim() };
    if (pform.note.value.trim()) b.note = pform.note.value.trim();
    try {
      const p = await api(`/producers/${st.producer_id}/payouts`, { method: 'POST', body: b });
      ctx.toast(t('payout_saved', { amount: yuan(p.amount_fen), name: st.producer_name }));
      ctx.rerender();
    } catch (e) { if (!(e.field && fe.show(names[e.field] || e.field, errText(e)))) perr.textContent = errText(e); }
  });
  return h('section', { class: 'panel', id: 'statement', 'aria-labelledby': 'statement-h', dataset: { producer: st.producer_id } },
    h('h3', { id: 'statement-h' }, t('statement_title', { name: st.producer_name, from: st.from, to: st.to })),
    h('dl', { class: 'figures' }, fig('opening_balance_fen', t('opening'), st.opening_balance_fen), fig('earned_fen', t('earned'), st.earned_fen),
      fig('paid_out_fen', t('paid_out'), st.paid_out_fen), fig('closing_balance_fen', t('closing'), st.closing_balance_fen)),
    h('button', { type: 'button', id: 'statement-csv', onclick: async () => {
      err.textContent = '';
      try { await download(`/producers/${st.producer_id}/statement`, { from: st.from, to: st.to }, 'statement.csv'); } catch (e) { err.textContent = errText(e); }
    } }, t('download_statement')),
    st.days.length ? table(t('days_caption'), [{ label: t('date') }, { label: t('stall_sales'), num: true }, { label: t('online_sales'), num: true }, { label: t('earned'), num: true }],
      st.days.map((d) => h('tr', { dataset: { date: d.date } }, h('th', { scope: 'row' }, d.date),
        ...[d.stall_sales_fen, d.online_sales_fen, d.earned_fen].map((v) => h('td', { class: 'num' }, yuan(v))))), { id: 'days-table' })
      : h('p', { class: 'muted' }, t('no_earnings')),
    h('h4', {}, t('payouts')),
    payouts.length ? table(null, [{ label: t('paid_on') }, { label: t('amount'), num: true }, { label: t('reference') }, { label: t('note') }],
      payouts.map((p) => h('tr', { dataset: { payout: p.id } }, h('td', {}, p.paid_on), h('td', { class: 'num' }, yuan(p.amount_fen)), h('td', {}, p.reference), h('td', {}, p.note || ''))),
      { id: 'payouts-table' }) : h('p', { class: 'muted' }, t('no_payouts')),
    h('h4', {}, t('new_payout')), h('p', { class: 'muted' }, t('payout_note')), pform, perr);
}

function reportPanel(ctx, rep, scoped, err) {
  const cols = ['opening_balance_fen', 'earned_fen', 'paid_out_fen', 'closing_balance_fen'];
  return h('section', { class: 'panel', 'aria-labelledby': 'payrep-h' }, h('h3', { id: 'payrep-h' }, t('payouts_report', { from: rep.from, to: rep.to })),
    h('button', { type: 'button', id: 'payouts-csv', onclick: async () => {
      err.textContent = '';
      try { await download('/reports/payouts', { from: rep.from, to: rep.to, region: scoped }, 'payouts.csv'); } catch (e) { err.textContent = errText(e); }
    } }, t('download_csv')),
    table(null, [{ label: t('producer') }, { label: t('region') }, { label: t('opening'), num: true }, { label: t('earned'), num: true }, { label: t('paid_out'), num: true }, { label: t('closing'), num: true }],
      [...rep.producers.map((p) => h('tr', { dataset: { producer: p.producer_id } }, h('th', { scope: 'row' }, p.producer_name), h('td', {}, regionName(p.region_code, ctx.lang())),
        ...cols.map((c) => h('td', { class: 'num' }, yuan(p[c]))))),
      h('tr', { class: 'totals' }, h('th', { scope: 'row' }, t('totals_row')), h('td', {}), ...cols.map((c) => h('td', { class: 'num' }, yuan(rep.totals[c]))))],
      { id: 'payouts-report' }));
}
