// The login: the API's token, kept in localStorage so that a reload while
// offline still knows who is working. Logging out forgets the token, never
// data that is waiting to be sent.
import { api, setToken } from './api.js';

const KEY = 'market.session';

export function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (s && s.token && s.user) {
      setToken(s.token);
      return s;
    }
  } catch { /* a damaged entry is no session */ }
  return null;
}

export async function login(username, password) {
  const r = await api('/auth/login', { method: 'POST', body: { username, password }, auth: false });
  const s = { token: r.token, expires_at: r.expires_at, user: r.user };
  localStorage.setItem(KEY, JSON.stringify(s));
  setToken(s.token);
  return s;
}

// Forgets the token here; tells the server when it can be reached.
export async function logout() {
  try { await api('/auth/logout', { method: 'POST' }); } catch { /* offline: the token expires by itself */ }
  forget();
}

// The token is no longer good (expired or revoked): keep the user, so the
// login form can ask for the password again.
export function expire() {
  const s = loadSession();
  if (s) localStorage.setItem(KEY, JSON.stringify({ ...s, token: null, expired: true }));
  setToken(null);
}

export function lastUser() {
  try { return JSON.parse(localStorage.getItem(KEY) || 'null')?.user || null; } catch { return null; }
}

function forget() {
  localStorage.removeItem(KEY);
  setToken(null);
}
