// The stall operators' page: start-up, login, the status bar, the stall
// picker and the tabs. Each tab is a module of its own (sale.js,
// attention.js, pickups.js, closeout.js).
import { apiAll, setUnauthorizedHandler, serverClockSkew } from '../common/api.js';
import { $, fill, h } from '../common/dom.js';
import { initI18n, lang, onLang, setLang, t } from '../common/i18n.js';
import { expire, lastUser, loadSession, login, logout } from '../common/session.js';
import { clockTime, shanghaiDate } from '../common/time.js';
import { en, zh } from './messages.js';
import * as queue from './queue.js';
import { block, onSyncChange, setUser, startSync, stopSync, syncNow, syncState } from './sync.js';
import { initSale, renderSale } from './sale.js';
import { renderAttention } from './attention.js';
import { renderPickups } from './pickups.js';
import { renderCloseout } from './closeout.js';

initI18n({ zh, en });

const ctx = {
  user: null,
  stalls: [],
  stall: null,   // the chosen stall, with its market day
  tab: 'sale',
  render,
};

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/stall/sw.js', { scope: '/stall/' }).catch(() => {});
}
if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});

setUnauthorizedHandler(() => {
  expire();
  block();
  showLogin(true);
});

$('#lang').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh'));
onLang(() => { renderStalls(); render(); renderStatus(); });

$('#logout').addEventListener('click', async () => {
  const pending = ctx.user ? (await queue.pendingSales(ctx.user.id)).length : 0;
  if (pending > 0 && !confirm(t('logout_pending', { n: pending }))) return;
  stopSync();
  await logout();
  ctx.user = null;
  showLogin(false);
});

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('#login-error');
  err.textContent = '';
  try {
    const s = await login($('#username').value.trim(), $('#password').value);
    if (s.user.role !== 'operator' && s.user.role !== 'coordinator' && s.user.role !== 'admin') {
      err.textContent = t('login_not_operator');
      return;
    }
    $('#password').value = '';
    await startWork(s.user);
  } catch (e) {
    err.textContent = e.network ? t('login_offline') : e.status === 401 ? t('login_failed') : e.detail;
  }
});

for (const b of document.querySelectorAll('.tab')) {
  b.addEventListener('click', () => { ctx.tab = b.dataset.tab; render(); });
}

$('#stall').addEventListener('change', () => {
  ctx.stall = ctx.stalls.find((s) => String(s.id) === $('#stall').value) || null;
  localStorage.setItem('market.stall', $('#stall').value);
  render();
});

onSyncChange(() => { renderStatus(); render(); });
addEventListener('online', renderStatus);
addEventListener('offline', renderStatus);

function showLogin(expired) {
  $('#work').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#login-expired').hidden = !expired;
  const u = lastUser();
  if (expired && u) $('#username').value = u.username;
  renderStatus();
  (expired ? $('#password') : $('#username')).focus();
}

async function startWork(user) {
  const first = ctx.user === null;
  ctx.user = user;
  $('#login').hidden = true;
  $('#work').hidden = false;
  $('#logout').hidden = false;
  if (first) startSync(user.id);
  else setUser(user.id);
  initSale(ctx);
  await loadStalls();
  render();
  renderStatus();
}

// The operator's stalls of the week before and the month ahead (today's
// first, then the coming ones, then the past), with their market days;
// cached for a start without a network. Two requests, however many stalls.
async function loadStalls() {
  const key = 'stalls:' + ctx.user.id;
  let stalls = await queue.cacheGet(key);
  const today = shanghaiDate();
  const from = shanghaiDate(Date.now() - 7 * 86400000), to = shanghaiDate(Date.now() + 31 * 86400000);
  try {
    const mine = (await apiAll('/stalls/mine', {}, 5)).filter((s) => s.market_day_date >= from && s.market_day_date <= to);
    const days = new Map((await apiAll('/market-days', { from, to }, 10)).map((d) => [d.id, d]));
    stalls = mine.filter((s) => days.has(s.market_day_id)).map((s) => ({ ...s, market_day: days.get(s.market_day_id) }));
    await queue.cachePut(key, stalls);
  } catch (e) {
    if (!e.network && e.status !== 401) throw e;
  }
  const rank = (s) => (s.market_day.date === today ? 0 : s.market_day.date > today ? 1 : 2);
  ctx.stalls = (stalls || []).sort((a, b) => rank(a) - rank(b) ||
    (rank(a) === 1 ? a.market_day.date.localeCompare(b.market_day.date) : b.market_day.date.localeCompare(a.market_day.date)) ||
    a.id - b.id);
  const saved = localStorage.getItem('market.stall');
  ctx.stall = ctx.stalls.find((s) => String(s.id) === saved && s.market_day.date === today) || ctx.stalls[0] || null;
  renderStalls();
}

function renderStalls() {
  const sel = $('#stall');
  const today = shanghaiDate();
  fill(sel, ctx.stalls.map((s) => h('option', { value: s.id, selected: ctx.stall && s.id === ctx.stall.id },
    t('stall_option', {
      date: s.market_day.date === today ? t('today') : s.market_day.date,
      venue: s.market_day.venue_name, label: s.label, producer: s.producer_name,
    }) + (s.market_day.status === 'cancelled' ? ' · ' + t('cancelled_day') : ''))));
  sel.disabled = ctx.stalls.length === 0;
}

async function renderStatus() {
  const st = syncState();
  const online = navigator.onLine && st.online !== false;
  const net = $('#net');
  net.textContent = online ? t('online') : t('offline');
  net.className = 'net ' + (online ? 'on' : 'off');
  // Logged out, the phone still holds what the last operators recorded.
  const n = ctx.user ? (await queue.pendingSales(ctx.user.id)).length : (await queue.salesInState('pending')).length;
  $('#pending-count').textContent = st.blocked ? t('syncing_blocked') : n ? t('pending', { n }) : t('all_synced');
  $('#last-sync').textContent = st.lastSync ? t('last_sync', { time: clockTime(st.lastSync) }) : t('never_synced');
  const attention = ctx.user ? (await queue.salesInState('attention')).filter((s) => s.user_id === ctx.user.id).length : 0;
  $('#attention-count').textContent = attention ? String(attention) : '';
  const skew = serverClockSkew();
  const warn = $('#clock-warning');
  warn.hidden = skew === null || Math.abs(skew) < 5 * 60 * 1000;
  if (!warn.hidden) warn.textContent = t('clock_warning', { min: Math.round(Math.abs(skew) / 60000) });
}

function render() {
  if (!ctx.user) return;
  for (const b of document.querySelectorAll('.tab')) {
    if (b.dataset.tab === ctx.tab) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  for (const name of ['sale', 'attention', 'pickups', 'closeout']) $('#tab-' + name).hidden = name !== ctx.tab;
  if (ctx.tab === 'sale') renderSale(ctx);
  else if (ctx.tab === 'attention') renderAttention(ctx);
  else if (ctx.tab === 'pickups') renderPickups(ctx);
  else renderCloseout(ctx);
  renderStatus();
}

// Start: a kept login works offline too; without one, the login form.
const session = loadSession();
if (session) startWork(session.user).then(() => syncNow());
else showLogin(Boolean(lastUser()));
