// Consistent-hash keys (DestinationRule loadBalancer.consistentHash → Cluster.lb.hashKey): turn a
// request into the 32-bit hash RING_HASH / MAGLEV pick with. Follows Envoy's route hash_policy
// (source/common/router/config_impl.cc HashPolicyImpl): header, cookie, source IP, query
// parameter; a missing key gives no hash and the balancer picks at random.
//
// Pure: no node:* imports.
import type { HashKey } from "../../model/proxy-config.ts";
import { xxhash32 } from "./balance/xxhash32.ts";

/** What hashKeyOf reads from the request. Header names are lowercase. */
export interface HashRequestView {
  header(name: string): string | undefined;
  /** Request target (`/path?query`), for query parameter keys. */
  readonly path: string;
}

/** The downstream connection, for source-IP keys and for generated cookies. */
export interface HashConnectionView {
  /** Client IP without port. */
  readonly sourceIp: string;
  /** `ip:port` of the client and of this proxy's listener side of the connection. */
  readonly remoteAddress: string;
  readonly localAddress: string;
}

/**
 * Called when a cookie key with a ttl is absent: the engine must add this `Set-Cookie` value to
 * the downstream response (Envoy's addDownstreamSetCookie).
 */
export type AddSetCookie = (setCookieValue: string) => void;

/**
 * The request's key hash (unsigned 32-bit), or undefined when the request carries no key
 * (balancer falls back to a random pick, as Envoy).
 */
export function hashKeyOf(
  key: HashKey | undefined,
  req: HashRequestView,
  conn: HashConnectionView,
  addSetCookie?: AddSetCookie,
): number | undefined {
  if (!key) return undefined;
  if ("header" in key) {
    const v = req.header(key.header);
    // Envoy hashes an empty header value too (present is what matters).
    return v === undefined ? undefined : xxhash32(v);
  }
  if ("cookie" in key) {
    const { name, path, ttlMs } = key.cookie;
    const v = cookieValue(req.header("cookie"), name);
    if (v !== undefined && v !== "") return xxhash32(v);
    if (ttlMs === undefined) return undefined;
    // Envoy generates the value from the downstream connection's addresses, so every request
    // of one connection gets the same cookie (router.cc addDownstreamSetCookie).
    const value = generatedCookieValue(conn.remoteAddress, conn.localAddress);
    addSetCookie?.(formatSetCookie(name, value, ttlMs, path));
    return xxhash32(value);
  }
  if ("sourceIp" in key) return conn.sourceIp === "" ? undefined : xxhash32(conn.sourceIp);
  const v = queryParamValue(req.path, key.queryParameter);
  return v === undefined ? undefined : xxhash32(v);
}

/**
 * Value of cookie `name` in a Cookie header (`a=1; b="2"`), surrounding double quotes removed
 * (Envoy's parseCookieValue). Scans in place; allocates only the returned substring.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const n = header.length;
  let i = 0;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09)) i++;
    let end = header.indexOf(";", i);
    if (end < 0) end = n;
    const eq = header.indexOf("=", i);
    if (eq > i && eq < end) {
      let ke = eq;
      while (ke > i && header.charCodeAt(ke - 1) === 0x20) ke--;
      if (ke - i === name.length && header.startsWith(name, i)) {
        let vs = eq + 1;
        let ve = end;
        while (vs < ve && header.charCodeAt(vs) === 0x20) vs++;
        while (ve > vs && header.charCodeAt(ve - 1) === 0x20) ve--;
        if (ve - vs >= 2 && header.charCodeAt(vs) === 0x22 && header.charCodeAt(ve - 1) === 0x22) {
          vs++;
          ve--;
        }
        return header.slice(vs, ve);
      }
    }
    i = end + 1;
  }
  return undefined;
}

/** First value of query parameter `name` in `path` (raw, not percent-decoded, as Envoy). */
export function queryParamValue(path: string, name: string): string | undefined {
  const q = path.indexOf("?");
  if (q < 0) return undefined;
  let end = path.indexOf("#", q);
  if (end < 0) end = path.length;
  let i = q + 1;
  while (i < end) {
    let amp = path.indexOf("&", i);
    if (amp < 0 || amp > end) amp = end;
    const eq = path.indexOf("=", i);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (keyEnd - i === name.length && path.startsWith(name, i)) {
      return keyEnd === amp ? "" : path.slice(keyEnd + 1, amp);
    }
    i = amp + 1;
  }
  return undefined;
}

/** The generated cookie value: 16 hex digits from the connection's two addresses. */
export function generatedCookieValue(remoteAddress: string, localAddress: string): string {
  // Two seeds give 64 bits of hex like Envoy's Hex::uint64ToHex(xxHash64(...)).
  const s = remoteAddress + localAddress;
  return xxhash32(s, 0).toString(16).padStart(8, "0") + xxhash32(s, 1).toString(16).padStart(8, "0");
}

/**
 * `Set-Cookie` value as Envoy's Http::Utility::makeSetCookieValue formats it:
 * `name="value"; Max-Age=N; Path=p; HttpOnly` (Max-Age in whole seconds, omitted when 0).
 */
export function formatSetCookie(name: string, value: string, ttlMs: number, path?: string): string {
  let out = `${name}="${value}"`;
  const maxAge = Math.floor(ttlMs / 1000);
  if (maxAge > 0) out += `; Max-Age=${maxAge}`;
  if (path) out += `; Path=${path}`;
  return out + "; HttpOnly";
}
