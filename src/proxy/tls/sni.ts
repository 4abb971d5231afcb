// The server name (SNI) of a TLS ClientHello, read from the first bytes of a connection without
// decrypting anything (Envoy's tls_inspector). Pure: no node:* imports.
//
// RFC 8446 §4.1.2 / RFC 5246: TLSPlaintext records (type 22 handshake, 2-byte version, 2-byte
// length) carry the Handshake message (type 1 ClientHello, 3-byte length), which may span
// several records. ClientHello: version(2) random(32) session_id<1> cipher_suites<2>
// compression_methods<1> extensions<2>; extension server_name (0): ServerNameList<2> of
// (name_type(1) = 0 host_name, HostName<2>) — RFC 6066 §3.

/** "more": a prefix of a ClientHello, read on; "not-tls": something else (or a broken hello). */
export type SniResult = { readonly kind: "sni"; readonly name: string } | { readonly kind: "no-sni" } | { readonly kind: "more" } | { readonly kind: "not-tls" };

/** Bytes a peek reads at most: a ClientHello beyond this is treated as broken. */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const MORE: SniResult = { kind: "more" };
const NOT_TLS: SniResult = { kind: "not-tls" };
const NO_SNI: SniResult = { kind: "no-sni" };

const RECORD_HANDSHAKE = 22;
const HS_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;

export function parseClientHelloSni(b: Uint8Array): SniResult {
  // Reassemble the handshake message from as many records as it spans.
  const hs: number[] = [];
  let i = 0;
  let need = -1;
  while (need < 0 || hs.length < need) {
    if (b.length - i < 5) return b.length >= MAX_CLIENT_HELLO_BYTES ? NOT_TLS : i === 0 && b.length > 0 && b[0] !== RECORD_HANDSHAKE ? NOT_TLS : MORE;
    if (b[i] !== RECORD_HANDSHAKE || b[i + 1] !== 3) return NOT_TLS;
    const len = ((b[i + 3] as number) << 8) | (b[i + 4] as number);
    if (len === 0 || len > 16384 + 2048) return NOT_TLS;
    if (b.length - i - 5 < len) {
      // Enough of the first record may already say it is not a ClientHello.
      if (i === 0 && b.length > 5 && b[5] !== HS_CLIENT_HELLO) return NOT_TLS;
      return b.length >= MAX_CLIENT_HELLO_BYTES ? NOT_TLS : MORE;
    }
    for (let k = 0; k < len; k++) hs.push(b[i + 5 + k] as number);
    i += 5 + len;
    if (need < 0 && hs.length >= 4) {
      if (hs[0] !== HS_CLIENT_HELLO) return NOT_TLS;
      need = 4 + (((hs[1] as number) << 16) | ((hs[2] as number) << 8) | (hs[3] as number));
      if (need > MAX_CLIENT_HELLO_BYTES) return NOT_TLS;
    }
  }
  return helloSni(hs, 4, need);
}

/** The SNI in the ClientHello body h[start, end). */
function helloSni(h: number[], start: number, end: number): SniResult {
  let p = start + 2 + 32; // client_version, random
  const u8 = (): number => (p < end ? (h[p++] as number) : -1);
  const u16 = (): number => {
    if (p + 2 > end) return -1;
    const v = ((h[p] as number) << 8) | (h[p + 1] as number);
    p += 2;
    return v;
  };
  if (p > end) return NOT_TLS;
  const sid = u8();
  if (sid < 0 || sid > 32 || (p += sid) > end) return NOT_TLS;
  const cs = u16();
  if (cs < 0 || (p += cs) > end) return NOT_TLS;
  const cm = u8();
  if (cm < 0 || (p += cm) > end) return NOT_TLS;
  // No extensions at all (TLS 1.0-era hello): valid, no SNI.
  if (p === end) return NO_SNI;
  const extLen = u16();
  if (extLen < 0 || p + extLen > end) return NOT_TLS;
  const extEnd = p + extLen;
  while (p + 4 <= extEnd) {
    const type = u16();
    const len = u16();
    if (p + len > extEnd) return NOT_TLS;
    if (type !== EXT_SERVER_NAME) {
      p += len;
      continue;
    }
    const listEnd = p + len;
    const listLen = u16();
    if (listLen < 0 || p + listLen !== listEnd) return NOT_TLS;
    while (p + 3 <= listEnd) {
      const nameType = u8();
      const nameLen = u16();
      if (nameLen <= 0 || p + nameLen > listEnd) return NOT_TLS;
      if (nameType === 0) {
        let name = "";
        for (let k = 0; k < nameLen; k++) {
          const c = h[p + k] as number;
          // A host name is LDH ASCII (and dots); anything else is a broken hello.
          if (c <= 0x20 || c >= 0x7f) return NOT_TLS;
          name += String.fromCharCode(c);
        }
        return { kind: "sni", name: name.toLowerCase().replace(/\.$/, "") };
      }
      p += nameLen;
    }
    return NO_SNI;
  }
  return p === extEnd ? NO_SNI : NOT_TLS;
}

/**
 * Does `name` match a server name pattern? Exact (case-insensitive), `*.suffix` (any name that
 * ends with `.suffix`), or `*` (anything, also no SNI).
 */
export function serverNameMatches(pattern: string, name: string | undefined): boolean {
  const p = pattern.toLowerCase();
  if (p === "*") return true;
  if (name === undefined) return false;
  if (p.startsWith("*.")) return name.endsWith(p.slice(1)) && name.length > p.length - 1;
  return p === name;
}
