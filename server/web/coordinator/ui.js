// Small pieces the coordinators' screens share: labelled fields, tables,
// the regions, venues and producers lists, and the text of an error.
import { apiAll, apiRaw } from '../common/api.js';
import { h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { parseYuan } from '../common/money.js';

export const CHANNELS = ['holiday_market', 'caravan', 'counter', 'five_into'];
export const CATEGORIES = ['tea', 'fruit', 'dried_fruit', 'grain', 'vegetable', 'meat', 'processed', 'handicraft', 'other'];
export const KINDS = ['cooperative', 'enterprise', 'association', 'household', 'workshop'];

let n = 0;
// A label around a control: field('from', t('from'), {type: 'date', value}).
export function field(name, label, attrs = {}, tag = 'input') {
  const id = attrs.id || 'f-' + name + '-' + ++n;
  return h('label', { for: id }, label, h(tag, { id, name, ...attrs }));
}

export function select(name, label, options, value, attrs = {}) {
  const id = attrs.id || 'f-' + name + '-' + ++n;
  return h('label', { for: id }, label,
    h('select', { id, name, ...attrs }, options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text))));
}

// A table: columns [{key, label, num?}], rows of cells (text or nodes).
export function table(caption, columns, rows, attrs = {}) {
  return h('div', { class: 'scroll' }, h('table', attrs,
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows.map((r) => (r instanceof Node ? r : h('tr', {}, r.map((cell, i) => h('td', { class: columns[i].num ? 'num' : null }, cell))))))));
}

export const errText = (e) => (e && e.network ? t('offline') : (e && e.detail) || String(e));

let regions = null, venues = null, producers = null;
export async function loadRegions() { return (regions ||= await apiAll('/regions', {}, 5)); }
export async function loadVenues(fresh = false) { if (fresh || !venues) venues = await apiAll('/venues', {}, 10); return venues; }
export async function loadProducers(fresh = false) { if (fresh || !producers) producers = await apiAll('/producers', {}, 20); return producers; }
export const regionName = (code, lang) => {
  const r = (regions || []).find((x) => x.code === code);
  return r ? (lang === 'en' ? r.name_en || r.name : r.name) : code;
};

// Calendar dates, Asia/Shanghai: today, and n days from a date.
export function addDays(date, days) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// A CSV the API makes, saved under the name the server gives it.
export async function download(path, query, fallback) {
  const r = await apiRaw(path, { query: { ...query, format: 'csv' }, headers: { Accept: 'text/csv' } });
  const blob = await r.blob();
  const name = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '')?.[1] || fallback;
  const a = h('a', { href: URL.createObjectURL(blob), download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
}

// Basis points as a percentage, in integers only: 1250 → "12.50 %".
export const percent = (bp) => `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')} %`;
// "10", "12.5" (a percentage as typed) → basis points, or null.
export function parsePercent(text) {
  const m = /^\s*(\d{1,3})(?:[.](\d{0,2}))?\s*$/.exec(String(text));
  return m ? Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0')) : null;
}
// Yuan with an optional minus sign → fen, or null ("-1.5" → -150).
export function parseSignedYuan(text) {
  const m = /^\s*(-?)\s*(.*)$/.exec(String(text));
  const fen = parseYuan(m[2]);
  return fen === null ? null : m[1] ? -fen : fen;
}

// A form's field error: the server's problem names the field; its detail
// is shown under that control (and the control marked invalid).
export function fieldErrors(form) {
  const clear = () => {
    for (const el of form.querySelectorAll('.field-error')) el.remove();
    for (const el of form.querySelectorAll('[aria-invalid]')) { el.removeAttribute('aria-invalid'); el.removeAttribute('aria-describedby'); }
  };
  const show = (name, text) => {
    const ctl = form.elements[name];
    if (!ctl) return false;
    const id = ctl.id + '-error';
    ctl.setAttribute('aria-invalid', 'true');
    ctl.setAttribute('aria-describedby', id);
    ctl.closest('label').append(h('span', { class: 'field-error error', id, dataset: { field: name } }, text));
    return true;
  };
  return { clear, show };
}
