// Institutions (五进) and their reserved procurement shares: the progress
// of a year, furthest behind first as the server orders it, with the CSV
// of the same report; a new institution; a year's plan set (budget in
// yuan, the share in percent, both kept as integers: fen and basis points).
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { parseYuan, yuan } from '../common/money.js';
import { shanghaiDate } from '../common/time.js';
import { download, errText, field, fieldErrors, loadVenues, parsePercent, percent, select, table } from './ui.js';

export const INST_KINDS = ['agency', 'enterprise', 'school', 'hospital', 'community'];

export async function renderInstitutions(main, ctx, query) {
  const year = /^\d{4}$/.test(query.year || '') ? query.year : shanghaiDate().slice(0, 4);
  const err = h('p', { class: 'error', role: 'alert' });
  let institutions = [], venues = [], report = null;
  try {
    institutions = await apiAll('/institutions', {}, 20);
    venues = (await loadVenues()).filter((v) => v.kind === 'institution');
    report = await api('/reports/procurement', { query: { year } });
  } catch (e) { err.textContent = errText(e); }
  const filter = h('form', { class: 'row', id: 'procurement-form' },
    field('year', t('year'), { type: 'number', min: 2000, max: 2100, value: year, required: true }),
    h('button', { type: 'submit', class: 'primary' }, t('show_report')),
    h('button', { type: 'button', id: 'procurement-csv', onclick: async () => {
      err.textContent = '';
      try { await download('/reports/procurement', { year: filter.year.value }, `procurement-${filter.year.value}.csv`); } catch (e) { err.textContent = errText(e); }
    } }, t('download_csv')));
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); ctx.go('/institutions', { year: filter.year.value }); });

  const progress = report ? h('section', { class: 'panel', 'aria-labelledby': 'progress-h' }, h('h3', { id: 'progress-h' }, t('progress_title', { year: report.year })),
    h('p', { class: 'muted' }, t('progress_note', { as_of: report.as_of })),
    report.institutions.length ? table(null, [{ label: t('name') }, { label: t('kind') }, { label: t('food_budget'), num: true }, { label: t('share'), num: true },
      { label: t('reserved'), num: true }, { label: t('purchased'), num: true }, { label: t('completion'), num: true }, { label: t('expected'), num: true },
      { label: t('on_track') }, { label: t('inst_orders'), num: true }, { label: t('five_into_sales'), num: true }],
    report.institutions.map((i) => h('tr', { dataset: { institution: i.institution_id }, class: i.on_track ? null : 'bad' },
      h('th', { scope: 'row' }, i.name), h('td', {}, t('ik_' + i.kind)),
      ...[yuan(i.food_budget_fen), percent(i.reserved_share_bp), yuan(i.reserved_fen), yuan(i.purchased_fen), percent(i.completion_bp), yuan(i.expected_fen)].map((v) => h('td', { class: 'num' }, v)),
      h('td', {}, i.on_track ? t('yes_on_track') : t('behind')),
      h('td', { class: 'num' }, i.orders), h('td', { class: 'num' }, yuan(i.five_into_sales_fen)))), { id: 'progress-table' })
      : h('p', { class: 'muted' }, t('no_plans')),
    h('p', { id: 'progress-totals' }, t('progress_totals', { n: report.totals.institutions, on: report.totals.on_track,
      reserved: yuan(report.totals.reserved_fen), purchased: yuan(report.totals.purchased_fen) }))) : null;

  // A year's plan.
  const planForm = h('form', { class: 'row', id: 'plan-form' },
    select('institution', t('institution'), institutions.map((i) => [i.id, i.name]), query.institution || ''),
    field('plan_year', t('year'), { type: 'number', min: 2000, max: 2100, value: year, required: true }),
    field('food_budget', t('food_budget_yuan'), { inputmode: 'decimal', required: true, size: 12 }),
    field('share', t('share_percent'), { inputmode: 'decimal', value: '10', size: 6 }),
    h('button', { type: 'submit', class: 'primary' }, t('set_plan')));
  const planErr = h('p', { class: 'error', role: 'alert' });
  const planFields = fieldErrors(planForm);
  planForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    planErr.textContent = '';
    planFields.clear();
    const fen = parseYuan(planForm.food_budget.value);
    if (fen === null) { planFields.show('food_budget', t('bad_amount')); return; }
    const bp = parsePercent(planForm.share.value);
    if (bp === null || bp < 1 || bp > 10000) { planFields.show('share', t('bad_share')); return; }
    if (!planForm.institution.value) { planErr.textContent = t('choose_institution'); return; }
    try {
      const p = await api(`/institutions/${planForm.institution.value}/plans/${planForm.plan_year.value}`, { method: 'PUT', body: { food_budget_fen: fen, reserved_share_bp: bp } });
      ctx.toast(t('plan_saved', { year: p.year, reserved: yuan(p.reserved_fen) }));
      ctx.go('/institutions', { year: String(p.year) });
    } catch (e) {
      const map = { food_budget_fen: 'food_budget', reserved_share_bp: 'share' };
      if (!(e.field && planFields.show(map[e.field] || e.field, errText(e)))) planErr.textContent = errText(e);
    }
  });

  // A new institution.
  const newForm = h('form', { class: 'row', id: 'institution-form' },
    field('name', t('name'), { required: true, maxlength: 100 }),
    select('kind', t('kind'), INST_KINDS.map((k) => [k, t('ik_' + k)]), 'agency'),
    field('subdistrict', t('subdistrict'), { required: true, maxlength: 64 }),
    select('venue_id', t('inst_venue'), [['', t('no_venue')], ...venues.map((v) => [v.id, v.name])], ''),
    h('button', { type: 'submit', class: 'primary' }, t('add_institution')));
  const newErr = h('p', { class: 'error', role: 'alert' });
  const newFields = fieldErrors(newForm);
  newForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    newErr.textContent = '';
    newFields.clear();
    const b = { name: newForm.name.value.trim(), kind: newForm.kind.value, subdistrict: newForm.subdistrict.value.trim() };
    if (newForm.venue_id.value) b.venue_id = Number(newForm.venue_id.value);
    try {
      const i = await api('/institutions', { method: 'POST', body: b });
      ctx.toast(t('institution_saved', { name: i.name }));
      ctx.go('/institutions', { year, institution: String(i.id) });
    } catch (e) { if (!(e.field && newFields.show(e.field, errText(e)))) newErr.textContent = errText(e); }
  });

  fill(main, h('h2', {}, t('institutions_title')), filter, err, progress,
    h('section', { class: 'panel', 'aria-labelledby': 'plan-h' }, h('h3', { id: 'plan-h' }, t('set_plan_title')), h('p', { class: 'muted' }, t('plan_note')), planForm, planErr),
    h('section', { class: 'panel', 'aria-labelledby': 'inst-h' }, h('h3', { id: 'inst-h' }, t('institutions')),
      table(null, [{ label: t('id'), num: true }, { label: t('name') }, { label: t('kind') }, { label: t('subdistrict') }],
        institutions.map((i) => h('tr', { dataset: { institution: i.id } }, h('td', { class: 'num' }, i.id), h('th', { scope: 'row' }, i.name), h('td', {}, t('ik_' + i.kind)), h('td', {}, i.subdistrict))),
        { id: 'institutions-table' }),
      h('h4', {}, t('new_institution')), newForm, newErr));
}
