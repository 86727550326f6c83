// The stall page's service worker: the page starts from a cold start with
// no network once it has been opened once. The shell (/stall/) is served
// from the cache at once and refreshed behind it; the files it names are
// kept with it. Versioned files (/v/<build>/…) never change, so the cache
// answers them; other files go to the network first. The API is never
// touched here: the page keeps its own data (queue.js).
const CACHE = 'market-stall-shell';
const SHELL = new URL('/stall/', self.location.href).href;

self.addEventListener('install', (ev) => {
  ev.waitUntil(refreshShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  if (url.origin !== self.location.origin || ev.request.method !== 'GET' || url.pathname.startsWith('/api/')) return;
  if (ev.request.mode === 'navigate') {
    if (url.pathname === '/stall/' || url.pathname === '/stall/index.html') ev.respondWith(shell(ev));
    return;
  }
  if (url.pathname.startsWith('/v/')) ev.respondWith(cacheFirst(ev.request));
  else ev.respondWith(networkFirst(ev.request));
});

async function shell(ev) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(SHELL);
  const fresh = refreshShell();
  if (hit) {
    ev.waitUntil(fresh.catch(() => {}));
    return hit;
  }
  try {
    await fresh;
    return (await cache.match(SHELL)) || fetch(ev.request);
  } catch {
    return fetch(ev.request);
  }
}

// Fetches the shell and every file it names; keeps them all or none, and
// forgets versioned files no shell names any more.
async function refreshShell() {
  const cache = await caches.open(CACHE);
  const resp = await fetch(SHELL, { cache: 'no-cache' });
  if (!resp.ok) throw new Error('shell: ' + resp.status);
  const html = await resp.clone().text();
  const urls = new Set();
  for (const m of html.matchAll(/\s(?:src|href)="([^"#?]+)"/g)) {
    const u = new URL(m[1], SHELL);
    if (u.origin === self.location.origin && !u.pathname.endsWith('/')) urls.add(u.href);
  }
  const fetched = [];
  for (const u of urls) {
    if (u.includes('/v/') && (await cache.match(u))) continue;
    const r = await fetch(u, { cache: 'no-cache' });
    if (!r.ok) throw new Error(u + ': ' + r.status);
    fetched.push([u, r]);
  }
  for (const [u, r] of fetched) await cache.put(u, r);
  await cache.put(SHELL, resp);
  for (const req of await cache.keys()) {
    if (req.url.includes('/v/') && !urls.has(req.url)) await cache.delete(req);
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const resp = await fetch(request);
  if (resp.ok) await cache.put(request, resp.clone());
  return resp;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const resp = await fetch(request);
    if (resp.ok) await cache.put(request, resp.clone());
    return resp;
  } catch (e) {
    const hit = await cache.match(request, { ignoreSearch: true });
    if (hit) return hit;
    throw e;
  }
}
