// A request's (or trailers') decoded header list → the header object H2Exchange reads, as
// node:http2 builds it (toHeaderObject in node's lib/internal/http2/util.js): names as sent, the
// first value of a single-value field kept, cookie crumbs joined with "; ", other repeated fields
// as arrays. Validation as RFC 9113 §8.2-8.3 asks (a malformed request is a stream error
// PROTOCOL_ERROR): lowercase names, no connection-specific fields, `te` only as "trailers",
// pseudo-headers known, once each, before regular fields, and the ones a request needs.
import type { IncomingHttpHeaders } from "node:http2";
import { TOKEN } from "../../http1/chars.ts";

/** Fields node:http2 keeps once (a repeat is dropped), as its kSingleValueHeaders. */
const SINGLE_VALUE = new Set([
  ":status", ":method", ":authority", ":scheme", ":path", ":protocol",
  "access-control-allow-credentials", "access-control-max-age", "access-control-request-method",
  "age", "authorization", "content-encoding", "content-language", "content-length", "content-location",
  "content-md5", "content-range", "content-type", "date", "dnt", "etag", "expires", "from", "host",
  "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified",
  "location", "max-forwards", "proxy-authorization", "range", "referer", "retry-after", "tk",
  "upgrade-insecure-requests", "user-agent", "x-content-type-options",
]);

const DIGITS = /^[0-9]{1,15}$/;
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/** HTTP/1.1's tchar table (RFC 9110 §5.6.2) without A-Z: HTTP/2 field names are lowercase. */
const NAME_CHAR = TOKEN.map((v, c) => (c >= 0x41 && c <= 0x5a ? 0 : v));

function validName(n: string, from: number): boolean {
  if (n.length <= from) return false;
  for (let i = from; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return false;
  }
  return true;
}

/** No NUL, CR or LF in a value (RFC 9113 §8.2.1); leading/trailing whitespace is tolerated as nghttp2 does for requests. */
function validValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

/**
 * The header object's constructor. Its prototype chain has no Object.prototype (a field named
 * `__proto__` or `constructor` is a field, as in node:http2's null-prototype object), but unlike
 * `Object.create(null)`, which V8 makes a hash table from the start, its objects keep fast
 * properties: a client's usual fields come in the same order request after request, so the object
 * gets the same hidden class, whose key list V8 caches (Object.keys on a hash-table object is a
 * runtime call per request) and whose fields are read through inline caches. An object with very
 * many fields still turns into a hash table (V8's limit), as before.
 */
function HeaderObject(this: object): void {}
HeaderObject.prototype = Object.create(null) as object;
const newHeaderObject = (): Record<string, string | string[]> => new (HeaderObject as unknown as new () => Record<string, string | string[]>)();

/**
 * Build the request header object from `list` (name, value, …). `trailers`: a trailer block (no
 * pseudo-headers allowed). Returns null for a malformed block. A content-length is all digits
 * (repeats agree).
 */
export function requestHead(list: readonly string[], trailers: boolean): IncomingHttpHeaders | null {
  const h = newHeaderObject();
  let regular = false;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i] as string;
    const value = list[i + 1] as string;
    if (name.charCodeAt(0) === 0x3a /* : */) {
      if (regular || trailers) return null;
      if (name !== ":method" && name !== ":path" && name !== ":scheme" && name !== ":authority") return null;
      if (h[name] !== undefined) return null;
      h[name] = value;
      continue;
    }
    regular = true;
    if (!validName(name, 0) || !validValue(value)) return null;
    if (CONNECTION_SPECIFIC.has(name)) return null;
    if (name === "te" && value !== "trailers") return null;
    if (name === "content-length") {
      if (!DIGITS.test(value)) return null;
      const have = h[name];
      if (have !== undefined && Number(have) !== Number(value)) return null;
    }
    const have = h[name];
    if (have === undefined) h[name] = name === "set-cookie" ? [value] : value;
    else if (name === "cookie") h[name] = `${have as string}; ${value}`;
    else if (SINGLE_VALUE.has(name)) continue;
    else if (typeof have === "string") h[name] = [have, value];
    else have.push(value);
  }
  if (!trailers) {
    const method = h[":method"];
    if (method === undefined || method === "") return null;
    if (method === "CONNECT") {
      if (h[":authority"] === undefined || h[":scheme"] !== undefined || h[":path"] !== undefined) return null;
    } else if (h[":scheme"] === undefined || h[":path"] === undefined || h[":path"] === "") return null;
  }
  return h as IncomingHttpHeaders;
}
