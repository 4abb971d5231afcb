// Finding where a head ends, cheaply enough to be called again and again on a growing buffer.

import { CR, LF } from "./chars.ts";

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

/**
 * Returns the position just after the head's terminator within buf[start, end): CRLFCRLF
 * normally; or, while no CRLFCRLF has arrived, just after the first bare LF or bare CR (a line
 * ending that is not CRLF) — the line scanner then rejects it, rather than waiting for a CRLFCRLF
 * that such a client never sends. -1 if neither is present yet.
 * `searchFrom` (≥ start): bytes before it were already searched by an earlier call.
 */
export function findHeadEnd(buf: Buffer, start: number, end: number, searchFrom: number): number {
  let from = searchFrom - 3;
  if (from < start) from = start;
  const crlf = buf.indexOf(CRLFCRLF, from);
  if (crlf >= 0 && crlf + 4 <= end) return crlf + 4;
  // Incomplete path only: a bare LF or bare CR already decides the verdict.
  let prev = from > start ? buf[from - 1]! : LF;
  for (let i = from; i < end; i++) {
    const b = buf[i]!;
    if ((b === LF && prev !== CR) || (prev === CR && b !== LF)) return i + 1;
    prev = b;
  }
  return -1;
}

/** Skips empty lines (CRLF) before a request line, as RFC 9112 §2.2 asks servers to; returns the new start. */
export function skipLeadingCrlf(buf: Buffer, start: number, end: number): number {
  let s = start;
  // A few at most: more than that is not a stray CRLF after a body but garbage.
  for (let n = 0; n < 4 && s + 1 < end && buf[s] === CR && buf[s + 1] === LF; n++) s += 2;
  return s;
}
