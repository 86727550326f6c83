// Messages: one table a language (the page passes them in), Chinese first.
// Screens name a key; no text lives in their code. Elements of the HTML
// carry data-i18n="key" (their text) or data-i18n-label="key" (their
// aria-label) and are filled again when the language changes.
const KEY = 'market.lang';
let tables = { zh: {}, en: {} };
let current = 'zh';
const listeners = new Set();

export function initI18n(t) {
  tables = t;
  const saved = localStorage.getItem(KEY);
  current = saved === 'en' || saved === 'zh' ? saved : 'zh';
  apply();
}

export function lang() { return current; }

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  localStorage.setItem(KEY, current);
  apply();
  for (const f of listeners) f(current);
}

export function onLang(f) { listeners.add(f); }

// t('pending', {n: 3}) → "3 笔待同步"; an unknown key shows itself, so a
// missing message is visible rather than blank.
export function t(key, params) {
  const table = tables[current] || {};
  let s = key in table ? table[key] : (tables.zh[key] ?? key);
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

function apply(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = title.textContent;
}

export { apply as applyI18n };
