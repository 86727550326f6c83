// CSV (RFC 4180) into rows of fields: quoted fields may hold commas,
// quotes ("") and line breaks; CRLF or LF ends a row; a byte-order mark
// at the start is dropped. Returns null when a quote is left open.
export function parseCsv(text) {
  const rows = [];
  let row = [], f = '', i = 0, quoted = false;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') quoted = false; else f += c;
    } else if (c === '"' && f === '') quoted = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(f); rows.push(row); row = []; f = '';
    } else f += c;
  }
  if (quoted) return null;
  if (f !== '' || row.length) { row.push(f); rows.push(row); }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}
