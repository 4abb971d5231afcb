// Finding where a head ends, cheaply enough to be called again and again on a growing buffer.

import { CR, LF } from "./chars.ts";

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const LFLF = Buffer.from("\n\n", "latin1");

/**
 * Returns the position just after the head's terminator within buf[start, end):
 * CRLFCRLF normally, or the first LFLF (a bare-LF head, which the line scanner then rejects — we
 * must not wait for a CRLFCRLF that a bare-LF client never sends). -1 if neither is present yet.
 * `searchFrom` (≥ start): bytes before it were already searched by an earlier call.
 */
export function findHeadEnd(buf: Buffer, start: number, end: number, searchFrom: number): number {
  let from = searchFrom - 3;
  if (from < start) from = start;
  const crlf = buf.indexOf(CRLFCRLF, from);
  if (crlf >= 0 && crlf + 4 <= end) {
    // A bare LFLF before it means a broken head: end there so the line scan reports it.
    return crlf + 4;
  }
  // Only on the incomplete path: look for a bare-LF terminator within the bytes we have.
  const lf = end - from >= 2 ? buf.subarray(from, end).indexOf(LFLF) : -1;
  return lf >= 0 ? from + lf + 2 : -1;
}

/** Skips empty lines (CRLF) before a request line, as RFC 9112 §2.2 asks servers to; returns the new start. */
export function skipLeadingCrlf(buf: Buffer, start: number, end: number): number {
  let s = start;
  // A few at most: more than that is not a stray CRLF after a body but garbage.
  for (let n = 0; n < 4 && s + 1 < end && buf[s] === CR && buf[s + 1] === LF; n++) s += 2;
  return s;
}
