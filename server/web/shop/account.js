// Log in and register (a buyer's account: POST /auth/register, then the
// same login as every page).
import { api } from '../common/api.js';
import { fill, h } from '../common/dom.js';
import { t } from '../common/i18n.js';
import { login } from '../common/session.js';

function input(id, label, attrs) {
  return [h('label', { for: id }, label), h('input', { id, name: id, required: true, ...attrs })];
}

export function renderLogin(main, ctx, query) {
  const next = query.next === 'cart' ? '/cart' : query.next === 'orders' ? '/orders' : '/';
  const loginErr = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const regErr = h('p', { class: 'error', role: 'alert', id: 'register-error' });
  const loginForm = h('form', { class: 'stack', id: 'login-form' },
    input('username', t('username'), { autocomplete: 'username', autocapitalize: 'none' }),
    input('password', t('password'), { type: 'password', autocomplete: 'current-password' }),
    h('button', { type: 'submit', class: 'primary' }, t('login')), loginErr);
  const regForm = h('form', { class: 'stack', id: 'register-form' },
    input('reg-username', t('username'), { autocomplete: 'username', autocapitalize: 'none', minlength: 3, maxlength: 32 }),
    input('reg-password', t('password'), { type: 'password', autocomplete: 'new-password', minlength: 8, maxlength: 128 }),
    h('label', { for: 'reg-name' }, t('display_name')), h('input', { id: 'reg-name', name: 'reg-name', autocomplete: 'nickname' }),
    h('button', { type: 'submit' }, t('register')), regErr);
  const done = async (s) => {
    ctx.setSession(s);
    ctx.go(next);
  };
  loginForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    loginErr.textContent = '';
    try {
      await done(await login(loginForm.username.value.trim(), loginForm.password.value));
    } catch (e) {
      loginErr.textContent = e.network ? t('offline') : e.status === 401 ? t('login_failed') : e.detail;
    }
  });
  regForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    regErr.textContent = '';
    const username = regForm['reg-username'].value.trim(), password = regForm['reg-password'].value;
    const body = { username, password };
    if (regForm['reg-name'].value.trim()) body.display_name = regForm['reg-name'].value.trim();
    try {
      await api('/auth/register', { method: 'POST', body, auth: false });
      await done(await login(username, password));
    } catch (e) {
      regErr.textContent = e.network ? t('offline') : e.detail;
    }
  });
  fill(main,
    h('section', { 'aria-labelledby': 'login-title' }, h('h2', { id: 'login-title' }, t('login_title')), loginForm),
    h('section', { 'aria-labelledby': 'register-title' }, h('h2', { id: 'register-title' }, t('register_title')), regForm));
}
