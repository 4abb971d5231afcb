// Building outbound heads as ONE Buffer: start line, then the forwarded header lines copied as
// raw byte runs from the parsed head (consecutive kept lines are one copy), then the proxy's
// headers, framing and Connection lines — plus, optionally, a small body in the same Buffer so the
// proxy makes one write per small message.

import { Buffer } from "../../core/builtins.ts";
import type {
  OutboundFraming,
  RequestHead,
  ResponseBodyFraming,
  ResponseHead,
  SerializeRequestOptions,
  SerializeResponseOptions,
} from "./types.ts";
import { AUTHORITY, FIELD_VALUE, TARGET, TOKEN } from "./chars.ts";
import { HeadBase, KEEP_CONTENT_LENGTH, KEEP_HOST, KEEP_UPGRADE } from "./head-base.ts";
import { FRAMING_CHUNKED, FRAMING_CLOSE } from "./framing.ts";
import { decimalLength, putDecimal, type HeaderLineWriter } from "./line-writer.ts";

const EMPTY = Buffer.alloc(0);
let keptScratch = new Uint8Array(128);

/** Serializes the upstream request head (origin-form, HTTP/1.1). Throws TypeError on an option that would inject bytes. */
export function serializeRequestHead(head: RequestHead, opts: SerializeRequestOptions = {}): Buffer {
  const h = asBase(head);
  const method = opts.method ?? head.method;
  const path = opts.path ?? head.path;
  const host = opts.host ?? head.authority;
  // The parsed method, path and authority were checked by the parser: only new values are.
  if (method !== head.method) checkChars(method, TOKEN, "method", false);
  if (path !== head.path) checkChars(path, TARGET, "path", false);
  if (host !== head.authority) checkChars(host, AUTHORITY, "host", true);
  const framing = opts.framing ?? head.framing;
  const pass = opts.passUpgrade === true && head.upgrade !== null;
  const conn = pass ? "Connection: upgrade\r\n" : opts.close === true ? "Connection: close\r\n" : "";
  return build(h, method, " ", path, REQUEST_LINE_END_HOST, host, pass ? KEEP_UPGRADE : 0, opts.drop, opts.lines, opts.extra, framing, conn, opts.body, 0, opts.body?.length ?? 0);
}

/**
 * Serializes the downstream response head (status line always HTTP/1.1). `body[bodyStart, bodyEnd)`,
 * when given, follows the head in the same Buffer (as `opts.body`, without a Buffer for the slice).
 */
export function serializeResponseHead(head: ResponseHead, opts: SerializeResponseOptions = {}, body = opts.body, bodyStart = 0, bodyEnd = body?.length ?? 0): Buffer {
  const h = asBase(head);
  const status = opts.status ?? head.status;
  const reason = opts.reason ?? (opts.status === undefined ? head.reason : "");
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new TypeError(`invalid status ${status}`);
  if (opts.reason !== undefined) checkChars(reason, FIELD_VALUE, "reason", true);
  const framing = opts.framing ?? head.framing;
  const minor = opts.downstreamMinor ?? 1;
  if (framing.kind === "chunked" && minor === 0) throw new TypeError("chunked framing towards an HTTP/1.0 downstream");
  const pass = opts.passUpgrade ?? head.upgrade !== null;
  let conn = "";
  if (pass && status === 101) conn = "Connection: upgrade\r\n";
  else if (opts.close === true || framing.kind === "close") conn = "Connection: close\r\n";
  else if (minor === 0) conn = "Connection: keep-alive\r\n";
  let keep = KEEP_HOST;
  if (pass) keep |= KEEP_UPGRADE;
  // HEAD / 304 responses carry the representation's Content-Length as metadata: keep it.
  if (framing.kind === "none") keep |= KEEP_CONTENT_LENGTH;
  return build(h, "HTTP/1.1 ", statusText(status), " ", reason, "", keep, opts.drop, opts.lines, opts.extra, framing, conn, body, bodyStart, bodyEnd);
}

/**
 * A response the proxy generates itself (local reply: 404, 431, 502, 503, direct responses…),
 * with Content-Length framing.
 */
export function serializeLocalResponse(
  status: number,
  reason: string,
  headers: ReadonlyArray<readonly [string, string]>,
  body: Buffer | string = EMPTY,
  close = false,
  isHeadRequest = false,
): Buffer {
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  checkChars(reason, FIELD_VALUE, "reason", true);
  let s = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [n, v] of headers) {
    checkChars(n, TOKEN, "header name", false);
    checkChars(v, FIELD_VALUE, "header value", true);
    s += `${n}: ${v}\r\n`;
  }
  if (status >= 200 && status !== 204 && status !== 304) s += `Content-Length: ${payload.length}\r\n`;
  if (close) s += "Connection: close\r\n";
  s += "\r\n";
  const headLen = Buffer.byteLength(s, "latin1");
  const withBody = !isHeadRequest && payload.length > 0;
  const out = Buffer.allocUnsafe(headLen + (withBody ? payload.length : 0));
  out.write(s, 0, "latin1");
  if (withBody) payload.copy(out, headLen);
  return out;
}

/** What the proxy does with a response body for a given downstream. */
export interface ResponseFramingPlan {
  /** Framing to announce downstream (pass to serializeResponseHead). */
  readonly framing: OutboundFraming;
  /** Decode the upstream chunked body (ChunkedDecoder onData) and send the data only. */
  readonly dechunk: boolean;
  /** Encode the close-delimited upstream body as chunks (encodeChunkHeader … LAST_CHUNK). */
  readonly rechunk: boolean;
  /** Close the downstream connection after this response. */
  readonly close: boolean;
}

const plan = (framing: OutboundFraming, dechunk: boolean, rechunk: boolean, close: boolean): ResponseFramingPlan =>
  Object.freeze({ framing, dechunk, rechunk, close });
const CHUNKED_PASS = plan(FRAMING_CHUNKED, false, false, false);
const CHUNKED_PASS_CLOSE = plan(FRAMING_CHUNKED, false, false, true);
const DECHUNK_CLOSE = plan(FRAMING_CLOSE, true, false, true);
const RECHUNK = plan(FRAMING_CHUNKED, false, true, false);
const RECHUNK_CLOSE = plan(FRAMING_CHUNKED, false, true, true);
const CLOSE = plan(FRAMING_CLOSE, false, false, true);

/**
 * Chooses the downstream framing (RFC 9112 §6, §7): chunked passes through to HTTP/1.1 and is
 * de-chunked (ending at close) for HTTP/1.0; a close-delimited upstream body is re-chunked for
 * HTTP/1.1 so the downstream connection can stay open, and ends at close for HTTP/1.0.
 */
export function chooseResponseFraming(
  upstream: ResponseBodyFraming,
  downstreamMinor: 0 | 1,
  downstreamKeepAlive: boolean,
): ResponseFramingPlan {
  switch (upstream.kind) {
    case "chunked":
      if (downstreamMinor === 0) return DECHUNK_CLOSE;
      return downstreamKeepAlive ? CHUNKED_PASS : CHUNKED_PASS_CLOSE;
    case "close":
      if (downstreamMinor === 0) return CLOSE;
      return downstreamKeepAlive ? RECHUNK : RECHUNK_CLOSE;
    default:
      // A plain literal: this runs once per response, and freezing costs a runtime call.
      return { framing: upstream, dechunk: false, rechunk: false, close: !downstreamKeepAlive };
  }
}

// Constant pieces of every message, as bytes: Buffer#copy (≈ 10–14 ns for 16–17 bytes) instead of
// the native latin1 writer that putLatin1 calls for 13 characters or more (≈ 16–18 ns).
const CONTENT_LENGTH = Buffer.from("Content-Length: ", "latin1");
const REQUEST_LINE_END_HOST = Buffer.from(" HTTP/1.1\r\nHost: ", "latin1");
const CHUNKED_LINE = "Transfer-Encoding: chunked\r\n";

/** Bytes of the framing line (`Content-Length: n`, `Transfer-Encoding: chunked`, or none). Throws TypeError on an invalid length. */
function framingSize(f: OutboundFraming): number {
  switch (f.kind) {
    case "length":
      if (!Number.isSafeInteger(f.length) || f.length < 0) throw new TypeError(`invalid Content-Length ${f.length}`);
      return CONTENT_LENGTH.length + decimalLength(f.length) + 2;
    case "chunked":
      return CHUNKED_LINE.length;
    default:
      return 0;
  }
}

/** Writes the framing line at `pos` (its digits directly: no string per message); returns the position after it. */
function putFraming(out: Buffer, f: OutboundFraming, pos: number): number {
  if (f.kind === "chunked") return putLatin1(out, CHUNKED_LINE, pos);
  if (f.kind !== "length") return pos;
  pos += CONTENT_LENGTH.copy(out, pos);
  pos = putDecimal(out, f.length, pos, decimalLength(f.length));
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  return pos;
}

function asBase(head: RequestHead | ResponseHead): HeadBase {
  if (!(head instanceof HeadBase)) throw new TypeError("head was not produced by the http1 parser");
  return head;
}

/** Status codes as text, made once each. */
const STATUS_TEXT: string[] = [];
function statusText(status: number): string {
  return (STATUS_TEXT[status] ??= String(status));
}

/**
 * The head: the start line (s0…s4 then CRLF, in pieces so no string is joined per message; s3 may be
 * a constant's bytes), the kept header lines copied as byte runs, then the tail.
 */
function build(
  h: HeadBase,
  s0: string,
  s1: string,
  s2: string,
  s3: string | Buffer,
  s4: string,
  keep: number,
  drop: SerializeRequestOptions["drop"],
  lines: string | HeaderLineWriter | undefined,
  extra: SerializeRequestOptions["extra"],
  framing: OutboundFraming,
  conn: string,
  body: Buffer | undefined,
  bodyStart: number,
  bodyEnd: number,
): Buffer {
  const n = h.count;
  if (keptScratch.length < n) keptScratch = new Uint8Array(n * 2);
  const kept = keptScratch;
  let size = s0.length + s1.length + s2.length + s3.length + s4.length + 2 + (body === undefined ? 0 : bodyEnd - bodyStart);
  for (let i = 0; i < n; i++) {
    const k = h.isForwarded(i, keep, drop);
    kept[i] = k ? 1 : 0;
    if (k) size += h.lineEnd(i) - h.lineStart(i);
  }
  // The tail (the proxy's lines, extra headers, framing, Connection, the final CRLF) is written
  // piece by piece: joining it into one string first costs a concatenation and a flattening.
  if (lines !== undefined) size += lines.length;
  if (extra !== undefined) {
    for (let i = 0; i < extra.length; i++) {
      const [name, value] = extra[i]!;
      checkChars(name, TOKEN, "header name", false);
      checkChars(value, FIELD_VALUE, "header value", true);
      size += name.length + value.length + 4;
    }
  }
  size += framingSize(framing) + conn.length + 2;

  const out = Buffer.allocUnsafe(size);
  let pos = putLatin1(out, s0, 0);
  pos = putLatin1(out, s1, pos);
  pos = putLatin1(out, s2, pos);
  pos = typeof s3 === "string" ? putLatin1(out, s3, pos) : pos + s3.copy(out, pos);
  pos = putLatin1(out, s4, pos);
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  const src = h.bytes;
  // Copy runs of consecutive kept lines with one copy each.
  let i = 0;
  while (i < n) {
    if (kept[i] === 0) {
      i++;
      continue;
    }
    const runStart = h.lineStart(i);
    while (i < n && kept[i] === 1) i++;
    pos += src.copy(out, pos, runStart, h.lineEnd(i - 1));
  }
  if (typeof lines === "string") pos = putLatin1(out, lines, pos);
  else if (lines !== undefined) pos += lines.bytes.copy(out, pos, 0, lines.length);
  if (extra !== undefined) {
    for (let i = 0; i < extra.length; i++) {
      const [name, value] = extra[i]!;
      pos = putLatin1(out, name, pos);
      out[pos++] = 0x3a; // ":"
      out[pos++] = 0x20;
      pos = putLatin1(out, value, pos);
      out[pos++] = 0x0d;
      out[pos++] = 0x0a;
    }
  }
  pos = putFraming(out, framing, pos);
  pos = putLatin1(out, conn, pos);
  out[pos++] = 0x0d;
  out[pos++] = 0x0a;
  if (body !== undefined) pos += body.copy(out, pos, bodyStart, bodyEnd);
  return pos === size ? out : out.subarray(0, pos);
}

/**
 * Writes the latin1 string `s` at `pos`; returns the position after it. A string shorter than 13
 * characters is never a rope (V8 joins short strings flat), so a loop the JIT compiles copies it
 * faster than a call into C++; longer ones may be ropes, which `charCodeAt` walks slowly, so C++
 * flattens and copies them.
 */
function putLatin1(out: Buffer, s: string, pos: number): number {
  const n = s.length;
  if (n >= 13) return pos + (NATIVE_LATIN1 ? (out as unknown as LatinWriter).latin1Write(s, pos, n) : out.write(s, pos, "latin1"));
  for (let i = 0; i < n; i++) out[pos + i] = s.charCodeAt(i);
  return pos + n;
}

/** Buffer's own latin1 writer (what `buf.write(s, pos, "latin1")` calls after checking its arguments). */
interface LatinWriter {
  latin1Write(s: string, offset: number, length: number): number;
}
const NATIVE_LATIN1 = typeof (Buffer.prototype as unknown as Partial<LatinWriter>).latin1Write === "function";

/**
 * Header lines `name: value\r\n` for SerializeRequestOptions.lines, checked once (for edits
 * compiled ahead of the requests that use them). Throws TypeError like serialize does.
 */
export function checkHeaderLines(headers: ReadonlyArray<readonly [string, string]>): string {
  let s = "";
  for (const [name, value] of headers) {
    checkChars(name, TOKEN, "header name", false);
    checkChars(value, FIELD_VALUE, "header value", true);
    s += name + ": " + value + "\r\n";
  }
  return s;
}

/** Throws if `s` has a byte outside `allowed` (stops CR/LF injection through rewritten values). */
function checkChars(s: string, allowed: Uint8Array, what: string, emptyOk: boolean): void {
  if (s.length === 0 && !emptyOk) throw new TypeError(`empty ${what}`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || allowed[c] === 0) throw new TypeError(`invalid character in ${what}: ${JSON.stringify(s)}`);
  }
}
