// Institutions (五进) and their reserved procurement shares: the progress
// of a year, furthest behind first as the server orders it, with the CSV
// of the same report; a new institution; a year's plan set (budget in
// yuan, the share in percent, both kept as integers: fen and basis points);
// an institution edited in the same form (PATCH with what changed).
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

  // A new institution, or one being edited: its row's edit button fills
  // the form, which then saves the changed fields only.
  let editing = null;
  const formTitle = h('h4', { id: 'institution-form-h' }, t('new_institution'));
  const submit = h('button', { type: 'submit', class: 'primary' }, t('add_institution'));
  const stopEdit = h('button', { type: 'button', hidden: true, onclick: () => setEditing(null) }, t('cancel_edit'));
  const newForm = h('form', { class: 'row', id: 'institution-form', 'aria-labelledby': 'institution-form-h' },
    field('name', t('name'), { required: true, maxlength: 100 }),
    select('kind', t('kind'), INST_KINDS.map((k) => [k, t('ik_' + k)]), 'agency'),
    field('subdistrict', t('subdistrict'), { required: true, maxlength: 64 }),
    select('venue_id', t('inst_venue'), [['', t('no_venue')], ...venues.map((v) => [v.id, v.name])], ''),
    submit, stopEdit);
  const newErr = h('p', { class: 'error', role: 'alert' });
  const newFields = fieldErrors(newForm);
  function setEditing(i) {
    editing = i;
    newErr.textContent = '';
    newFields.clear();
    newForm.name.value = i ? i.name : '';
    newForm.kind.value = i ? i.kind : 'agency';
    newForm.subdistrict.value = i ? i.subdistrict : '';
    newForm.venue_id.value = i && i.venue_id ? String(i.venue_id) : '';
    formTitle.textContent = i ? t('edit_institution_title', { name: i.name }) : t('new_institution');
    submit.textContent = i ? t('save_changes') : t('add_institution');
    stopEdit.hidden = !i;
    if (i) newForm.name.focus();
  }
  newForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    newErr.textContent = '';
    newFields.clear();
    const b = { name: newForm.name.value.trim(), kind: newForm.kind.value, subdistrict: newForm.subdistrict.value.trim() };
    const venue = newForm.venue_id.value ? Number(newForm.venue_id.value) : null;
    try {
      if (editing) {
        const changed = {};
        for (const k of ['name', 'kind', 'subdistrict']) if (b[k] !== editing[k]) changed[k] = b[k];
        if (venue !== (editing.venue_id || null)) changed.venue_id = venue;
        if (Object.keys(changed).length === 0) { setEditing(null); return; }
        const i = await api('/institutions/' + editing.id, { method: 'PATCH', body: changed });
        ctx.toast(t('institution_changed', { name: i.name }));
        ctx.go('/institutions', { year, institution: String(i.id) });
      } else {
        if (venue !== null) b.venue_id = venue;
        const i = await api('/institutions', { method: 'POST', body: b });
        ctx.toast(t('institution_saved', { name: i.name }));
        ctx.go('/institutions', { year, institution: String(i.id) });
      }
    } catch (e) { if (!(e.field && newFields.show(e.field, errText(e)))) newErr.textContent = errText(e); }
  });
  const venueName = new Map(venues.map((v) => [v.id, v.name]));

  fill(main, h('h2', {}, t('institutions_title')), filter, err, progress,
    h('section', { class: 'panel', 'aria-labelledby': 'plan-h' }, h('h3', { id: 'plan-h' }, t('set_plan_title')), h('p', { class: 'muted' }, t('plan_note')), planForm, planErr),
    h('section', { class: 'panel', 'aria-labelledby': 'inst-h' }, h('h3', { id: 'inst-h' }, t('institutions')),
      table(null, [{ label: t('id'), num: true }, { label: t('name') }, { label: t('kind') }, { label: t('subdistrict') }, { label: t('inst_venue') }, { label: '' }],
        institutions.map((i) => h('tr', { dataset: { institution: i.id } }, h('td', { class: 'num' }, i.id), h('th', { scope: 'row' }, i.name), h('td', {}, t('ik_' + i.kind)), h('td', {}, i.subdistrict),
          h('td', {}, i.venue_id ? venueName.get(i.venue_id) || '#' + i.venue_id : ''),
          h('td', {}, h('button', { type: 'button', 'aria-label': t('edit_institution', { name: i.name }), onclick: () => setEditing(i) }, t('edit'))))),
        { id: 'institutions-table' }),
      formTitle, newForm, newErr));
}
