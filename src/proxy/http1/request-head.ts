// Request head parser (RFC 9112 §3, §6; RFC 9110 §7.2). Strict: anything that two HTTP parsers
// could read differently is refused (see docs/http1-codec.md).

import type { HeadLimits, RequestBodyFraming, RequestHead } from "./types.ts";
import { DEFAULT_HEAD_LIMITS } from "./types.ts";
import { AUTHORITY, CR, SP, TARGET, TOKEN, equalsLower } from "./chars.ts";
import { HeadBase, SLOTS } from "./head-base.ts";
import { scan, scanHeaders, lowerValue } from "./header-scan.ts";
import { findHeadEnd, skipLeadingCrlf } from "./find-head.ts";
import { ParseError } from "./parse-error.ts";
import { FRAMING_CHUNKED, FRAMING_NONE, lengthFraming } from "./framing.ts";
import { internMethod } from "./methods.ts";
import { parseVersion } from "./version.ts";

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
    offsets: Int32Array,
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
 * `searchFrom` (optional, ≥ start): where the previous call's data ended — avoids re-searching
 * the same bytes for the terminator when a head arrives in many small reads.
 */
export function parseRequestHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  searchFrom: number = start,
): RequestHead | ParseError | null {
  const s = skipLeadingCrlf(buf, start, end);
  if (s < end && TOKEN[buf[s]!] === 0 && !(buf[s] === CR && s + 1 === end)) return new ParseError("E_BAD_REQUEST_LINE", "request does not start with a method token", s - start);
  const headEnd = findHeadEnd(buf, s, end, searchFrom > s ? searchFrom : s);
  if (headEnd < 0) {
    if (end - start > limits.maxHeadBytes) return new ParseError("E_HEAD_TOO_LARGE", `head larger than ${limits.maxHeadBytes} bytes`);
    return checkPartialRequestLine(buf, s, end);
  }
  if (headEnd - start > limits.maxHeadBytes) return new ParseError("E_HEAD_TOO_LARGE", `head larger than ${limits.maxHeadBytes} bytes`);
  return parseComplete(buf, start, s, headEnd, limits);
}

/**
 * Request lines up to this long are checked as soon as they are complete, before the rest of the
 * head arrives (garbage is not held until a timeout). Bounded so that a head trickling in byte by
 * byte costs O(this) per call, not O(head).
 */
const EARLY_LINE_CHECK = 4096;

/** Rejects early a complete but bad request line. Same verdict as the full parse would give. */
function checkPartialRequestLine(buf: Buffer, s: number, end: number): ParseError | null {
  const lim = end - s < EARLY_LINE_CHECK ? end : s + EARLY_LINE_CHECK;
  const i = buf.subarray(s, lim).indexOf(0x0a);
  if (i < 0) return null;
  const nl = s + i;
  const r = requestLine(buf, s, nl, s);
  return r instanceof ParseError ? r : null;
}

// Request-line results (module-level, reused: no allocation per request).
let rlMethod = "";
let rlTargetStart = 0;
let rlTargetEnd = 0;
let rlMinor: 0 | 1 = 1;

/** Parses `method SP request-target SP HTTP-version` in buf[s, nl) (nl = the LF). */
function requestLine(buf: Buffer, s: number, nl: number, base: number): ParseError | null {
  if (nl === s || buf[nl - 1] !== CR) return new ParseError("E_BAD_LINE_ENDING", "request line does not end with CRLF", nl - base);
  const lineEnd = nl - 1;
  const cr = buf.indexOf(CR, s);
  if (cr < lineEnd) return new ParseError("E_BAD_LINE_ENDING", "bare CR in request line", cr - base);
  let i = s;
  while (TOKEN[buf[i]!] === 1) i++;
  if (i === s || i >= lineEnd || buf[i] !== SP) return new ParseError("E_BAD_REQUEST_LINE", "invalid method or missing SP after it", i - base);
  rlMethod = internMethod(buf, s, i);
  const t = i + 1;
  i = t;
  while (TARGET[buf[i]!] === 1) i++;
  if (i === t || i >= lineEnd || buf[i] !== SP) return new ParseError("E_BAD_REQUEST_LINE", "invalid request-target or missing SP after it", i - base);
  rlTargetStart = t;
  rlTargetEnd = i;
  const v = parseVersion(buf, i + 1, lineEnd);
  if (v < 0) {
    return v === -2
      ? new ParseError("E_VERSION", "HTTP version not supported", i + 1 - base)
      : new ParseError("E_BAD_REQUEST_LINE", "invalid HTTP version", i + 1 - base);
  }
  rlMinor = v as 0 | 1;
  return null;
}

function parseComplete(buf: Buffer, start: number, s: number, headEnd: number, limits: HeadLimits): RequestHead | ParseError {
  const nl = buf.indexOf(0x0a, s);
  if (nl < 0 || nl >= headEnd) return new ParseError("E_BAD_LINE_ENDING", "request line does not end with CRLF", headEnd - start);
  const lineErr = requestLine(buf, s, nl, start);
  if (lineErr !== null) return lineErr;
  const method = rlMethod;
  const minor = rlMinor;
  const tStart = rlTargetStart;
  const tEnd = rlTargetEnd;

  const hdrErr = scanHeaders(buf, nl + 1, headEnd, s, limits.maxHeaders, false);
  if (hdrErr !== null) return hdrErr;
  if (scan.end !== headEnd) return new ParseError("E_BAD_LINE_ENDING", "bare LF line ending", scan.end - start);

  // Host: exactly one on HTTP/1.1, at most one on 1.0 (RFC 9112 §3.2).
  if (scan.hostCount > 1) return new ParseError("E_BAD_HOST", "more than one Host header");
  if (scan.hostCount === 0 && minor === 1) return new ParseError("E_MISSING_HOST", "HTTP/1.1 request without Host");
  const offs = scan.offsets;
  let hostValue = "";
  if (scan.hostIndex >= 0) {
    const p = scan.hostIndex * SLOTS;
    const hs = s + offs[p + 2]!;
    const he = s + offs[p + 3]!;
    for (let k = hs; k < he; k++) if (AUTHORITY[buf[k]!] === 0) return new ParseError("E_BAD_HOST", "invalid Host value", k - start);
    hostValue = buf.toString("latin1", hs, he);
  }

  // request-target forms (RFC 9112 §3.2).
  const target = buf.toString("latin1", tStart, tEnd);
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

  const len = headEnd - s;
  const bytes = Buffer.allocUnsafe(len);
  buf.copy(bytes, 0, s, headEnd);
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
