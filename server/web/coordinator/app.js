// The coordinators' pages: start-up, the header (who, language, the admin
// link for admins) and a hash router: #/impact, #/calendar, #/catalog,
// #/orders, #/institutions, #/payouts, #/admin, #/login. Each screen is a module of its own.
import { setUnauthorizedHandler } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { initI18n, lang, onLang, setLang, t } from '../common/i18n.js';
import { expire, loadSession, login, logout } from '../common/session.js';
import { en, zh } from './messages.js';
import { renderImpact } from './impact.js';
import { renderCalendar } from './calendar.js';
import { renderCatalog } from './catalog.js';
import { renderOrders } from './orders.js';
import { renderAdmin } from './admin.js';
import { renderInstitutions } from './institutions.js';
import { renderPayouts } from './payouts.js';

initI18n({ zh, en });

let keepToast = false;
const STAFF = new Set(['coordinator', 'admin']);
const ctx = {
  session: loadSession(),
  lang,
  get user() { return ctx.session && ctx.session.user; },
  get admin() { return ctx.user && ctx.user.role === 'admin'; },
  go(path, query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const target = '#' + path + ([...q].length ? '?' + q : '');
    if (location.hash === target) render();
    else location.hash = target;
  },
  rerender: () => render(),
  // A short message in the status line; it stays through the render a
  // change asks for next (a save, then the screen drawn again).
  toast(text) {
    const el = $('#toast');
    el.textContent = text;
    el.hidden = !text;
    keepToast = !!text;
  },
};
if (ctx.session && !STAFF.has(ctx.session.user.role)) ctx.session = null;

setUnauthorizedHandler(() => {
  expire();
  ctx.session = null;
  ctx.go('/login');
});

$('#lang').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
onLang(() => render());
addEventListener('hashchange', () => render());

function route() {
  const raw = location.hash.replace(/^#/, '') || '/impact';
  const [path, qs] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs || ''));
  const view = path.replace(/^\//, '').split('/')[0] || 'impact';
  return { view: ['impact', 'calendar', 'catalog', 'orders', 'institutions', 'payouts', 'admin', 'login'].includes(view) ? view : 'impact', query };
}

function renderHeader(view) {
  const who = $('#who');
  if (ctx.session) {
    const u = ctx.user;
    fill(who, h('span', {}, t('hello', { name: u.display_name || u.username }),
      u.region_code ? ' · ' + t('scope', { region: u.region_code }) : ''),
    ' ', h('button', { type: 'button', class: 'chip', onclick: async () => { await logout(); ctx.session = null; ctx.go('/login'); } }, t('logout')));
  } else fill(who);
  $('#nav-admin').hidden = !ctx.admin;
  for (const a of document.querySelectorAll('.nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function renderLogin(main) {
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'stack', id: 'login-form' },
    h('label', { for: 'username' }, t('username')),
    h('input', { id: 'username', name: 'username', required: true, autocomplete: 'username', autocapitalize: 'none' }),
    h('label', { for: 'password' }, t('password')),
    h('input', { id: 'password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' }),
    h('button', { type: 'submit', class: 'primary' }, t('login')), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const s = await login(form.username.value.trim(), form.password.value);
      if (!STAFF.has(s.user.role)) { await logout(); err.textContent = t('not_staff'); return; }
      ctx.session = s;
      ctx.go('/impact');
    } catch (e) { err.textContent = e.network ? t('offline') : e.status === 401 ? t('login_failed') : e.detail; }
  });
  fill(main, h('section', { class: 'narrow panel', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title' }, t('login_title')), h('p', { class: 'muted' }, t('login_intro')), form));
}

const screens = { impact: renderImpact, calendar: renderCalendar, catalog: renderCatalog, orders: renderOrders, institutions: renderInstitutions, payouts: renderPayouts, admin: renderAdmin };
let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  let r = route();
  if (!ctx.session && r.view !== 'login') { location.replace('#/login'); r = { view: 'login', query: {} }; }
  if (r.view === 'admin' && !ctx.admin) r = { view: 'impact', query: {} };
  renderHeader(r.view);
  if (!keepToast) ctx.toast('');
  keepToast = false;
  const main = $('#main');
  // A screen renders into a detached element, shown once it has its data
  // unless a newer render began meanwhile (charts are drawn once shown).
  const box = h('div', { class: 'view' });
  const after = [];
  ctx.afterShow = (f) => after.push(f);
  if (r.view === 'login') renderLogin(box);
  else await screens[r.view](box, ctx, r.query);
  if (seq !== renderSeq) return;
  fill(main, box);
  main.dataset.view = r.view;
  for (const f of after) f();
  main.dataset.ready = String(seq);
}

render();
