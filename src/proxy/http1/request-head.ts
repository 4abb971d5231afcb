// Request head parser (RFC 9112 §3, §6; RFC 9110 §7.2). Strict: anything that two HTTP parsers
// could read differently is refused (see docs/http1-codec.md).

import { Buffer } from "../../core/builtins.ts";
import type { HeadLimits, RequestBodyFraming, RequestHead } from "./types.ts";
import { DEFAULT_HEAD_LIMITS } from "./types.ts";
import { AUTHORITY, CR, LF, SP, TARGET, TOKEN, equalsLower } from "./chars.ts";
import { HeadBase, SLOTS } from "./head-base.ts";
import { SCAN_ERROR, SCAN_INCOMPLETE, SCAN_OK, lineStop, lowerValue, scan, scanError, scanErrorSet, scanHeaders } from "./header-scan.ts";
import { findTerminator, skipLeadingCrlf } from "./find-head.ts";
import { ParseError } from "./parse-error.ts";
import { FRAMING_CHUNKED, FRAMING_NONE, lengthFraming } from "./framing.ts";
import { internMethod } from "./methods.ts";
import { parseVersion } from "./version.ts";
import { latin1 } from "./latin1-cache.ts";

export class ParsedRequestHead extends HeadBase implements RequestHead {
  readonly method: string;
  readonly target: string;
  readonly path: string;
  readonly authority: string;
  readonly absoluteForm: boolean;
  readonly versionMinor: 0 | 1;
  readonly keepAlive: boolean;
  readonly framing: RequestBodyFraming;
  readonly upgrade: string | null;
  readonly expectContinue: boolean;
  override readonly headLength: number;

  constructor(
    bytes: Buffer,
    offsets: readonly number[],
    count: number,
    connectionNames: readonly string[] | null,
    headLength: number,
    method: string,
    target: string,
    path: string,
    authority: string,
    absoluteForm: boolean,
    versionMinor: 0 | 1,
    keepAlive: boolean,
    framing: RequestBodyFraming,
    upgrade: string | null,
    expectContinue: boolean,
  ) {
    super(bytes, offsets, count, connectionNames);
    this.headLength = headLength;
    this.method = method;
    this.target = target;
    this.path = path;
    this.authority = authority;
    this.absoluteForm = absoluteForm;
    this.versionMinor = versionMinor;
    this.keepAlive = keepAlive;
    this.framing = framing;
    this.upgrade = upgrade;
    this.expectContinue = expectContinue;
  }
}

/**
 * Parses a request head from buf[start, end).
 * Returns null while the head is incomplete (call again when more bytes arrived), a ParseError
 * for a bad head (its `status` is what to answer; then close the connection), else the head;
 * the body (or the next pipelined request) starts at start + head.headLength.
 * Errors are reported as soon as the bytes that prove them are there, whatever the read splits.
 * `searchFrom` (optional, ≥ start): where the previous call's data ended. Only used for heads
 * that are already large (see BIG_PARTIAL_HEAD): they are re-scanned only once their terminator
 * has arrived. `owned`: buf is the caller's to give away (fresh memory, never reused), so the
 * head keeps a view of its bytes instead of a copy.
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  searchFrom: number = start,
  owned = false,
): RequestHead | ParseError | null {
  const s = skipLeadingCrlf(buf, start, end);
  const max = start + limits.maxHeadBytes;
  let limit = end < max ? end : max;
  if (end - start > BIG_PARTIAL_HEAD) {
    // A big head arriving in many small reads: find the terminator natively (fast) before
    // re-scanning everything in JS, so a trickle costs O(n) per read and not O(n) in JS.
    const t = findTerminator(buf, s, end, searchFrom);
    if (t < 0 || t > max) return end - start > limits.maxHeadBytes ? tooLarge(limits) : null;
    limit = t;
  }
  const r = requestLine(buf, s, limit, start);
  if (r !== SCAN_OK) return r === SCAN_ERROR ? scanError : incomplete(end, start, limits);
  const h = scanHeaders(buf, rlLineEnd, limit, s, limits.maxHeaders, false);
  if (h !== SCAN_OK) return h === SCAN_ERROR ? scanError : incomplete(end, start, limits);
  return finish(buf, start, s, scan.end, owned);
}

/** Heads bigger than this that are still incomplete are only re-scanned once CRLFCRLF is in. */
const BIG_PARTIAL_HEAD = 4096;

function incomplete(end: number, start: number, limits: HeadLimits): ParseError | null {
  return end - start >= limits.maxHeadBytes ? tooLarge(limits) : null;
}

function tooLarge(limits: HeadLimits): ParseError {
  return new ParseError("E_HEAD_TOO_LARGE", `head larger than ${limits.maxHeadBytes} bytes`);
}

// Request-line results (module-level, reused: no allocation per request).
let rlMethod = "";
let rlTargetStart = 0;
let rlTargetEnd = 0;
let rlMinor: 0 | 1 = 1;
let rlLineEnd = 0;

/** Longest version field accepted before the CRLF ("HTTP/1.1" is 8). */
const MAX_VERSION_FIELD = 16;

/**
 * Scans `method SP request-target SP HTTP-version CRLF` from s, up to limit.
 * Returns SCAN_OK (rl* set; rlLineEnd = start of the first header line), SCAN_INCOMPLETE or SCAN_ERROR.
 */
function requestLine(buf: Buffer, s: number, limit: number, base: number): number {
  let i = s;
  while (i < limit && TOKEN[buf[i]!] === 1) i++;
  if (i >= limit) return SCAN_INCOMPLETE;
  if (buf[i] !== SP || i === s) return lineStop(buf, i, limit, base, "E_BAD_REQUEST_LINE", "invalid method or missing SP after it");
  const methodEnd = i;
  const t = ++i;
  while (i < limit && TARGET[buf[i]!] === 1) i++;
  if (i >= limit) return SCAN_INCOMPLETE;
  if (buf[i] !== SP || i === t) return lineStop(buf, i, limit, base, "E_BAD_REQUEST_LINE", "invalid request-target or missing SP after it");
  const targetEnd = i;
  const v = ++i;
  while (i < limit && buf[i] !== CR && buf[i] !== LF && i - v <= MAX_VERSION_FIELD) i++;
  if (i - v > MAX_VERSION_FIELD) return lineStop(buf, i, limit, base, "E_BAD_REQUEST_LINE", "invalid HTTP version");
  if (i >= limit) return SCAN_INCOMPLETE;
  if (buf[i] !== CR || i + 1 >= limit || buf[i + 1] !== LF) {
    return lineStop(buf, i, limit, base, "E_BAD_REQUEST_LINE", "request line does not end with CRLF");
  }
  const minor = parseVersion(buf, v, i);
  if (minor < 0) {
    scanErrorSet(
      minor === -2
        ? new ParseError("E_VERSION", "HTTP version not supported", v - base)
        : new ParseError("E_BAD_REQUEST_LINE", "invalid HTTP version", v - base),
    );
    return SCAN_ERROR;
  }
  rlMethod = internMethod(buf, s, methodEnd);
  rlTargetStart = t;
  rlTargetEnd = targetEnd;
  rlMinor = minor as 0 | 1;
  rlLineEnd = i + 2;
  return SCAN_OK;
}

function finish(buf: Buffer, start: number, s: number, headEnd: number, owned: boolean): RequestHead | ParseError {
  const method = rlMethod;
  const minor = rlMinor;
  const tStart = rlTargetStart;
  const tEnd = rlTargetEnd;

  // Host: exactly one on HTTP/1.1, at most one on 1.0 (RFC 9112 §3.2; duplicates are refused by the scan).
  if (scan.hostCount === 0 && minor === 1) return new ParseError("E_MISSING_HOST", "HTTP/1.1 request without Host");
  const offs = scan.offsets;
  let hostValue = "";
  if (scan.hostIndex >= 0) {
    const p = scan.hostIndex * SLOTS;
    const hs = s + offs[p + 2]!;
    const he = s + offs[p + 3]!;
    for (let k = hs; k < he; k++) if (AUTHORITY[buf[k]!] === 0) return new ParseError("E_BAD_HOST", "invalid Host value", k - start);
    hostValue = latin1(buf, hs, he);
  }

  // request-target forms (RFC 9112 §3.2).
  const target = latin1(buf, tStart, tEnd);
  let path = target;
  let authority = hostValue;
  let absoluteForm = false;
  const c0 = buf[tStart];
  if (method === "CONNECT") {
    if (!isAuthorityForm(buf, tStart, tEnd)) return new ParseError("E_BAD_REQUEST_LINE", "CONNECT needs an authority-form target (host:port)");
    authority = target;
    path = "";
  } else if (c0 === 0x2f /* / */) {
    // origin-form
  } else if (c0 === 0x2a /* * */ && tEnd - tStart === 1) {
    if (method !== "OPTIONS") return new ParseError("E_BAD_REQUEST_LINE", "asterisk-form is only for OPTIONS");
  } else {
    const a = absoluteTarget(buf, tStart, tEnd);
    if (a < 0) return new ParseError("E_BAD_REQUEST_LINE", "invalid request-target");
    absoluteForm = true;
    const authEnd = a;
    const authStart = buf[tStart + 4] === 0x3a ? tStart + 7 : tStart + 8; // "http://" or "https://"
    authority = buf.toString("latin1", authStart, authEnd);
    path = authEnd === tEnd ? "/" : buf[authEnd] === 0x3f /* ? */ ? "/" + buf.toString("latin1", authEnd, tEnd) : buf.toString("latin1", authEnd, tEnd);
  }

  // Body framing (RFC 9112 §6.1–6.3).
  let framing: RequestBodyFraming = FRAMING_NONE;
  if (scan.teSeen) {
    if (scan.contentLength >= 0) return new ParseError("E_CL_AND_TE", "both Content-Length and Transfer-Encoding");
    if (minor === 0) return new ParseError("E_BAD_TRANSFER_ENCODING", "Transfer-Encoding in an HTTP/1.0 request");
    if (scan.teChunkedMisplaced || !scan.teChunkedOk) {
      if (!scan.teChunkedMisplaced && scan.teOther) return new ParseError("E_UNSUPPORTED_TE", "unsupported transfer coding");
      return new ParseError("E_BAD_TRANSFER_ENCODING", "chunked must be the final transfer coding, once");
    }
    if (scan.teOther) return new ParseError("E_UNSUPPORTED_TE", "unsupported transfer coding (only chunked is implemented)");
    framing = FRAMING_CHUNKED;
  } else if (scan.contentLength >= 0) {
    framing = lengthFraming(scan.contentLength);
  }

  const keepAlive = minor === 1 ? !scan.connClose : scan.connKeepAlive && !scan.connClose;
  let upgrade: string | null = null;
  if (scan.connUpgrade && scan.upgradeIndex >= 0) {
    const p = scan.upgradeIndex * SLOTS;
    upgrade = lowerValue(buf, s + offs[p + 2]!, s + offs[p + 3]!);
  }

  let bytes: Buffer;
  if (owned) {
    bytes = buf.subarray(s, headEnd);
  } else {
    bytes = Buffer.allocUnsafe(headEnd - s);
    buf.copy(bytes, 0, s, headEnd);
  }
  return new ParsedRequestHead(
    bytes,
    offs.slice(0, scan.count * SLOTS),
    scan.count,
    scan.connNames,
    headEnd - start,
    method,
    target,
    path,
    authority,
    absoluteForm,
    minor,
    keepAlive,
    framing,
    upgrade,
    scan.expectContinue && minor === 1,
  );
}

/** authority-form = uri-host ":" port (CONNECT). */
function isAuthorityForm(buf: Buffer, s: number, e: number): boolean {
  const colon = buf.lastIndexOf(0x3a, e - 1);
  if (colon <= s || colon >= e - 1 || colon < s) return false;
  for (let k = s; k < colon; k++) if (AUTHORITY[buf[k]!] === 0) return false;
  for (let k = colon + 1; k < e; k++) if (buf[k]! < 0x30 || buf[k]! > 0x39) return false;
  return true;
}

/**
 * absolute-form with an http or https scheme: returns the end of the authority (start of the
 * path, query or end of target), or -1. Userinfo ("@") and empty authorities are refused.
 */
function absoluteTarget(buf: Buffer, s: number, e: number): number {
  let a: number;
  if (e - s > 7 && equalsLower(buf, s, "http://")) a = s + 7;
  else if (e - s > 8 && equalsLower(buf, s, "https://")) a = s + 8;
  else return -1;
  const authStart = a;
  while (a < e && buf[a] !== 0x2f && buf[a] !== 0x3f) {
    if (AUTHORITY[buf[a]!] === 0) return -1;
    a++;
  }
  return a === authStart ? -1 : a;
}
