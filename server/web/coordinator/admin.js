// Admins: users (role, region scope, a buyer's institution, active) edited in place, a new user,
// and the audit log (newest first, by user).
import { api, apiAll } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { clockTime, shanghaiDate } from '../common/time.js';
import { errText, field, loadRegions, regionName, select, table } from './ui.js';

const ROLES = ['buyer', 'operator', 'coordinator', 'admin'];

export async function renderAdmin(main, ctx, query) {
  const err = h('p', { class: 'error', role: 'alert' });
  let users = [], audit = { items: [] }, regions = [], institutions = [];
  try {
    regions = await loadRegions();
    users = await apiAll('/users', {}, 20);
    institutions = await apiAll('/institutions', {}, 20);
    audit = await api('/audit', { query: { limit: 100, user: query.user } });
  } catch (e) { err.textContent = errText(e); }
  const regionOpts = [['', t('no_scope')], ...regions.map((r) => [r.code, regionName(r.code, ctx.lang())])];
  const rows = users.map((u) => {
    const role = h('select', { 'aria-label': t('role_of', { name: u.username }) }, ROLES.map((r) => h('option', { value: r, selected: r === u.role }, t('role_' + r))));
    const region = h('select', { 'aria-label': t('scope_of', { name: u.username }) }, regionOpts.map(([v, text]) => h('option', { value: v, selected: v === (u.region_code || '') }, text)));
    // An institution is only a buyer's (the server refuses it on another role).
    const inst = h('select', { 'aria-label': t('institution_of', { name: u.username }), disabled: u.role !== 'buyer' },
      [['', t('no_institution')], ...institutions.map((i) => [String(i.id), i.name])].map(([v, text]) => h('option', { value: v, selected: v === String(u.institution_id ?? '') }, text)));
    role.addEventListener('change', () => { inst.disabled = role.value !== 'buyer'; if (inst.disabled) inst.value = ''; });
    const active = h('input', { type: 'checkbox', checked: u.active, 'aria-label': t('active_of', { name: u.username }) });
    const status = h('span', { class: 'row-status', role: 'status' });
    const save = async () => {
      status.textContent = '';
      status.className = 'row-status';
      const b = {};
      if (role.value !== u.role) b.role = role.value;
      const rc = role.value === 'coordinator' ? region.value || null : null;
      if (rc !== (u.region_code || null) || (b.role && role.value === 'coordinator')) b.region_code = rc;
      if (active.checked !== u.active) b.active = active.checked;
      const ii = role.value === 'buyer' && inst.value ? Number(inst.value) : null;
      if (ii !== (u.institution_id ?? null)) b.institution_id = ii;
      if (!Object.keys(b).length) { status.textContent = t('nothing_changed'); return; }
      try { await api('/users/' + u.id, { method: 'PATCH', body: b }); ctx.toast(t('user_saved', { name: u.username })); ctx.rerender(); } catch (e) { status.textContent = errText(e); status.classList.add('error'); }
    };
    return h('tr', { dataset: { user: u.id } }, h('th', { scope: 'row' }, u.username), h('td', {}, u.display_name || ''),
      h('td', {}, role), h('td', {}, region), h('td', {}, inst), h('td', {}, active),
      h('td', {}, h('button', { type: 'button', 'aria-label': t('save_named', { name: u.username }), onclick: save }, t('save')), ' ', status));
  });
  const newErr = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'row', id: 'user-form' },
    field('username', t('username'), { required: true, minlength: 3, maxlength: 32, autocomplete: 'off' }),
    field('password', t('password'), { type: 'password', required: true, minlength: 8, maxlength: 128, autocomplete: 'new-password' }),
    field('display_name', t('display_name'), { maxlength: 64 }),
    select('role', t('role'), ROLES.map((r) => [r, t('role_' + r)]), 'operator'),
    select('region_code', t('scope'), regionOpts, ''),
    h('button', { type: 'submit', class: 'primary' }, t('add_user')), newErr);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    newErr.textContent = '';
    const b = { username: form.username.value.trim(), password: form.password.value, role: form.role.value };
    if (form.display_name.value.trim()) b.display_name = form.display_name.value.trim();
    if (form.role.value === 'coordinator' && form.region_code.value) b.region_code = form.region_code.value;
    try { await api('/users', { method: 'POST', body: b }); ctx.toast(t('user_saved', { name: b.username })); ctx.rerender(); } catch (e) { newErr.textContent = errText(e); }
  });
  const auditFilter = h('form', { class: 'row', id: 'audit-filter' },
    select('user', t('by_user'), [['', t('all_users')], ...users.map((u) => [u.id, u.username])], query.user),
    h('button', { type: 'submit' }, t('show')));
  auditFilter.addEventListener('submit', (ev) => { ev.preventDefault(); ctx.go('/admin', { user: auditFilter.user.value }); });
  fill(main, h('h2', {}, t('admin_title')), err,
    h('section', { class: 'panel', 'aria-labelledby': 'users-h' }, h('h3', { id: 'users-h' }, t('users')),
      table(null, [{ label: t('username') }, { label: t('display_name') }, { label: t('role') }, { label: t('scope') }, { label: t('institution') }, { label: t('active') }, { label: '' }], rows, { id: 'users-table' }),
      h('h4', {}, t('new_user')), form),
    h('section', { class: 'panel', 'aria-labelledby': 'audit-h' }, h('h3', { id: 'audit-h' }, t('audit')), auditFilter,
      table(t('audit_latest', { n: audit.items.length }), [{ label: t('at') }, { label: t('user') }, { label: t('action') }, { label: t('object') }, { label: t('remote') }],
        audit.items.map((a) => h('tr', { dataset: { audit: a.id } },
          h('td', {}, shanghaiDate(Date.parse(a.at)) + ' ' + clockTime(Date.parse(a.at))), h('td', {}, a.username), h('td', {}, h('code', {}, a.action)),
          h('td', {}, `${a.object_type} ${a.object_id ?? ''}`), h('td', {}, a.remote_addr))), { id: 'audit-table' })));
}
