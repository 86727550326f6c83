// Impact per partner region for a date range: the figures (sales,
// households reached, sales per poor household), a chart by channel and
// one by month (group_by=month), each with a table of the same numbers,
// the top products, and the CSV download of the same report. A
// region-scoped coordinator's report covers its region only (the server
// decides; the region list offers only that region).
import { api, apiRaw } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { shanghaiDate } from '../common/time.js';
import { chart, draw } from './chart.js';
import { errText, field, loadRegions, regionName, select, table } from './ui.js';

const CH = ['holiday_market', 'caravan', 'counter', 'five_into', 'online'];

export async function renderImpact(main, ctx, query) {
  const today = shanghaiDate();
  const scoped = ctx.user.region_code || '';
  const from = query.from || today.slice(0, 4) + '-01-01';
  const to = query.to || today;
  const region = scoped || query.region || '';
  let regions = [];
  try { regions = await loadRegions(); } catch { /* the report still names them */ }
  const options = scoped ? [[scoped, regionName(scoped, ctx.lang())]]
    : [['', t('all_regions')], ...regions.map((r) => [r.code, regionName(r.code, ctx.lang())])];
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row', id: 'impact-form' },
    field('from', t('from'), { type: 'date', value: from, required: true }),
    field('to', t('to'), { type: 'date', value: to, required: true }),
    select('region', t('region'), options, region),
    h('button', { type: 'submit', class: 'primary' }, t('show_report')),
    h('button', { type: 'button', id: 'csv', onclick: () => download() }, t('download_csv')));
  const params = () => ({ from: form.from.value, to: form.to.value, region: form.region.value });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); ctx.go('/impact', params()); });
  async function download() {
    err.textContent = '';
    try {
      const r = await apiRaw('/reports/impact', { query: { ...params(), format: 'csv' }, headers: { Accept: 'text/csv' } });
      const blob = await r.blob();
      const name = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '')?.[1] || 'impact.csv';
      const a = h('a', { href: URL.createObjectURL(blob), download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    } catch (e) { err.textContent = errText(e); }
  }
  fill(main, h('h2', {}, t('impact_title')), scoped ? h('p', { class: 'muted' }, t('scoped_note', { region: regionName(scoped, ctx.lang()) })) : null, form, err);

  let report;
  try {
    report = await api('/reports/impact', { query: { from, to, region, group_by: 'month' } });
  } catch (e) { err.textContent = errText(e); return; }
  main.dataset.report = JSON.stringify({ from: report.from, to: report.to });
  const money = (fen) => yuan(fen);
  const summary = table(t('regions_summary'), [
    { label: t('region') }, { label: t('sales'), num: true }, { label: t('stall_sales'), num: true },
    { label: t('online_sales'), num: true }, { label: t('producers_with_sales'), num: true },
    { label: t('households'), num: true }, { label: t('poor_households'), num: true },
    { label: t('per_poor'), num: true }],
  report.regions.map((r) => h('tr', { dataset: { region: r.region_code } },
    h('th', { scope: 'row' }, regionName(r.region_code, ctx.lang()) || r.region_name),
    ...[money(r.sales_fen), money(r.stall_sales_fen), money(r.online_sales_fen), r.producers_with_sales,
      r.households, r.poor_households, money(r.sales_per_poor_household_fen)].map((v) => h('td', { class: 'num' }, v)))),
  { id: 'regions-table' });
  main.append(h('section', { class: 'panel' }, summary,
    h('p', { class: 'muted' }, t('totals_line', { sales: money(report.totals.sales_fen), orders: report.totals.orders, stall: report.totals.stall_sales, households: report.totals.households, poor: report.totals.poor_households }))));

  for (const r of report.regions) {
    const name = regionName(r.region_code, ctx.lang()) || r.region_name;
    const chLabels = CH.map((c) => t('ch_' + c));
    const byChannel = chart({ label: t('chart_channel', { region: name }), labels: chLabels,
      series: [{ key: 'sales_fen', label: t('sales'), values: CH.map((c) => r.by_channel[c]) }] });
    const months = r.months || [];
    const byMonth = chart({ label: t('chart_month', { region: name }), labels: months.map((m) => m.month),
      ticks: months.map((m, i) => (i === 0 || m.month.endsWith('-01') ? m.month : m.month.slice(5))),
      series: [{ key: 'stall_sales_fen', label: t('stall_sales'), values: months.map((m) => m.stall_sales_fen) },
        { key: 'online_sales_fen', label: t('online_sales'), values: months.map((m) => m.online_sales_fen) }] });
    byChannel.id = 'chart-channel-' + r.region_code;
    byMonth.id = 'chart-month-' + r.region_code;
    ctx.afterShow(() => { draw(byChannel); draw(byMonth); });
    main.append(h('section', { class: 'panel region-report', 'aria-labelledby': 'rh-' + r.region_code, dataset: { region: r.region_code } },
      h('h3', { id: 'rh-' + r.region_code }, name),
      h('dl', { class: 'figures' },
        fig(t('sales'), money(r.sales_fen), 'sales_fen'),
        fig(t('households_reached'), t('households_n', { n: r.households, poor: r.poor_households }), 'households'),
        fig(t('per_poor'), money(r.sales_per_poor_household_fen), 'sales_per_poor_household_fen'),
        fig(t('counts'), t('counts_n', { orders: r.orders, stall: r.stall_sales, units: r.units }), 'counts')),
      h('div', { class: 'charts' },
        h('div', { class: 'chart-box' }, h('h4', {}, t('by_channel')), byChannel,
          table(t('by_channel_table', { region: name }), [{ label: t('channel') }, { label: t('sales'), num: true }],
            CH.map((c) => h('tr', { dataset: { key: c } }, h('th', { scope: 'row' }, t('ch_' + c)), h('td', { class: 'num' }, money(r.by_channel[c])))),
            { class: 'channel-table' })),
        h('div', { class: 'chart-box' }, h('h4', {}, t('by_month')), byMonth,
          h('p', { class: 'key' }, h('span', { class: 'sw sw0' }), t('stall_sales'), ' ', h('span', { class: 'sw sw1' }), t('online_sales')),
          table(t('by_month_table', { region: name }), [{ label: t('month') }, { label: t('stall_sales'), num: true },
            { label: t('online_sales'), num: true }, { label: t('sales'), num: true }, { label: t('poor_households'), num: true }],
          months.map((m) => h('tr', { dataset: { key: m.month } }, h('th', { scope: 'row' }, m.month),
            ...[money(m.stall_sales_fen), money(m.online_sales_fen), money(m.sales_fen), m.poor_households].map((v) => h('td', { class: 'num' }, v)))),
          { class: 'month-table' }))),
      h('h4', {}, t('top_products')),
      r.top_products.length ? table(null, [{ label: t('product') }, { label: t('units'), num: true }, { label: t('sales'), num: true }],
        r.top_products.map((p) => [p.name, p.units, money(p.sales_fen)]), { class: 'top-table' })
        : h('p', { class: 'muted' }, t('no_sales'))));
  }
}

function fig(label, value, key) {
  return h('div', { class: 'figure', dataset: { key } }, h('dt', {}, label), h('dd', {}, value));
}
