// The offline queue: every sale made on this phone, in IndexedDB, and the
// only code that touches it. A sale is written here before anything else
// happens to it, and its state is data the operator can see:
//   pending    recorded here, not yet acknowledged by the server
//   synced     the server answered created or duplicate
//   attention  the server refused it (error holds its problem); the
//              operator corrects it (as a new sale) or discards it
//   discarded  refused, and the operator chose to drop it
// Also a small key-value store for what the page caches (stalls,
// products and when their prices were read).
const DB = 'market-stall';
const VERSION = 1;
let dbp = null;

function open() {
  if (!dbp) {
    dbp = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        const sales = db.createObjectStore('sales', { keyPath: 'id' });
        sales.createIndex('state', 'state');
        db.createObjectStore('cache');
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbp;
}

async function tx(stores, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(stores, mode, { durability: 'strict' });
    let result;
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
    result = fn(t);
  });
}

const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

// Stores a new sale record ({id, user_id, stall_id, body, total_fen, ...})
// as pending; resolves once the write is durable.
export function addSale(rec) {
  return tx(['sales'], 'readwrite', (t) => {
    t.objectStore('sales').add({ ...rec, state: 'pending', created_ms: Date.now() });
  });
}

export async function getSale(id) {
  return tx(['sales'], 'readonly', (t) => req(t.objectStore('sales').get(id))).then((x) => x);
}

async function getAll(state) {
  const db = await open();
  const t = db.transaction(['sales'], 'readonly');
  const s = t.objectStore('sales');
  const all = await req(state ? s.index('state').getAll(state) : s.getAll());
  return all.sort((a, b) => a.created_ms - b.created_ms || (a.id < b.id ? -1 : 1));
}

// The user's pending sales, oldest first, at most limit.
export async function pendingSales(userId, limit = 500) {
  return (await getAll('pending')).filter((s) => s.user_id === userId).slice(0, limit);
}

export const salesInState = (state) => getAll(state);
export const allSales = () => getAll(null);

// Changes one sale's record with fn(rec) inside one transaction, so two
// tabs never overwrite each other's change.
export function updateSale(id, fn) {
  return tx(['sales'], 'readwrite', (t) => {
    const s = t.objectStore('sales');
    const g = s.get(id);
    g.onsuccess = () => {
      if (g.result) s.put(fn(g.result));
    };
  });
}

export const markSynced = (id, sale) => updateSale(id, (r) =>
  r.state === 'pending' ? { ...r, state: 'synced', server: sale, synced_ms: Date.now(), error: null } : r);
export const markAttention = (id, problem) => updateSale(id, (r) =>
  r.state === 'pending' ? { ...r, state: 'attention', error: problem } : r);
export const markDiscarded = (id) => updateSale(id, (r) =>
  r.state === 'attention' ? { ...r, state: 'discarded', discarded_ms: Date.now() } : r);
export const markVoided = (id, reason) => updateSale(id, (r) => ({ ...r, voided: true, void_reason: reason }));

export function cacheGet(key) {
  return tx(['cache'], 'readonly', (t) => req(t.objectStore('cache').get(key))).then((x) => x);
}

export function cachePut(key, value) {
  return tx(['cache'], 'readwrite', (t) => { t.objectStore('cache').put(value, key); });
}
