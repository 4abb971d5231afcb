// Response head parser (RFC 9112 §4, §6.3). A bad upstream response is a ParseError whose
// status the proxy replaces by 502 (statusForUpstreamError).

import { Buffer } from "../../core/builtins.ts";
import type { HeadLimits, ResponseBodyFraming, ResponseHead } from "./types.ts";
import { DEFAULT_HEAD_LIMITS } from "./types.ts";
import { CR, LF, REASON, SP } from "./chars.ts";
import { HeadBase, SLOTS } from "./head-base.ts";
import { SCAN_ERROR, SCAN_INCOMPLETE, SCAN_OK, lineStop, lowerValue, scan, scanError, scanErrorSet, scanHeaders } from "./header-scan.ts";
import { findTerminator } from "./find-head.ts";
import { ParseError } from "./parse-error.ts";
import { FRAMING_CHUNKED, FRAMING_CLOSE, FRAMING_NONE, lengthFraming } from "./framing.ts";
import { parseVersion } from "./version.ts";
import { latin1 } from "./latin1-cache.ts";

export class ParsedResponseHead extends HeadBase implements ResponseHead {
  readonly status: number;
  readonly reason: string;
  readonly versionMinor: 0 | 1;
  readonly framing: ResponseBodyFraming;
  readonly keepAlive: boolean;
  readonly isInterim: boolean;
  readonly upgrade: string | null;

  constructor(
    bytes: Buffer,
    offsets: readonly number[],
    count: number,
    connectionNames: readonly string[] | null,
    status: number,
    reason: string,
    versionMinor: 0 | 1,
    framing: ResponseBodyFraming,
    keepAlive: boolean,
    upgrade: string | null,
    headEnd = bytes.length,
    headLength = headEnd,
  ) {
    super(bytes, offsets, count, connectionNames, headEnd, headLength);
    this.status = status;
    this.reason = reason;
    this.versionMinor = versionMinor;
    this.framing = framing;
    this.keepAlive = keepAlive;
    this.isInterim = status >= 100 && status < 200 && status !== 101;
    this.upgrade = upgrade;
  }
}

/**
 * Parses a response head from buf[start, end). `requestMethod` is the method of the request it
 * answers (HEAD and CONNECT change the framing). null = incomplete. After an interim (1xx)
 * head, call again at start + headLength for the next head.
 *
 * `view`: the head's header bytes and positions are not copied: it reads `buf` and the parser's
 * scratch table, so its headers (get, forEachForwarded, serializing it) are valid only until
 * `buf` is reused or the next head is parsed — the upstream connection's read callback, which
 * relays the head downstream before it returns. Status, reason, framing and the rest stay valid.
 */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  requestMethod: string,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  searchFrom: number = start,
  view = false,
): ResponseHead | ParseError | null {
  const max = start + limits.maxHeadBytes;
  let limit = end < max ? end : max;
  if (end - start > BIG_PARTIAL_HEAD) {
    const t = findTerminator(buf, start, end, searchFrom);
    if (t < 0 || t > max) return end - start > limits.maxHeadBytes ? tooLarge(limits) : null;
    limit = t;
  }
  const r = statusLine(buf, start, limit);
  if (r !== SCAN_OK) return r === SCAN_ERROR ? scanError : incomplete(end, start, limits);
  const h = scanHeaders(buf, slLineEnd, limit, start, limits.maxHeaders, true);
  if (h !== SCAN_OK) return h === SCAN_ERROR ? scanError : incomplete(end, start, limits);
  return finish(buf, start, scan.end, requestMethod, view);
}

const BIG_PARTIAL_HEAD = 4096;

function incomplete(end: number, start: number, limits: HeadLimits): ParseError | null {
  return end - start >= limits.maxHeadBytes ? tooLarge(limits) : null;
}

function tooLarge(limits: HeadLimits): ParseError {
  return new ParseError("E_HEAD_TOO_LARGE", `response head larger than ${limits.maxHeadBytes} bytes`);
}

let slStatus = 0;
let slReasonStart = 0;
let slReasonEnd = 0;
let slMinor: 0 | 1 = 1;
let slLineEnd = 0;

function bad(message: string, at: number, start: number): number {
  scanErrorSet(new ParseError("E_BAD_STATUS_LINE", message, at - start));
  return SCAN_ERROR;
}

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF; a missing SP before an
 * empty reason is tolerated (common in the wild, unambiguous).
 */
function statusLine(buf: Buffer, start: number, limit: number): number {
  // "HTTP/x.y SP ddd" is 12 bytes; check what has arrived of it byte by byte so garbage fails fast.
  const fixed = "HTTP/";
  for (let k = 0; k < 12; k++) {
    const at = start + k;
    if (at >= limit) return SCAN_INCOMPLETE;
    const c = buf[at]!;
    if (k < 5 ? c !== fixed.charCodeAt(k) : k === 6 ? c !== 0x2e : k === 8 ? c !== SP : c < 0x30 || c > 0x39) {
      return lineStop(buf, at, limit, start, "E_BAD_STATUS_LINE", "invalid status line");
    }
  }
  const v = parseVersion(buf, start, start + 8);
  if (v < 0) {
    scanErrorSet(new ParseError(v === -2 ? "E_VERSION" : "E_BAD_STATUS_LINE", "unsupported HTTP version in status line"));
    return SCAN_ERROR;
  }
  const status = (buf[start + 9]! - 0x30) * 100 + (buf[start + 10]! - 0x30) * 10 + (buf[start + 11]! - 0x30);
  if (status < 100 || status > 599) return bad(`status code ${status} out of range`, start + 9, start);
  let i = start + 12;
  if (i >= limit) return SCAN_INCOMPLETE;
  let rs = i;
  if (buf[i] === SP) {
    rs = ++i;
    while (i < limit && REASON[buf[i]!] === 1) i++;
    if (i >= limit) return SCAN_INCOMPLETE;
  }
  if (buf[i] !== CR || i + 1 >= limit || buf[i + 1] !== LF) return lineStop(buf, i, limit, start, "E_BAD_STATUS_LINE", "invalid status line");
  slStatus = status;
  slReasonStart = rs;
  slReasonEnd = i;
  slMinor = v as 0 | 1;
  slLineEnd = i + 2;
  return SCAN_OK;
}

function finish(buf: Buffer, start: number, headEnd: number, requestMethod: string, view: boolean): ResponseHead | ParseError {
  const status = slStatus;
  const minor = slMinor;
  const reason = latin1(buf, slReasonStart, slReasonEnd);

  // RFC 9112 §6.3, in order.
  let framing: ResponseBodyFraming;
  const noBody = requestMethod === "HEAD" || status < 200 || status === 204 || status === 304 || (requestMethod === "CONNECT" && status < 300);
  if (scan.teSeen && scan.contentLength >= 0) {
    // A proxy must not forward such a message (smuggling); the proxy answers 502.
    return new ParseError("E_CL_AND_TE", "response with both Content-Length and Transfer-Encoding");
  }
  if (noBody) {
    framing = FRAMING_NONE;
  } else if (scan.teSeen) {
    // Only "chunked" is implemented: forwarding another coding would mean announcing it
    // downstream after dropping the (hop-by-hop) Transfer-Encoding line that carried it.
    if (scan.teChunkedMisplaced || scan.teOther) return new ParseError("E_UNSUPPORTED_TE", "unsupported transfer coding in response");
    if (minor === 0) return new ParseError("E_BAD_TRANSFER_ENCODING", "Transfer-Encoding in an HTTP/1.0 response");
    framing = FRAMING_CHUNKED;
  } else if (scan.contentLength >= 0) {
    framing = lengthFraming(scan.contentLength);
  } else {
    framing = FRAMING_CLOSE;
  }

  const keepAlive = framing !== FRAMING_CLOSE && (minor === 1 ? !scan.connClose : scan.connKeepAlive && !scan.connClose);
  let upgrade: string | null = null;
  if (status === 101 && scan.upgradeIndex >= 0) {
    const q = scan.upgradeIndex * SLOTS;
    upgrade = lowerValue(buf, start + scan.offsets[q + 2]!, start + scan.offsets[q + 3]!);
  }

  const len = headEnd - start;
  if (view) {
    // Positions made relative to `buf` in the scratch table itself: no copy, no table per head.
    const o = scan.offsets;
    for (let p = 0, n = scan.count * SLOTS; p < n; p += SLOTS) {
      o[p] = o[p]! + start;
      o[p + 1] = o[p + 1]! + start;
      o[p + 2] = o[p + 2]! + start;
      o[p + 3] = o[p + 3]! + start;
    }
    return new ParsedResponseHead(buf, o, scan.count, scan.connNames, status, reason, minor, framing, keepAlive, upgrade, headEnd, len);
  }
  const bytes = Buffer.allocUnsafe(len);
  buf.copy(bytes, 0, start, headEnd);
  return new ParsedResponseHead(bytes, scan.offsets.slice(0, scan.count * SLOTS), scan.count, scan.connNames, status, reason, minor, framing, keepAlive, upgrade);
}
