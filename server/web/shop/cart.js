// The cart, kept in localStorage so that it survives a reload, and the
// checkout attempt: one Idempotency-Key per attempt, kept (with the body
// it was made for) until the server has answered, so a double tap or a
// retry after a lost reply sends the same key and never places two orders.
const CART = 'market.cart';
const ATTEMPT = 'market.checkout';

// [{product_id, quantity, name, unit, price_fen}] in the order added.
export function cartLines() {
  try {
    const lines = JSON.parse(localStorage.getItem(CART) || '[]');
    return Array.isArray(lines) ? lines.filter((l) => Number.isSafeInteger(l.product_id) && Number.isSafeInteger(l.quantity) && l.quantity > 0) : [];
  } catch { return []; }
}

function save(lines) {
  localStorage.setItem(CART, JSON.stringify(lines));
  for (const f of listeners) f(lines);
}

const listeners = new Set();
export function onCart(f) { listeners.add(f); }

export function addToCart(product, n = 1) {
  const lines = cartLines();
  const line = lines.find((l) => l.product_id === product.id);
  if (line) line.quantity += n;
  else lines.push({ product_id: product.id, quantity: n, name: product.name, unit: product.unit, price_fen: product.price_fen });
  save(lines);
}

export function setQuantity(productId, n) {
  save(cartLines().map((l) => (l.product_id === productId ? { ...l, quantity: n } : l)).filter((l) => l.quantity > 0));
}

export function clearCart() { save([]); }

export const cartCount = () => cartLines().reduce((n, l) => n + l.quantity, 0);

// The total in fen: integer arithmetic only.
export function cartTotal(lines = cartLines()) {
  let total = 0;
  for (const l of lines) {
    total += l.price_fen * l.quantity;
    if (!Number.isSafeInteger(total)) throw new RangeError('total out of range');
  }
  return total;
}

// The key for this order body: the kept attempt's when it was made for
// the same body (a retry), else a new one, kept at once.
export function attemptKey(bodyText) {
  try {
    const a = JSON.parse(sessionStorage.getItem(ATTEMPT) || 'null');
    if (a && a.body === bodyText && a.key) return a.key;
  } catch { /* a damaged entry is no attempt */ }
  const key = crypto.randomUUID();
  sessionStorage.setItem(ATTEMPT, JSON.stringify({ key, body: bodyText }));
  return key;
}

// The server answered (an order, or a refusal that stored nothing).
export function endAttempt() { sessionStorage.removeItem(ATTEMPT); }
