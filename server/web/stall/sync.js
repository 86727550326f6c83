// Sending pending sales: POST /sales/batch, at most 500 a request,
// whenever the page is online: after each sale, on the online event, when
// the page becomes visible, and on a timer that backs off while the server
// cannot be reached. created and duplicate mark a sale synced; error moves
// it to "needs attention" with the server's reason. A reply lost after the
// server stored the batch leaves the sales pending: they are sent again
// and the server answers duplicate, so each counts once.
//
// Two tabs never send at once: the batch is read and sent under a Web
// Lock (the server's idempotency on sale ids is the backstop where the
// browser has no Web Locks).
import { api } from '../common/api.js';
import * as queue from './queue.js';

const LOCK = 'market-stall-sync';
const BATCH = 500;
const MIN_DELAY = 5000;
const MAX_DELAY = 5 * 60 * 1000;

const state = {
  userId: null,
  online: navigator.onLine,
  lastSync: Number(localStorage.getItem('market.lastSync')) || null,
  blocked: false,      // the token expired: nothing is sent until a new login
  delay: MIN_DELAY,
  timer: null,
  running: false,
};
const listeners = new Set();
const channel = 'BroadcastChannel' in self ? new BroadcastChannel('market-stall') : null;

export function syncState() { return { ...state }; }
export function onSyncChange(f) { listeners.add(f); }

function changed(broadcast = true) {
  for (const f of listeners) f(syncState());
  if (broadcast && channel) channel.postMessage('changed');
}
if (channel) channel.onmessage = () => changed(false);

export function startSync(userId) {
  state.userId = userId;
  state.blocked = false;
  addEventListener('online', () => { state.online = true; changed(false); syncSoon(0); });
  addEventListener('offline', () => { state.online = false; changed(false); });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') syncSoon(0);
  });
  syncSoon(0);
}

export function setUser(userId) {
  state.userId = userId;
  state.blocked = false;
  syncSoon(0);
}

export function stopSync() {
  state.userId = null;
  clearTimeout(state.timer);
}

// The token expired (a 401): keep everything, send nothing until a login.
export function block() {
  state.blocked = true;
  clearTimeout(state.timer);
  changed(false);
}

export function syncSoon(ms = 0) {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => { syncNow(); }, ms);
}

// One round: sends every pending sale of the user, a batch at a time.
export async function syncNow() {
  if (state.userId === null || state.blocked || state.running) return;
  if (!navigator.onLine) {
    // No network at all: the online event starts the next round.
    state.online = false;
    changed(false);
    return;
  }
  state.running = true;
  let outcome;
  try {
    outcome = navigator.locks
      ? await navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => (lock ? sendAll() : 'busy'))
      : await sendAll();
  } finally {
    state.running = false;
  }
  if (outcome === 'busy') {
    syncSoon(2000); // another tab is sending; look again after it
  } else if (outcome === 'retry') {
    syncSoon(state.delay);
    state.delay = Math.min(state.delay * 2, MAX_DELAY);
  } else {
    state.delay = MIN_DELAY;
    // Still look now and then: another tab may have left something.
    syncSoon(MAX_DELAY);
  }
}

async function sendAll() {
  for (;;) {
    const batch = await queue.pendingSales(state.userId, BATCH);
    if (batch.length === 0) return 'done';
    let reply;
    try {
      reply = await api('/sales/batch', { method: 'POST', body: { sales: batch.map((s) => s.body) }, timeout: 30000 });
    } catch (e) {
      if (e.network) {
        state.online = false;
      } else if (e.status === 401) {
        block();
        return 'blocked';
      }
      changed(false);
      return 'retry';
    }
    state.online = true;
    for (const res of reply.results) {
      if (res.status === 'created' || res.status === 'duplicate') await queue.markSynced(res.id, res.sale || null);
      else if (res.status === 'error') await queue.markAttention(res.id, res.error || { code: 'unknown' });
    }
    state.lastSync = Date.now();
    localStorage.setItem('market.lastSync', String(state.lastSync));
    changed();
  }
}

// A local change (a new sale, a discard): tell this tab's screens and the
// other tabs.
export function notifyChanged() { changed(); }
