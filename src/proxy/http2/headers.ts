// Header translation between HTTP/2 and HTTP/1.1 (RFC 9113 §8.2.2, §8.3): connection-specific
// fields never cross, pseudo-headers become the request line / Host and back, and header pairs
// are the one shape the HTTP/2 path passes around (lower-case names, repeated names repeated).
import { Buffer } from "../../core/builtins.ts";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { HeaderLineWriter } from "../http1/index.ts";

export type HeaderPairs = [name: string, value: string][];
/** A response head's fields as node:http2's raw list takes them: name, value, name, value… (no array per field). */
export type FlatHeaders = string[];

/** Connection-specific fields: dropped in both directions (TE is kept only as `trailers`). */
const CONNECTION_SPECIFIC = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host", "http2-settings"]);

/** A header object's field as one string: a repeated field's first value, "" when absent. */
export function firstValue(v: string | string[] | undefined): string {
  return v === undefined ? "" : Array.isArray(v) ? (v[0] ?? "") : v;
}

/** `expect: 100-continue` (the value is case-insensitive, RFC 9110 §10.1.1). */
export function expectsContinue(v: string | string[] | undefined): boolean {
  return typeof v === "string" && v.length === 12 && v.toLowerCase() === "100-continue";
}

/**
 * Each regular (non-pseudo) request header of an HTTP/2 request, connection-specific ones dropped
 * (TE only as `trailers`), and `expect: 100-continue`, which the exchange answered itself (Envoy's
 * default, `proxy_100_continue: false`).
 */
export function forEachForwardable(h: IncomingHttpHeaders, drop: ((name: string) => boolean) | undefined, put: (name: string, value: string) => void): void {
  for (const name of Object.keys(h)) {
    if (name.charCodeAt(0) === 0x3a /* : */ || CONNECTION_SPECIFIC.has(name)) continue;
    if (drop !== undefined && drop(name)) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (name === "expect" && expectsContinue(v)) continue;
    if (name === "te") {
      if (String(v).toLowerCase().includes("trailers")) put("te", "trailers");
      continue;
    }
    if (Array.isArray(v)) for (const x of v) put(name, x);
    else put(name, String(v));
  }
}

/** A response head's regular fields from an HTTP/2 header block, flat (connection-specific ones and `te` dropped). */
export function flatFromH2(h: IncomingHttpHeaders): FlatHeaders {
  const out: FlatHeaders = [];
  for (const name of Object.keys(h)) {
    if (name.charCodeAt(0) === 0x3a || CONNECTION_SPECIFIC.has(name) || name === "te") continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}

/** Trailer header pairs from an HTTP/2 header block (the same fields as flatFromH2). */
export function pairsFromH2(h: IncomingHttpHeaders): HeaderPairs {
  const f = flatFromH2(h);
  const out: HeaderPairs = [];
  for (let i = 0; i < f.length; i += 2) out.push([f[i] as string, f[i + 1] as string]);
  return out;
}

/** Header pairs → a node:http2 header object (repeated names become arrays). */
export function toH2Headers(pairs: HeaderPairs, pseudo: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...pseudo };
  for (const [n, v] of pairs) {
    if (CONNECTION_SPECIFIC.has(n)) continue;
    const have = out[n];
    if (have === undefined) out[n] = v;
    else if (Array.isArray(have)) have.push(v);
    else out[n] = [String(have), v];
  }
  return out;
}

/** Status codes as text, made once each. */
const STATUS_TEXT: string[] = [];

/** The list rawResponseHeaders fills, one for every response: respond() encodes it at once and keeps nothing. */
const RAW_HEAD: string[] = [];

/**
 * A response head as node:http2's raw header list (`[":status", "200", name, value, …]`):
 * respond() takes it as it is, where a header object is copied and walked by key. The list is
 * the same one each call (≈ 400 bytes per response not allocated): use it before the next call.
 */
export function rawResponseHeaders(status: number, headers: FlatHeaders): string[] {
  const out = RAW_HEAD;
  // Emptied by pops: `length = 0` is a runtime call that also gives up the backing store.
  while (out.length > 0) out.pop();
  out.push(":status", (STATUS_TEXT[status] ??= String(status)));
  for (let i = 0; i < headers.length; i += 2) {
    // HTTP/2 field names are lowercase (a config's response header may not be); V8 returns a
    // lowercase name itself, no copy.
    const n = (headers[i] as string).toLowerCase();
    if (!CONNECTION_SPECIFIC.has(n)) out.push(n, headers[i + 1] as string);
  }
  return out;
}

/** Is `name` connection-specific (never forwarded)? */
export function isConnectionSpecific(name: string): boolean {
  return CONNECTION_SPECIFIC.has(name);
}

/** Header lines an attempt adds after the forwarded ones (the attempt count, the destination's, telemetry's). */
export interface HeadLines {
  /** `keepLength`: the head is framed by the request's Content-Length (else that header is left out). */
  writeHeadLines(w: HeaderLineWriter, keepLength: boolean): void;
}

/** The head being built: one writer, used synchronously by each head. */
const HEAD = new HeaderLineWriter();

/**
 * The HTTP/1.1 request head for an HTTP/2 request: request line, Host, headers, `more`'s lines,
 * framing. Written as bytes into one reused writer and copied out once (latin1, as node:http2
 * decoded the fields): joining it as a string cost two strings per header and a flattening.
 */
export function h1RequestHead(method: string, path: string, authority: string, headers: HeaderPairs, framing: "none" | "length" | "chunked", more?: HeadLines): Buffer {
  const w = HEAD.reset();
  w.put(method).put(" ").put(path).put(" HTTP/1.1\r\nhost: ").put(authority).crlf();
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as [string, string];
    if (h[0] === "content-length" && framing !== "length") continue;
    w.put(h[0]).put(": ").put(h[1]).crlf();
  }
  more?.writeHeadLines(w, framing === "length");
  if (framing === "chunked") w.put("transfer-encoding: chunked\r\n");
  w.crlf();
  const out = Buffer.allocUnsafe(w.length);
  w.bytes.copy(out, 0, 0, w.length);
  return out;
}
