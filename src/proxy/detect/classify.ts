// Protocol detection by the first bytes a client sends (Envoy's tls_inspector + http_inspector,
// as Istio's protocol sniffing uses them). Pure: no node:* imports.
//
//   0x16 0x03 …                       → "tls"   (a TLS handshake record: ClientHello)
//   PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n  → "h2c"   (HTTP/2 prior-knowledge client preface)
//   METHOD SP …                       → "http1" (an HTTP/1.x request line: token of A–Z, then a space)
//   anything else                     → "tcp"
// "more" means the bytes so far are a prefix of one of these and more are needed to decide.

export type DetectedProtocol = "tls" | "h2c" | "http1" | "tcp";

export const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/** Longest method token accepted (Envoy's http_inspector reads a bounded request line). */
const MAX_METHOD = 20;

export function classifyFirstBytes(b: Uint8Array): DetectedProtocol | "more" {
  if (b.length === 0) return "more";
  if (b[0] === 0x16) {
    if (b.length === 1) return "more";
    return b[1] === 0x03 ? "tls" : "tcp";
  }
  let preface = true;
  const n = Math.min(b.length, H2_PREFACE.length);
  for (let i = 0; i < n; i++) {
    if (b[i] !== H2_PREFACE.charCodeAt(i)) {
      preface = false;
      break;
    }
  }
  if (preface) return b.length >= H2_PREFACE.length ? "h2c" : "more";
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x20) return i > 0 ? "http1" : "tcp";
    // Method tokens in practice: upper-case letters and `-` / `_` (e.g. VERSION-CONTROL, M-SEARCH).
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return "tcp";
    if (i >= MAX_METHOD) return "tcp";
  }
  return "more";
}

/** The decision once the bound has passed with only `b` received. */
export function classifyAtDeadline(b: Uint8Array): DetectedProtocol {
  const r = classifyFirstBytes(b);
  // Too little to tell (nothing at all: a server-first protocol such as MySQL or SMTP): opaque TCP.
  return r === "more" ? "tcp" : r;
}
