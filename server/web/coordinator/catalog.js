// The catalog: producers (households, poor households), products (price,
// stock, certificate, active) edited in place, and a CSV import that
// shows each row's error. A region-scoped coordinator sees and edits its
// region's producers and products.
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { parseYuan, plainYuan, yuan } from '../common/money.js';
import { parseCsv } from './csv.js';
import { CATEGORIES, KINDS, download, errText, field, fieldErrors, loadProducers, loadRegions, regionName, select, table } from './ui.js';

export async function renderCatalog(main, ctx, query) {
  const scoped = ctx.user.region_code || '';
  const region = scoped || query.region || '';
  const err = h('p', { class: 'error', role: 'alert' });
  let producers = [], products = [];
  try {
    await loadRegions();
    producers = (await loadProducers(true)).filter((p) => !region || p.region_code === region);
    products = await apiAll('/products', { region, active: 'all' });
  } catch (e) { err.textContent = errText(e); }
  const regions = await loadRegions().catch(() => []);
  const filter = h('form', { class: 'row', id: 'catalog-filter' },
    select('region', t('region'), scoped ? [[scoped, regionName(scoped, ctx.lang())]] : [['', t('all_regions')], ...regions.map((r) => [r.code, regionName(r.code, ctx.lang())])], region),
    h('button', { type: 'submit', class: 'primary' }, t('show')));
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); ctx.go('/catalog', { region: filter.region.value }); });
  fill(main, h('h2', {}, t('catalog_title')), filter, err,
    producersPanel(ctx, producers, regions, scoped), productsPanel(ctx, products, producers, region));
  const lotsOf = products.find((p) => String(p.id) === query.lots);
  if (lotsOf) main.append(await lotsPanel(ctx, lotsOf, region, query.trace));
  main.append(importPanel(ctx, producers));
}

function rowSaver(ctx, path, read, status) {
  return async () => {
    status.textContent = '';
    status.className = 'row-status';
    const body = read();
    if (typeof body === 'string') { status.textContent = body; status.classList.add('error'); return; }
    if (!Object.keys(body).length) { status.textContent = t('nothing_changed'); return; }
    try {
      await api(path, { method: 'PATCH', body });
      ctx.toast(t('saved'));
      ctx.rerender();
    } catch (e) { status.textContent = errText(e); status.classList.add('error'); }
  };
}

function producersPanel(ctx, producers, regions, scoped) {
  const rows = producers.map((p) => {
    const hh = h('input', { type: 'number', min: 0, value: p.households, 'aria-label': t('households_of', { name: p.name }) });
    const poor = h('input', { type: 'number', min: 0, value: p.poor_households, 'aria-label': t('poor_of', { name: p.name }) });
    const status = h('span', { class: 'row-status', role: 'status' });
    const save = rowSaver(ctx, '/producers/' + p.id, () => {
      const b = {};
      if (Number(hh.value) !== p.households) b.households = Number(hh.value);
      if (Number(poor.value) !== p.poor_households) b.poor_households = Number(poor.value);
      return b;
    }, status);
    return h('tr', { dataset: { producer: p.id } }, h('th', { scope: 'row' }, p.name), h('td', {}, regionName(p.region_code, ctx.lang())),
      h('td', {}, t('kind_' + p.kind)), h('td', {}, hh), h('td', {}, poor), h('td', {}, p.contact_phone || ''),
      h('td', {}, h('button', { type: 'button', 'aria-label': t('save_named', { name: p.name }), onclick: save }, t('save')), ' ', status));
  });
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row', id: 'producer-form' },
    field('name', t('name'), { required: true, maxlength: 100 }),
    select('region_code', t('region'), (scoped ? regions.filter((r) => r.code === scoped) : regions).map((r) => [r.code, regionName(r.code, ctx.lang())]), scoped),
    select('kind', t('kind'), KINDS.map((k) => [k, t('kind_' + k)]), 'cooperative'),
    field('households', t('households'), { type: 'number', min: 0, required: true, value: 0 }),
    field('poor_households', t('poor_households'), { type: 'number', min: 0, required: true, value: 0 }),
    h('button', { type: 'submit', class: 'primary' }, t('add_producer')), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      await api('/producers', { method: 'POST', body: { name: form.name.value.trim(), region_code: form.region_code.value, kind: form.kind.value,
        households: Number(form.households.value), poor_households: Number(form.poor_households.value) } });
      ctx.toast(t('saved'));
      ctx.rerender();
    } catch (e) { err.textContent = errText(e); }
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'producers-h' }, h('h3', { id: 'producers-h' }, t('producers')),
    table(null, [{ label: t('name') }, { label: t('region') }, { label: t('kind') }, { label: t('households') }, { label: t('poor_households') },
      { label: t('phone') }, { label: '' }], rows, { id: 'producers-table' }), h('h4', {}, t('new_producer')), form);
}

function productsPanel(ctx, products, producers, region) {
  const rows = products.map((p) => {
    const price = h('input', { inputmode: 'decimal', value: plainYuan(p.price_fen), 'aria-label': t('price_of', { name: p.name }), size: 8 });
    const stock = h('input', { type: 'number', value: p.stock, 'aria-label': t('stock_of', { name: p.name }) });
    const cert = h('input', { type: 'checkbox', checked: p.certified, 'aria-label': t('certified_of', { name: p.name }) });
    const certNo = h('input', { value: p.certificate_no || '', maxlength: 64, 'aria-label': t('certno_of', { name: p.name }) });
    const active = h('input', { type: 'checkbox', checked: p.active, 'aria-label': t('active_of', { name: p.name }) });
    const status = h('span', { class: 'row-status', role: 'status' });
    const save = rowSaver(ctx, '/products/' + p.id, () => {
      const b = {};
      const fen = parseYuan(price.value);
      if (fen === null || fen < 1) return t('bad_price');
      if (fen !== p.price_fen) b.price_fen = fen;
      if (!/^-?\d+$/.test(stock.value.trim())) return t('bad_stock');
      if (Number(stock.value) !== p.stock) b.stock = Number(stock.value);
      if (cert.checked !== p.certified) b.certified = cert.checked;
      if (certNo.value.trim() !== (p.certificate_no || '')) b.certificate_no = certNo.value.trim() || null;
      if (active.checked !== p.active) b.active = active.checked;
      return b;
    }, status);
    return h('tr', { dataset: { product: p.id } }, h('th', { scope: 'row' }, p.name), h('td', {}, p.producer_name), h('td', {}, t('cat_' + p.category)),
      h('td', {}, p.unit), h('td', { class: 'num' }, price), h('td', {}, stock), h('td', {}, cert), h('td', {}, certNo), h('td', {}, active),
      h('td', {}, h('button', { type: 'button', 'aria-label': t('save_named', { name: p.name }), onclick: save }, t('save')), ' ',
        h('button', { type: 'button', 'aria-label': t('lots_of', { name: p.name }), onclick: () => ctx.go('/catalog', { region, lots: p.id }) }, t('lots')), ' ', status));
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'products-h' }, h('h3', { id: 'products-h' }, t('products')),
    h('p', { class: 'muted' }, t('products_note')),
    products.length ? table(null, [{ label: t('name') }, { label: t('producer') }, { label: t('category') }, { label: t('unit') },
      { label: t('price_yuan'), num: true }, { label: t('stock') }, { label: t('certified') }, { label: t('certificate_no') }, { label: t('active') }, { label: '' }],
    rows, { id: 'products-table' }) : h('p', { class: 'muted' }, t('no_products')));
}

// The import: the file's rows are checked here first (columns, integers,
// category, producer); one bad row and nothing is sent, as marketctl
// import-products does. Then each row is sent; a row the server refuses
// shows the server's reason (the rows before it stay imported).
const COLUMNS = ['name', 'category', 'unit', 'price_fen', 'stock', 'producer_id', 'certified', 'certificate_no', 'description'];
const REQUIRED = COLUMNS.slice(0, 6);

export function checkRows(text, producers) {
  const rows = parseCsv(text);
  if (rows === null) return { error: t('csv_open_quote') };
  if (!rows.length) return { error: t('csv_empty') };
  const head = rows[0].map((s) => s.trim());
  const missing = REQUIRED.filter((c) => !head.includes(c));
  if (missing.length) return { error: t('csv_missing', { cols: missing.join(', ') }) };
  const known = new Set(producers.map((p) => p.id));
  const out = rows.slice(1).map((cells, i) => {
    const v = Object.fromEntries(head.map((c, k) => [c, (cells[k] ?? '').trim()]));
    const line = i + 2;
    const bad = (col, why) => ({ line, v, error: `${col}: ${why}` });
    for (const c of REQUIRED) if (v[c] === '') return bad(c, t('csv_required'));
    for (const c of ['price_fen', 'stock', 'producer_id']) {
      if (!/^-?\d{1,16}$/.test(v[c]) || !Number.isSafeInteger(Number(v[c]))) return bad(c, t('csv_integer'));
    }
    if (Number(v.price_fen) < 1) return bad('price_fen', t('csv_price'));
    if (Number(v.stock) < 0) return bad('stock', t('csv_stock'));
    if (!CATEGORIES.includes(v.category)) return bad('category', t('csv_category', { list: CATEGORIES.join(', ') }));
    if (!known.has(Number(v.producer_id))) return bad('producer_id', t('csv_producer', { id: v.producer_id }));
    if ('certified' in v && !['', 'true', 'false', '1', '0'].includes(v.certified)) return bad('certified', t('csv_bool'));
    const body = { name: v.name, category: v.category, unit: v.unit, price_fen: Number(v.price_fen), stock: Number(v.stock), producer_id: Number(v.producer_id) };
    if (v.certified === 'true' || v.certified === '1') body.certified = true;
    if (v.certificate_no) body.certificate_no = v.certificate_no;
    if (v.description) body.description = v.description;
    return { line, v, body, error: null };
  });
  return { rows: out };
}

function importPanel(ctx, producers) {
  const err = h('p', { class: 'error', role: 'alert' });
  const result = h('div', { id: 'import-result', 'aria-live': 'polite' });
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv' });
  const form = h('form', { class: 'row', id: 'import-form' }, h('label', { for: 'csv-file' }, t('csv_file'), file),
    h('button', { type: 'submit', class: 'primary' }, t('import')));
  const show = (rows) => fill(result, table(t('import_rows'), [{ label: t('line'), num: true }, { label: t('name') }, { label: t('price_yuan'), num: true }, { label: t('result') }],
    rows.map((r) => h('tr', { class: r.error ? 'bad' : null, dataset: { line: r.line } }, h('td', { class: 'num' }, r.line), h('td', {}, r.v.name || ''),
      h('td', { class: 'num' }, r.body ? yuan(r.body.price_fen) : r.v.price_fen || ''),
      h('td', { class: r.error ? 'error' : r.id ? 'ok' : 'muted' }, r.error ? r.error : r.id ? t('imported', { id: r.id }) : t('waiting'))))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    fill(result);
    if (!file.files[0]) { err.textContent = t('csv_choose'); return; }
    const checked = checkRows(await file.files[0].text(), producers);
    if (checked.error) { err.textContent = checked.error; return; }
    const rows = checked.rows;
    show(rows);
    const bad = rows.filter((r) => r.error).length;
    if (bad) { err.textContent = t('import_refused', { n: bad }); return; }
    let done = 0;
    for (const r of rows) {
      try { r.id = (await api('/products', { method: 'POST', body: r.body })).id; done++; } catch (e) { r.error = errText(e) + (e.field ? ` (${e.field})` : ''); }
      show(rows);
    }
    const failed = rows.length - done;
    if (failed) err.textContent = t('import_partial', { done, failed }); else ctx.toast(t('import_done', { n: done }));
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'import-h' }, h('h3', { id: 'import-h' }, t('import_title')),
    h('p', { class: 'muted' }, t('import_note')), form, err, result);
}

// A product's lots (origin, dates, what is left), receiving a lot (the
// product's stock rises by its quantity) and a lot's trace: where its
// units went, shown as the API's JSON, with the CSV of the same events.
async function lotsPanel(ctx, product, region, traceId) {
  const err = h('p', { class: 'error', role: 'alert' });
  let lots = [], trace = null;
  try { lots = await apiAll(`/products/${product.id}/lots`, {}, 20); } catch (e) { err.textContent = errText(e); }
  const lot = lots.find((l) => String(l.id) === traceId);
  if (lot) {
    try { trace = await api(`/lots/${lot.id}/trace`); } catch (e) { err.textContent = errText(e); }
  }
  const form = h('form', { class: 'row', id: 'lot-form' },
    field('code', t('lot_code'), { required: true, maxlength: 32, autocomplete: 'off' }),
    field('quantity', t('quantity'), { type: 'number', min: 1, required: true }),
    field('packed_on', t('packed_on'), { type: 'date', required: true }),
    field('harvested_on', t('harvested_on'), { type: 'date' }),
    field('best_before', t('best_before'), { type: 'date' }),
    field('origin', t('origin'), { maxlength: 200 }),
    h('button', { type: 'submit', class: 'primary' }, t('receive_lot')));
  const ferr = h('p', { class: 'error', role: 'alert' });
  const fe = fieldErrors(form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    ferr.textContent = '';
    fe.clear();
    if (!/^\d+$/.test(form.quantity.value.trim())) { fe.show('quantity', t('bad_stock')); return; }
    const b = { code: form.code.value.trim(), quantity: Number(form.quantity.value), packed_on: form.packed_on.value };
    for (const k of ['harvested_on', 'best_before', 'origin']) if (form[k].value.trim()) b[k] = form[k].value.trim();
    try {
      const l = await api(`/products/${product.id}/lots`, { method: 'POST', body: b });
      ctx.toast(t('lot_received', { code: l.code, n: l.quantity }));
      ctx.rerender();
    } catch (e) { if (!(e.field && fe.show(e.field, errText(e)))) ferr.textContent = errText(e); }
  });
  const traceLink = (l) => '#/catalog?' + new URLSearchParams({ ...(region ? { region } : {}), lots: product.id, trace: l.id });
  return h('section', { class: 'panel', id: 'lots', 'aria-labelledby': 'lots-h', dataset: { product: product.id } },
    h('h3', { id: 'lots-h' }, t('lots_title', { name: product.name })), err,
    lots.length ? table(null, [{ label: t('lot_code') }, { label: t('quantity'), num: true }, { label: t('remaining'), num: true }, { label: t('packed_on') },
      { label: t('harvested_on') }, { label: t('best_before') }, { label: t('origin') }, { label: '' }],
    lots.map((l) => h('tr', { dataset: { lot: l.id } }, h('th', { scope: 'row' }, l.code), h('td', { class: 'num' }, l.quantity), h('td', { class: 'num' }, l.remaining),
      h('td', {}, l.packed_on), h('td', {}, l.harvested_on || ''), h('td', {}, l.best_before || ''), h('td', {}, l.origin || ''),
      h('td', {}, h('a', { href: traceLink(l), 'aria-label': t('trace_of', { code: l.code }) }, t('trace'))))), { id: 'lots-table' })
      : h('p', { class: 'muted' }, t('no_lots')),
    trace ? h('div', { id: 'trace', dataset: { lot: lot.id } }, h('h4', {}, t('trace_title', { code: lot.code })),
      h('button', { type: 'button', id: 'trace-csv', onclick: async () => {
        err.textContent = '';
        try { await download(`/lots/${lot.id}/trace`, {}, `lot-${lot.id}-trace.csv`); } catch (e) { err.textContent = errText(e); }
      } }, t('download_csv')),
      h('pre', { id: 'trace-json', class: 'json', tabindex: 0, 'aria-label': t('trace_json', { code: lot.code }) }, JSON.stringify(trace, null, 2))) : null,
    h('h4', {}, t('new_lot')), h('p', { class: 'muted' }, t('lot_note')), form, ferr);
}
