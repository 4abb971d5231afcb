// Byte classes for the HTTP/1.1 grammar (RFC 9110 §5.6.2, RFC 9112), as lookup tables so the
// scanners are one array load per byte.

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
export const TOKEN: Uint8Array = table((c) => isAlpha(c) || isDigit(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/** field-vchar / SP / HTAB: what may appear inside a field value (obs-text 0x80-0xFF included). */
export const FIELD_VALUE: Uint8Array = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * request-target bytes: visible ASCII (0x21-0x7E). Spaces, CTLs, DEL and non-ASCII must be
 * percent-encoded by the client; accepting raw bytes here lets a target mean different things to
 * different parsers.
 */
export const TARGET: Uint8Array = table((c) => c > 0x20 && c < 0x7f);

/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) */
export const REASON: Uint8Array = FIELD_VALUE;

/**
 * Host header / authority bytes: reg-name (unreserved / pct-encoded / sub-delims), IP-literal
 * brackets and ":" port. Excludes "/", "?", "#", "@", "\\" and whitespace so that an authority can
 * never smuggle a path or userinfo into routing.
 */
export const AUTHORITY: Uint8Array = table((c) => isAlpha(c) || isDigit(c) || "-._~%!$&'()*+,;=:[]".includes(String.fromCharCode(c)));

/** Hex digit value, or 255. */
export const HEX: Uint8Array = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** ASCII lower-case mapping (other bytes map to themselves). */
export const LOWER: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;
export const COLON = 0x3a;
export const COMMA = 0x2c;
export const SEMI = 0x3b;

/** True if buf[start, start + lower.length) equals `lower` ignoring ASCII case. Caller checks the length. */
export function equalsLower(buf: Uint8Array, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]!] !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Lower-case ASCII string of buf[start, end) (header tokens are ASCII). */
export function lowerLatin1(buf: Buffer, start: number, end: number): string {
  let s = buf.toString("latin1", start, end);
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) {
      s = s.toLowerCase();
      break;
    }
  }
  return s;
}
