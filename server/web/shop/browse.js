// Browsing: the product list (partner region, category, search) and a
// product's page (producer, region, households, certificate, lots).
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { yuan } from '../common/money.js';
import { addToCart } from './cart.js';

export const CATEGORIES = ['tea', 'fruit', 'dried_fruit', 'grain', 'vegetable', 'meat', 'processed', 'handicraft', 'other'];

let regions = null;
export async function loadRegions() {
  if (!regions) regions = await apiAll('/regions', {}, 5);
  return regions;
}
export const regionName = (code, lang) => {
  const r = (regions || []).find((x) => x.code === code);
  return r ? (lang === 'en' ? r.name_en || r.name : r.name) : code;
};

function select(id, label, options, value) {
  return [h('label', { for: id }, label),
    h('select', { id, name: id }, options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)))];
}

export async function renderBrowse(main, ctx, query) {
  const { region = '', category = '', q = '' } = query;
  await loadRegions().catch(() => []);
  const form = h('form', { class: 'filters', role: 'search' },
    h('div', {}, select('region', t('region'), [['', t('all_regions')], ...(regions || []).map((r) => [r.code, regionName(r.code, ctx.lang())])], region)),
    h('div', {}, select('category', t('category'), [['', t('all_categories')], ...CATEGORIES.map((c) => [c, t('cat_' + c)])], category)),
    h('div', { class: 'search' },
      h('label', { for: 'q' }, t('search')),
      h('div', { class: 'search-row' },
        h('input', { id: 'q', name: 'q', type: 'search', value: q, placeholder: t('search_placeholder') }),
        h('button', { type: 'submit', class: 'primary' }, t('search_button')))));
  const go = () => ctx.go('/', { region: form.region.value, category: form.category.value, q: form.q.value.trim() });
  form.addEventListener('submit', (ev) => { ev.preventDefault(); go(); });
  form.region.addEventListener('change', go);
  form.category.addEventListener('change', go);
  const list = h('ul', { class: 'product-list', 'aria-live': 'polite' }, h('li', { class: 'muted' }, t('loading')));
  fill(main, h('h2', { class: 'sr-only' }, t('nav_browse')), h('p', { class: 'muted' }, t('intro')), form, list);
  let items;
  try {
    items = (await api('/products', { query: { region, category, q, limit: 100 } })).items;
  } catch (e) {
    fill(list, h('li', { class: 'error' }, e.network ? t('offline') : e.detail));
    return;
  }
  fill(list, items.length ? items.map((p) => productCard(p, ctx)) : h('li', { class: 'muted' }, t('no_products')));
}

function productCard(p, ctx) {
  return h('li', { class: 'card' },
    h('a', { href: '#/p/' + p.id, class: 'card-name' }, p.name),
    h('p', { class: 'muted small' }, p.producer_name + ' · ' + regionName(p.region_code, ctx.lang())),
    h('p', { class: 'price' }, yuan(p.price_fen), ' ', h('span', { class: 'muted small' }, t('per_unit', { unit: p.unit }))),
    p.certified ? h('p', { class: 'cert small' }, t('certified_no_number')) : null,
    h('button', { type: 'button', class: 'add', disabled: p.stock <= 0,
      'aria-label': p.stock > 0 ? t('add_named', { name: p.name }) : t('sold_out') + ' ' + p.name,
      onclick: () => { addToCart(p, 1); ctx.toast(t('added', { name: p.name, n: 1 })); } },
    p.stock > 0 ? t('add_to_cart') : t('sold_out')));
}

export async function renderProduct(main, ctx, id) {
  fill(main, h('p', { class: 'muted' }, t('loading')));
  let p, producer, lots = [];
  try {
    await loadRegions();
    p = await api('/products/' + encodeURIComponent(id));
    producer = await api('/producers/' + p.producer_id);
  } catch (e) {
    fill(main, h('p', { class: 'error' }, e.network ? t('offline') : e.detail), h('a', { href: '#/' }, t('back')));
    return;
  }
  // Lots, once the server has them (an older server answers 404).
  try { lots = (await api('/products/' + p.id + '/lots')).items || []; } catch { lots = []; }
  let qty = 1;
  const out = h('output', { id: 'qty', 'aria-live': 'polite' }, '1');
  const step = (d) => { qty = Math.max(1, qty + d); out.textContent = String(qty); };
  fill(main,
    h('p', {}, h('a', { href: '#/' }, '‹ ' + t('back'))),
    h('article', { class: 'product-page' },
      h('h2', {}, p.name),
      h('p', { class: 'price big-price' }, yuan(p.price_fen), ' ', h('span', { class: 'muted small' }, t('per_unit', { unit: p.unit }))),
      p.description ? h('p', {}, p.description) : null,
      h('dl', { class: 'facts' },
        h('dt', {}, t('producer')), h('dd', {}, producer.name),
        h('dt', {}, t('region')), h('dd', {}, regionName(p.region_code, ctx.lang())),
        h('dt', {}, t('households_label')),
        h('dd', { class: 'households' }, t('households', { n: producer.households }), '；', t('poor_households', { n: producer.poor_households })),
        h('dt', {}, t('certificate_label')),
        h('dd', { class: 'certificate' }, p.certified ? (p.certificate_no ? t('certified', { no: p.certificate_no }) : t('certified_no_number')) : t('not_certified'))),
      lots.length ? [h('h3', {}, t('lots')), h('ul', { class: 'lots' }, lots.map((l) => h('li', {},
        t('lot_line', { code: l.code, origin: l.origin || '—', packed: l.packed_on }))))] : null,
      h('p', { class: 'muted' }, p.stock > 0 ? t('in_stock', { n: p.stock }) : t('sold_out')),
      h('div', { class: 'stepper', role: 'group', 'aria-label': t('quantity') },
        h('button', { type: 'button', 'aria-label': t('less', { name: p.name }), onclick: () => step(-1) }, '−'),
        out,
        h('button', { type: 'button', 'aria-label': t('more', { name: p.name }), onclick: () => step(1) }, '+')),
      h('button', { type: 'button', class: 'primary big', disabled: p.stock <= 0, 'aria-label': t('add_named', { name: p.name }),
        onclick: () => { addToCart(p, qty); ctx.toast(t('added', { name: p.name, n: qty })); } }, t('add_to_cart'))));
}
