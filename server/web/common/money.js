// Money is integer fen. These are the only functions that turn fen into
// text or text into fen, and neither goes through floating point.

// 1230 → "¥12.30"; -5 → "-¥0.05". Thousands are grouped: "¥1,234.50".
export function yuan(fen) {
  if (!Number.isSafeInteger(fen)) throw new TypeError('fen must be a safe integer');
  const digits = String(Math.abs(fen)).padStart(3, '0');
  const whole = digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (fen < 0 ? '-' : '') + '¥' + whole + '.' + digits.slice(-2);
}

// 1230 → "12.30": the amount as a person types it, without sign or grouping.
export function plainYuan(fen) {
  return yuan(Math.abs(fen)).slice(1).replace(/,/g, '');
}

// "12", "12.3", "12.30" (yuan, as typed) → 1230; null when it is not an
// amount of at most two decimals.
export function parseYuan(text) {
  const m = /^\s*(\d{1,13})(?:[.](\d{0,2}))?\s*$/.exec(String(text));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}
