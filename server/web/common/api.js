// The API client: one fetch wrapper. A problem object (RFC 9457) becomes
// an ApiError with its status, code, field and detail; a request that
// never got an answer becomes an ApiError with code "network".
import { lang } from './i18n.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || problem.code);
    this.status = status;
    this.code = problem.code;
    this.field = problem.field || null;
    this.detail = problem.detail || problem.title || '';
    this.problem = problem;
  }
  get network() { return this.code === 'network'; }
}

let token = null;
let onUnauthorized = () => {};
// How far the server's clock is ahead of this phone's, in ms, from the
// Date header of the last answer (null until one came).
let clockSkew = null;

export function setToken(t) { token = t; }
export function setUnauthorizedHandler(f) { onUnauthorized = f; }
export function serverClockSkew() { return clockSkew; }

// api('/products', {query: {limit: 200}}) → the parsed JSON body.
export async function api(path, { method = 'GET', body, query, headers = {}, auth = true, timeout = 20000 } = {}) {
  let url = '/api/v1' + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    if ([...q].length) url += '?' + q;
  }
  const h = { 'Accept': 'application/json', 'Accept-Language': lang() === 'zh' ? 'zh-CN' : 'en', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (auth && token) h['Authorization'] = 'Bearer ' + token;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  let resp;
  try {
    resp = await fetch(url, {
      method, headers: h, signal: ctl.signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, { code: 'network', detail: String(e && e.message || e) });
  } finally {
    clearTimeout(timer);
  }
  const date = Date.parse(resp.headers.get('Date') || '');
  if (!Number.isNaN(date)) clockSkew = date - Date.now();
  if (resp.status === 204) return null;
  let data = null;
  const type = resp.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try { data = await resp.json(); } catch { data = null; }
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data && data.code ? data : { code: 'http_' + resp.status });
    if (resp.status === 401 && auth && token) onUnauthorized(err);
    throw err;
  }
  return data;
}

// A request whose answer is not JSON (a CSV download): the Response, once
// it is a 2xx; a problem object becomes an ApiError as in api().
export async function apiRaw(path, { query, headers = {} } = {}) {
  let url = '/api/v1' + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    if ([...q].length) url += '?' + q;
  }
  const h = { 'Accept-Language': lang() === 'zh' ? 'zh-CN' : 'en', ...headers };
  if (token) h['Authorization'] = 'Bearer ' + token;
  let resp;
  try {
    resp = await fetch(url, { headers: h, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, { code: 'network', detail: String(e && e.message || e) });
  }
  if (!resp.ok) {
    let data = null;
    try { data = await resp.json(); } catch { data = null; }
    const err = new ApiError(resp.status, data && data.code ? data : { code: 'http_' + resp.status });
    if (resp.status === 401 && token) onUnauthorized(err);
    throw err;
  }
  return resp;
}

// Every item of a list, following next_cursor (at most pages pages);
// onPage, if given, sees the items so far after each page but the last.
export async function apiAll(path, query = {}, pages = 50, onPage = null) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < pages; i++) {
    const page = await api(path, { query: { ...query, limit: 200, cursor } });
    items.push(...page.items);
    if (onPage && page.next_cursor) onPage(items);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  return items;
}
