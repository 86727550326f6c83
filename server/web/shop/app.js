// The shop: start-up, the header (cart count, login, language) and a
// small hash router: #/ (browse), #/p/ID, #/cart, #/login, #/orders,
// #/orders/ID. Each view is a module of its own.
import { setUnauthorizedHandler } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { initI18n, lang, onLang, setLang, t } from '../common/i18n.js';
import { expire, loadSession, logout } from '../common/session.js';
import { en, zh } from './messages.js';
import { cartCount, onCart } from './cart.js';
import { renderBrowse, renderProduct } from './browse.js';
import { renderCart } from './checkout.js';
import { renderLogin } from './account.js';
import { renderOrder, renderOrders } from './orders.js';

initI18n({ zh, en });

const ctx = {
  session: loadSession(),
  lang,
  go(path, query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query || {})) if (v) q.set(k, v);
    const target = '#' + path + ([...q].length ? '?' + q : '');
    if (location.hash === target) render();
    else location.hash = target;
  },
  rerender: () => render(),
  setSession(s) { ctx.session = s; renderHeader(); },
  // A short message in the status line: now, or (next) on the next view.
  toast(text, next = false) {
    if (next) { pendingToast = text; return; }
    const el = $('#toast');
    el.textContent = text;
    el.hidden = false;
  },
};

setUnauthorizedHandler(() => {
  expire();
  ctx.session = null;
  renderHeader();
  ctx.go('/login');
});

$('#lang').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
onLang(() => { renderHeader(); render(); });
onCart(renderHeader);
addEventListener('storage', (ev) => { if (ev.key === 'market.cart') { renderHeader(); render(); } });
addEventListener('hashchange', () => render());

function renderHeader() {
  const n = cartCount();
  fill($('#cart-count'), n ? String(n) : '');
  $('#nav-cart').setAttribute('aria-label', t('nav_cart') + (n ? ' ' + n : ''));
  const who = $('#who');
  if (ctx.session) {
    fill(who, h('span', { class: 'hello' }, t('hello', { name: ctx.session.user.display_name || ctx.session.user.username })),
      h('button', { type: 'button', class: 'chip', onclick: async () => { await logout(); ctx.session = null; renderHeader(); ctx.go('/'); } }, t('logout')));
  } else {
    fill(who, h('a', { href: '#/login', class: 'chip' }, t('nav_login')));
  }
  for (const a of document.querySelectorAll('.nav a')) {
    const here = route().view === a.dataset.view;
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function route() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?');
  const query = Object.fromEntries(new URLSearchParams(qs || ''));
  let m;
  if ((m = /^\/p\/(\d+)$/.exec(path))) return { view: 'browse', product: m[1], query };
  if (path === '/cart') return { view: 'cart', query };
  if (path === '/login') return { view: 'login', query };
  if (path === '/orders') return { view: 'orders', query };
  if ((m = /^\/orders\/(\d+)$/.exec(path))) return { view: 'orders', order: m[1], query };
  return { view: 'browse', query };
}

let renderSeq = 0;
let pendingToast = null;
async function render() {
  const seq = ++renderSeq;
  const r = route();
  const main = $('#main');
  // A view renders into a detached element, shown only if no newer render began.
  const box = h('div', { class: 'view' });
  renderHeader();
  if (r.view === 'browse' && r.product) await renderProduct(box, ctx, r.product);
  else if (r.view === 'browse') await renderBrowse(box, ctx, r.query);
  else if (r.view === 'cart') await renderCart(box, ctx);
  else if (r.view === 'login') renderLogin(box, ctx, r.query);
  else if (r.order) await renderOrder(box, ctx, r.order);
  else await renderOrders(box, ctx);
  if (seq !== renderSeq) return;
  fill(main, box);
  main.dataset.view = r.view;
  const toast = $('#toast');
  toast.hidden = pendingToast === null;
  toast.textContent = pendingToast || '';
  pendingToast = null;
}

render();
