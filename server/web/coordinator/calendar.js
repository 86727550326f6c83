// The market-day calendar: a month by venue and channel; create a market
// day or a caravan route (its stops go in one batch, all or none); open,
// close or cancel a day; the day's stalls, and assigning one (operator
// and producer).
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { shanghaiDate } from '../common/time.js';
import { CHANNELS, addDays, errText, field, loadProducers, loadVenues, select, table } from './ui.js';

// Which status a day may be moved to from its own (the contract's).
const MOVES = { scheduled: ['open', 'cancelled'], open: ['closed', 'cancelled'], closed: [], cancelled: [] };

export async function renderCalendar(main, ctx, query) {
  const month = /^\d{4}-\d{2}$/.test(query.month || '') ? query.month : shanghaiDate().slice(0, 7);
  const first = month + '-01';
  const last = addDays(addDays(first, 32).slice(0, 7) + '-01', -1);
  const err = h('p', { class: 'error', role: 'alert' });
  let venues = [], days = [];
  try {
    venues = await loadVenues(true);
    days = await apiAll('/market-days', { from: first, to: last, venue: query.venue, channel: query.channel });
  } catch (e) { err.textContent = errText(e); }
  const venueOpts = venues.map((v) => [v.id, v.name]);
  const filter = h('form', { class: 'row', id: 'calendar-filter' },
    field('month', t('month'), { type: 'month', value: month, required: true }),
    select('venue', t('venue'), [['', t('all_venues')], ...venueOpts], query.venue),
    select('channel', t('channel'), [['', t('all_channels')], ...CHANNELS.map((c) => [c, t('ch_' + c)])], query.channel),
    h('button', { type: 'submit', class: 'primary' }, t('show')));
  const go = (extra = {}) => ctx.go('/calendar', { month: filter.month.value, venue: filter.venue.value, channel: filter.channel.value, ...extra });
  filter.addEventListener('submit', (ev) => { ev.preventDefault(); go(); });
  const prev = addDays(first, -1).slice(0, 7), next = addDays(last, 1).slice(0, 7);
  const nav = h('p', { class: 'actions' },
    h('a', { href: '#/calendar?' + new URLSearchParams({ ...query, month: prev, day: '' }), class: 'chip' }, '‹ ' + prev),
    h('a', { href: '#/calendar?' + new URLSearchParams({ ...query, month: next, day: '' }), class: 'chip' }, next + ' ›'));

  // The month grid, Monday first.
  const lead = (new Date(first + 'T00:00:00Z').getUTCDay() + 6) % 7;
  const cells = [];
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) cells.push(h('div', { class: 'dow', 'aria-hidden': 'true' }, t('dow_' + d)));
  for (let i = 0; i < lead; i++) cells.push(h('div', { class: 'cell other', 'aria-hidden': 'true' }));
  const selected = Number(query.day) || null;
  for (let date = first; date <= last; date = addDays(date, 1)) {
    const those = days.filter((d) => d.date === date);
    cells.push(h('div', { class: 'cell', dataset: { date } },
      h('div', { class: 'date' }, date.slice(8)),
      those.length ? h('ul', { 'aria-label': date }, those.map((d) => h('li', {},
        h('button', { type: 'button', class: `day ch-${d.channel} st-${d.status}`, 'aria-pressed': String(d.id === selected), dataset: { day: d.id },
          onclick: () => go({ day: d.id }) },
        `${d.venue_name} · ${t('ch_' + d.channel)}`, h('br'), `${d.opens_at}–${d.closes_at} · ${t('st_' + d.status)}`)))) : null));
  }
  fill(main, h('h2', {}, t('calendar_title')), filter, nav, err,
    h('section', { class: 'panel', 'aria-label': t('calendar_month', { month }) }, h('div', { class: 'cal', id: 'calendar' }, cells)));

  const day = days.find((d) => d.id === selected) || (selected ? await api('/market-days/' + selected).catch(() => null) : null);
  if (day) main.append(await dayPanel(ctx, day, go));
  main.append(createPanel(ctx, venues, go), routePanel(ctx, venues, go));
}

async function dayPanel(ctx, day, go) {
  const err = h('p', { class: 'error', role: 'alert' });
  const setStatus = async (status) => {
    err.textContent = '';
    try { await api('/market-days/' + day.id, { method: 'PATCH', body: { status } }); ctx.toast(t('day_now', { status: t('st_' + status) })); go({ day: day.id }); } catch (e) { err.textContent = errText(e); }
  };
  const label = { open: t('open_day'), closed: t('close_day'), cancelled: t('cancel_day') };
  let stalls = [], producers = [], operators = [];
  try {
    stalls = (await apiAll('/market-days/' + day.id + '/stalls'));
    producers = await loadProducers();
    if (ctx.admin) operators = (await apiAll('/users', {}, 10)).filter((u) => u.role === 'operator' && u.active);
  } catch (e) { err.textContent = errText(e); }
  const name = (id) => (producers.find((p) => p.id === id) || {}).name || id;
  const opName = (id) => { const u = operators.find((o) => o.id === id); return u ? `${u.display_name || u.username} (${u.id})` : String(id); };
  const stallErr = h('p', { class: 'error', role: 'alert' });
  const scoped = ctx.user.region_code;
  const stallForm = h('form', { class: 'row', id: 'stall-form' },
    field('label', t('stall_label'), { required: true, maxlength: 64 }),
    operators.length ? select('operator_id', t('operator'), operators.map((u) => [u.id, opName(u.id)]), '')
      : field('operator_id', t('operator_id'), { type: 'number', min: 1, required: true }),
    select('producer_id', t('producer'), producers.filter((p) => !scoped || p.region_code === scoped).map((p) => [p.id, p.name]), ''),
    h('button', { type: 'submit', class: 'primary' }, t('assign_stall')), stallErr);
  stallForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    stallErr.textContent = '';
    try {
      await api('/market-days/' + day.id + '/stalls', { method: 'POST', body: {
        label: stallForm.label.value.trim(), operator_id: Number(stallForm.operator_id.value), producer_id: Number(stallForm.producer_id.value) } });
      ctx.toast(t('stall_assigned', { label: stallForm.label.value.trim() }));
      go({ day: day.id });
    } catch (e) { stallErr.textContent = errText(e); }
  });
  return h('section', { class: 'panel', id: 'day-panel', 'aria-labelledby': 'day-title', dataset: { day: day.id, status: day.status } },
    h('h3', { id: 'day-title' }, `${day.date} ${day.venue_name}`, day.title ? ' · ' + day.title : ''),
    h('p', {}, `${t('ch_' + day.channel)} · ${day.opens_at}–${day.closes_at} · `, h('span', { class: 'status status-' + day.status }, t('st_' + day.status))),
    h('div', { class: 'actions' }, MOVES[day.status].map((s) => h('button', { type: 'button', class: s === 'cancelled' ? 'danger' : null, onclick: () => setStatus(s) }, label[s]))),
    err,
    h('h4', {}, t('stalls')),
    stalls.length ? table(null, [{ label: t('stall_label') }, { label: t('operator') }, { label: t('producer') }],
      stalls.map((s) => [s.label, opName(s.operator_id), s.producer_name || name(s.producer_id)]), { id: 'stalls-table' })
      : h('p', { class: 'muted' }, t('no_stalls')),
    day.status === 'cancelled' || day.status === 'closed' ? null : stallForm);
}

function dayFields(venues, prefix = '') {
  return [select('venue_id', t('venue'), venues.map((v) => [v.id, v.name]), '', { id: prefix + 'venue' }),
    field('date', t('date'), { type: 'date', required: true, id: prefix + 'date' }),
    field('opens_at', t('opens_at'), { type: 'time', value: '09:00', required: true, id: prefix + 'opens' }),
    field('closes_at', t('closes_at'), { type: 'time', value: '17:00', required: true, id: prefix + 'closes' })];
}

function createPanel(ctx, venues, go) {
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row', id: 'day-form' }, dayFields(venues, 'new-'),
    select('channel', t('channel'), CHANNELS.map((c) => [c, t('ch_' + c)]), 'holiday_market', { id: 'new-channel' }),
    field('title', t('day_title'), { maxlength: 100, id: 'new-title' }),
    h('button', { type: 'submit', class: 'primary' }, t('create_day')), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const body = { venue_id: Number(form.venue_id.value), date: form.date.value, opens_at: form.opens_at.value, closes_at: form.closes_at.value, channel: form.channel.value };
    if (form.title.value.trim()) body.title = form.title.value.trim();
    try {
      const d = await api('/market-days', { method: 'POST', body });
      ctx.toast(t('day_created', { date: d.date }));
      go({ month: d.date.slice(0, 7), day: d.id });
    } catch (e) { err.textContent = errText(e); }
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'new-day-title' }, h('h3', { id: 'new-day-title' }, t('new_day')), form);
}

// A caravan route: one stop a row (venue, date, hours), sent as one batch.
function routePanel(ctx, venues, go) {
  const err = h('p', { class: 'error', role: 'alert' });
  const stops = h('ol', { class: 'stops', id: 'route-stops' });
  let k = 0;
  const addStop = () => {
    const i = ++k;
    const row = h('li', { class: 'row stop' }, dayFields(venues, `stop${i}-`), h('span', { class: 'error stop-error', role: 'alert' }),
      h('button', { type: 'button', 'aria-label': t('remove_stop', { n: i }), onclick: () => row.remove() }, '×'));
    stops.append(row);
  };
  addStop();
  const form = h('form', { id: 'route-form' },
    field('route_title', t('route_title'), { maxlength: 100, id: 'route-title' }), stops,
    h('p', { class: 'actions' }, h('button', { type: 'button', id: 'add-stop', onclick: addStop }, t('add_stop')),
      h('button', { type: 'submit', class: 'primary' }, t('create_route'))), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const rows = [...stops.children];
    for (const r of rows) r.querySelector('.stop-error').textContent = '';
    const title = form.route_title.value.trim();
    const items = rows.map((r) => {
      const v = (n) => r.querySelector(`[name="${n}"]`).value;
      const item = { venue_id: Number(v('venue_id')), date: v('date'), opens_at: v('opens_at'), closes_at: v('closes_at'), channel: 'caravan' };
      if (title) item.title = title;
      return item;
    });
    try {
      const r = await api('/market-days/batch', { method: 'POST', body: { items } });
      ctx.toast(t('route_created', { n: r.items.length }));
      go({ month: r.items[0].date.slice(0, 7), channel: '', venue: '' });
    } catch (e) {
      // The batch is all or none: the item at fault is named by its index.
      const m = /^items\[(\d+)\]/.exec(e.field || '');
      if (m && rows[Number(m[1])]) rows[Number(m[1])].querySelector('.stop-error').textContent = errText(e);
      err.textContent = m ? t('route_refused', { n: Number(m[1]) + 1, detail: errText(e) }) : errText(e);
    }
  });
  return h('section', { class: 'panel', 'aria-labelledby': 'route-h' }, h('h3', { id: 'route-h' }, t('new_route')), h('p', { class: 'muted' }, t('route_note')), form);
}
