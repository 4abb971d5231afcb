// Response head parser (RFC 9112 §4, §6.3). A bad upstream response is a ParseError whose
// status the proxy replaces by 502 (statusForUpstreamError).

import type { HeadLimits, ResponseBodyFraming, ResponseHead } from "./types.ts";
import { DEFAULT_HEAD_LIMITS } from "./types.ts";
import { CR, REASON, SP } from "./chars.ts";
import { HeadBase, SLOTS } from "./head-base.ts";
import { scan, scanHeaders, lowerValue } from "./header-scan.ts";
import { findHeadEnd } from "./find-head.ts";
import { ParseError } from "./parse-error.ts";
import { FRAMING_CHUNKED, FRAMING_CLOSE, FRAMING_NONE, lengthFraming } from "./framing.ts";
import { parseVersion } from "./version.ts";

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
    offsets: Int32Array,
    count: number,
    connectionNames: readonly string[] | null,
    status: number,
    reason: string,
    versionMinor: 0 | 1,
    framing: ResponseBodyFraming,
    keepAlive: boolean,
    upgrade: string | null,
  ) {
    super(bytes, offsets, count, connectionNames);
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
 */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  requestMethod: string,
  limits: HeadLimits = DEFAULT_HEAD_LIMITS,
  searchFrom: number = start,
): ResponseHead | ParseError | null {
  const headEnd = findHeadEnd(buf, start, end, searchFrom);
  if (headEnd < 0) {
    if (end - start > limits.maxHeadBytes) return new ParseError("E_HEAD_TOO_LARGE", `response head larger than ${limits.maxHeadBytes} bytes`);
    if (end - start >= 5 && buf[start] !== 0x48 /* H */) return new ParseError("E_BAD_STATUS_LINE", "response does not start with HTTP/");
    return null;
  }
  if (headEnd - start > limits.maxHeadBytes) return new ParseError("E_HEAD_TOO_LARGE", `response head larger than ${limits.maxHeadBytes} bytes`);

  // status-line = HTTP-version SP status-code SP [ reason-phrase ]; a missing SP before an empty
  // reason is tolerated (common in the wild, unambiguous).
  const nl = buf.indexOf(0x0a, start);
  if (nl < 0 || nl >= headEnd || nl === start || buf[nl - 1] !== CR) return new ParseError("E_BAD_LINE_ENDING", "status line does not end with CRLF", nl - start);
  const lineEnd = nl - 1;
  const v = parseVersion(buf, start, Math.min(start + 8, lineEnd));
  if (v < 0) return new ParseError(v === -2 ? "E_VERSION" : "E_BAD_STATUS_LINE", "invalid HTTP version in status line");
  const minor = v as 0 | 1;
  const p = start + 8;
  if (lineEnd < p + 4 || buf[p] !== SP) return new ParseError("E_BAD_STATUS_LINE", "invalid status line");
  let status = 0;
  for (let k = p + 1; k < p + 4; k++) {
    const d = buf[k]! - 0x30;
    if (d < 0 || d > 9) return new ParseError("E_BAD_STATUS_LINE", "status code is not 3 digits", k - start);
    status = status * 10 + d;
  }
  if (status < 100 || status > 599) return new ParseError("E_BAD_STATUS_LINE", `status code ${status} out of range`);
  let reason = "";
  if (lineEnd > p + 4) {
    if (buf[p + 4] !== SP) return new ParseError("E_BAD_STATUS_LINE", "missing SP after status code", p + 4 - start);
    for (let k = p + 5; k < lineEnd; k++) if (REASON[buf[k]!] === 0) return new ParseError("E_BAD_STATUS_LINE", "invalid byte in reason phrase", k - start);
    reason = buf.toString("latin1", p + 5, lineEnd);
  }

  const hdrErr = scanHeaders(buf, nl + 1, headEnd, start, limits.maxHeaders, true);
  if (hdrErr !== null) return hdrErr;
  if (scan.end !== headEnd) return new ParseError("E_BAD_LINE_ENDING", "bare LF line ending", scan.end - start);

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
  const bytes = Buffer.allocUnsafe(len);
  buf.copy(bytes, 0, start, headEnd);
  return new ParsedResponseHead(
    bytes,
    scan.offsets.slice(0, scan.count * SLOTS),
    scan.count,
    scan.connNames,
    status,
    reason,
    minor,
    framing,
    keepAlive,
    upgrade,
  );
}
