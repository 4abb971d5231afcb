// Scans and validates the header section of a head (shared by requests and responses) and
// collects, in one pass, what the codec itself needs: Host, Content-Length, Transfer-Encoding,
// Connection, Upgrade, Expect. The results go into one reused module-level record (JS is
// single-threaded and the scan never re-enters), so a scan allocates nothing but the Connection
// option names, when there are any.

import { CR, FIELD_VALUE, HT, LF, SP, TOKEN, COLON, COMMA, LOWER, equalsLower, lowerLatin1 } from "./chars.ts";
import { SLOTS } from "./head-base.ts";
import {
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_EXPECT,
  H_HOST,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
  identifyHeader,
} from "./header-names.ts";
import { ParseError } from "./parse-error.ts";
import type { ParseErrorCode } from "./parse-error.ts";

export interface ScanState {
  /** Offsets of the headers, relative to `base` (the start of the head's bytes). */
  offsets: number[];
  count: number;
  /** Position just after the final CRLF (end of head). */
  end: number;
  hostCount: number;
  hostIndex: number;
  /** -1: no Content-Length. */
  contentLength: number;
  teSeen: boolean;
  /** The last transfer coding is chunked and chunked appears exactly once. */
  teChunkedOk: boolean;
  /** chunked is not the last coding, or appears twice. */
  teChunkedMisplaced: boolean;
  /** A coding other than chunked is present. */
  teOther: boolean;
  connClose: boolean;
  connKeepAlive: boolean;
  connUpgrade: boolean;
  connNames: string[] | null;
  upgradeIndex: number;
  expectContinue: boolean;
}

export const scan: ScanState = {
  offsets: new Array<number>(128 * SLOTS).fill(0),
  count: 0,
  end: 0,
  hostCount: 0,
  hostIndex: -1,
  contentLength: -1,
  teSeen: false,
  teChunkedOk: false,
  teChunkedMisplaced: false,
  teOther: false,
  connClose: false,
  connKeepAlive: false,
  connUpgrade: false,
  connNames: null,
  upgradeIndex: -1,
  expectContinue: false,
};

function reset(maxHeaders: number): void {
  if (scan.offsets.length < maxHeaders * SLOTS) scan.offsets = new Array<number>(maxHeaders * SLOTS).fill(0);
  scan.count = 0;
  scan.end = 0;
  scan.hostCount = 0;
  scan.hostIndex = -1;
  scan.contentLength = -1;
  scan.teSeen = false;
  scan.teChunkedOk = false;
  scan.teChunkedMisplaced = false;
  scan.teOther = false;
  scan.connClose = false;
  scan.connKeepAlive = false;
  scan.connUpgrade = false;
  scan.connNames = null;
  scan.upgradeIndex = -1;
  scan.expectContinue = false;
}

function fail(code: ParseErrorCode, message: string, at: number, base: number): ParseError {
  return new ParseError(code, message, at - base);
}

/** scanHeaders / line results: the head is complete and valid so far; or more bytes are needed. */
export const SCAN_OK = 0;
export const SCAN_INCOMPLETE = 1;
export const SCAN_ERROR = 2;
/** The error behind SCAN_ERROR (valid until the next scan). */
export let scanError: ParseError = new ParseError("E_BAD_HEADER", "unset");

export function scanErrorSet(err: ParseError): void {
  scanError = err;
}

function error(code: ParseErrorCode, message: string, at: number, base: number): number {
  scanError = fail(code, message, at, base);
  return SCAN_ERROR;
}

/**
 * Classifies the byte at `i` that stopped a scan where only `SP` (or `:`) was valid, when it is
 * a CR or LF: a bare CR or bare LF is a line-ending error (the same code whatever else is wrong
 * with the line); CRLF means the line ended too early (`code`). Needs the byte after a CR.
 */
export function lineStop(buf: Buffer, i: number, limit: number, base: number, code: ParseErrorCode, message: string): number {
  const c = buf[i];
  if (c === CR) {
    if (i + 1 >= limit) return SCAN_INCOMPLETE;
    if (buf[i + 1] !== LF) return error("E_BAD_LINE_ENDING", "bare CR", i, base);
  } else if (c === LF) {
    return error("E_BAD_LINE_ENDING", "bare LF line ending", i, base);
  }
  return error(code, message, i, base);
}

/**
 * Scans header lines forward from `pos` (the start of the first header line) up to `limit`, in
 * one pass over the bytes (a per-line Buffer#indexOf costs more than the scan itself), until the
 * empty line. `base` is the position offsets are made relative to. Errors are found in byte
 * order and each needs only the bytes up to one past it, so the verdict never depends on how the
 * head was cut into reads. `lenientLists` accepts identical Content-Length values repeated
 * (responses; RFC 9110 §8.6 allows it, and some upstreams do send them).
 * Returns SCAN_OK (scan.end = end of head), SCAN_INCOMPLETE or SCAN_ERROR (scanError).
 */
export function scanHeaders(
  buf: Buffer,
  pos: number,
  limit: number,
  base: number,
  maxHeaders: number,
  lenientLists: boolean,
): number {
  reset(maxHeaders);
  const offs = scan.offsets;
  for (;;) {
    if (pos >= limit) return SCAN_INCOMPLETE;
    let c = buf[pos]!;
    if (c === CR || c === LF) {
      if (c === CR && pos + 1 >= limit) return SCAN_INCOMPLETE;
      if (c === CR && buf[pos + 1] === LF) {
        scan.end = pos + 2;
        return SCAN_OK;
      }
      return error("E_BAD_LINE_ENDING", c === CR ? "bare CR" : "bare LF line ending", pos, base);
    }
    if (c === SP || c === HT) return error("E_OBS_FOLD", "obsolete line folding (or whitespace before a header)", pos, base);
    let i = pos;
    while (i < limit && TOKEN[buf[i]!] === 1) i++;
    if (i >= limit) return SCAN_INCOMPLETE;
    c = buf[i]!;
    if (c !== COLON) {
      if (c === SP || c === HT) return error("E_BAD_HEADER", "whitespace between header name and colon", i, base);
      return lineStop(buf, i, limit, base, "E_BAD_HEADER", i === pos ? "invalid header line" : "invalid character in header name");
    }
    if (i === pos) return error("E_BAD_HEADER", "empty header name", i, base);
    const nameEnd = i;
    let j = i + 1;
    while (j < limit && (buf[j] === SP || buf[j] === HT)) j++;
    const valueStart = j;
    while (j < limit && FIELD_VALUE[buf[j]!] === 1) j++;
    if (j >= limit) return SCAN_INCOMPLETE;
    c = buf[j]!;
    if (c !== CR) {
      if (c === LF) return error("E_BAD_LINE_ENDING", "bare LF line ending", j, base);
      return error("E_BAD_HEADER", `invalid byte 0x${c.toString(16)} in header value`, j, base);
    }
    if (j + 1 >= limit) return SCAN_INCOMPLETE;
    if (buf[j + 1] !== LF) return error("E_BAD_LINE_ENDING", "bare CR in header value", j, base);
    let valueEnd = j;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) valueEnd--;
    const n = scan.count;
    if (n >= maxHeaders) return error("E_TOO_MANY_HEADERS", `more than ${maxHeaders} headers`, pos, base);
    const id = identifyHeader(buf, pos, nameEnd);
    const p = n * SLOTS;
    offs[p] = pos - base;
    offs[p + 1] = nameEnd - base;
    offs[p + 2] = valueStart - base;
    offs[p + 3] = valueEnd - base;
    offs[p + 4] = id;
    scan.count = n + 1;
    if (id !== 0) {
      const err = interpret(buf, id, n, valueStart, valueEnd, base, lenientLists);
      if (err !== null) {
        scanError = err;
        return SCAN_ERROR;
      }
    }
    pos = j + 2;
  }
}

function interpret(buf: Buffer, id: number, index: number, vs: number, ve: number, base: number, lenient: boolean): ParseError | null {
  switch (id) {
    case H_HOST:
      // Requests only (RFC 9112 §3.2); a response's Host header means nothing to the proxy.
      if (scan.hostCount > 0 && !lenient) return fail("E_BAD_HOST", "more than one Host header", vs, base);
      scan.hostCount++;
      if (scan.hostIndex < 0) scan.hostIndex = index;
      return null;
    case H_CONTENT_LENGTH:
      return contentLength(buf, vs, ve, base, lenient);
    case H_TRANSFER_ENCODING:
      return transferEncoding(buf, vs, ve, base);
    case H_CONNECTION:
      return connection(buf, vs, ve, base);
    case H_UPGRADE:
      if (scan.upgradeIndex < 0) scan.upgradeIndex = index;
      return null;
    case H_EXPECT:
      if (ve - vs === 12 && equalsLower(buf, vs, "100-continue")) scan.expectContinue = true;
      return null;
    default:
      return null;
  }
}

/** Content-Length = 1*DIGIT. Leading zeros are unambiguous and accepted; "+", "-", hex, spaces inside are not. */
function contentLength(buf: Buffer, vs: number, ve: number, base: number, lenient: boolean): ParseError | null {
  let value = -1;
  let k = vs;
  for (;;) {
    const elemStart = k;
    let v = 0;
    while (k < ve) {
      const d = buf[k]! - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      if (v > Number.MAX_SAFE_INTEGER) return fail("E_BAD_CONTENT_LENGTH", "Content-Length too large", k, base);
      k++;
    }
    if (k === elemStart) return fail("E_BAD_CONTENT_LENGTH", "Content-Length is not a decimal number", k, base);
    if (value >= 0 && v !== value) return fail("E_BAD_CONTENT_LENGTH", "conflicting Content-Length values", k, base);
    value = v;
    if (k === ve) break;
    // A list ("5, 5") is accepted only for responses and only with identical values.
    if (!lenient) return fail("E_BAD_CONTENT_LENGTH", "Content-Length is not a single decimal number", k, base);
    while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
    if (buf[k] !== COMMA) return fail("E_BAD_CONTENT_LENGTH", "Content-Length is not a decimal number", k, base);
    k++;
    while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
  }
  if (scan.contentLength >= 0) {
    if (!lenient) return fail("E_BAD_CONTENT_LENGTH", "more than one Content-Length header", vs, base);
    if (scan.contentLength !== value) return fail("E_BAD_CONTENT_LENGTH", "conflicting Content-Length headers", vs, base);
  }
  scan.contentLength = value;
  return null;
}

/**
 * Transfer-Encoding = #transfer-coding, accumulated over all TE lines. Strict list syntax: no
 * empty elements and no parameters (chunked takes none; other codings are refused anyway).
 */
function transferEncoding(buf: Buffer, vs: number, ve: number, base: number): ParseError | null {
  scan.teSeen = true;
  let k = vs;
  for (;;) {
    const s = k;
    while (k < ve && TOKEN[buf[k]!] === 1) k++;
    if (k === s) return fail("E_BAD_TRANSFER_ENCODING", "empty or invalid transfer coding", k, base);
    const isChunked = k - s === 7 && equalsLower(buf, s, "chunked");
    if (scan.teChunkedOk) scan.teChunkedMisplaced = true; // something follows chunked
    if (isChunked) scan.teChunkedOk = true;
    else scan.teOther = true;
    if (scan.teChunkedMisplaced) scan.teChunkedOk = false;
    while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
    if (k === ve) return null;
    if (buf[k] !== COMMA) return fail("E_BAD_TRANSFER_ENCODING", "invalid character in Transfer-Encoding", k, base);
    k++;
    while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
  }
}

/** Connection = #connection-option; empty list elements are allowed (RFC 9110 §5.6.1.2). */
function connection(buf: Buffer, vs: number, ve: number, base: number): ParseError | null {
  let k = vs;
  while (k < ve) {
    const s = k;
    while (k < ve && TOKEN[buf[k]!] === 1) k++;
    const len = k - s;
    if (len === 5 && equalsLower(buf, s, "close")) scan.connClose = true;
    else if (len === 10 && equalsLower(buf, s, "keep-alive")) scan.connKeepAlive = true;
    else if (len === 7 && equalsLower(buf, s, "upgrade")) scan.connUpgrade = true;
    else if (len > 0) (scan.connNames ??= []).push(lowerLatin1(buf, s, k));
    while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
    if (k === ve) break;
    if (buf[k] !== COMMA) return fail("E_BAD_HEADER", "invalid character in Connection", k, base);
    k++;
    while (k < ve && (buf[k] === SP || buf[k] === HT)) k++;
  }
  return null;
}

/** Lower-case copy of bytes (for the Upgrade token). */
export function lowerValue(buf: Buffer, s: number, e: number): string {
  let out = "";
  for (let i = s; i < e; i++) out += String.fromCharCode(LOWER[buf[i]!]!);
  return out;
}
