// Strings read from heads, from a small cache: a sidecar sees the same few Host values, paths and
// reason phrases over and over, and `buf.toString()` is a call into C++ plus a new string each
// time. A direct-mapped table of recent strings, checked byte by byte, returns the same string
// for the same bytes (strings are immutable, so sharing one is safe). Longer values skip it.

const SIZE = 256; // power of two
const MAX_LEN = 64;
const table: string[] = new Array<string>(SIZE).fill("");

/** The latin1 string of buf[s, e), from the cache when the same bytes were read recently. */
export function latin1(buf: Buffer, s: number, e: number): string {
  const n = e - s;
  if (n <= 0) return "";
  if (n > MAX_LEN) return buf.toString("latin1", s, e);
  let h = n;
  for (let k = s; k < e; k++) h = (Math.imul(h, 31) + buf[k]!) | 0;
  const slot = h & (SIZE - 1);
  const hit = table[slot]!;
  if (hit.length === n) {
    let k = 0;
    while (k < n && hit.charCodeAt(k) === buf[s + k]) k++;
    if (k === n) return hit;
  }
  const str = buf.toString("latin1", s, e);
  table[slot] = str;
  return str;
}
