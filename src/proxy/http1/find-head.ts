// Finding where a head ends, cheaply enough to be called again and again on a growing buffer.

import { Buffer } from "../../core/builtins.ts";
import { CR, LF } from "./chars.ts";

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");

/**
 * Position just after the first CRLFCRLF in buf[start, end), or -1. Native search (memmem):
 * used for big partial heads only, so that a head trickling in costs little per read.
 * `searchFrom` (≥ start): bytes before it were already searched by an earlier call.
 */
export function findTerminator(buf: Buffer, start: number, end: number, searchFrom: number): number {
  let from = searchFrom - 3;
  if (from < start) from = start;
  const i = buf.indexOf(CRLFCRLF, from);
  return i >= 0 && i + 4 <= end ? i + 4 : -1;
}

/** Skips empty lines (CRLF) before a request line, as RFC 9112 §2.2 asks servers to; returns the new start. */
export function skipLeadingCrlf(buf: Buffer, start: number, end: number): number {
  let s = start;
  // A few at most: more than that is not a stray CRLF after a body but garbage.
  for (let n = 0; n < 4 && s + 1 < end && buf[s] === CR && buf[s + 1] === LF; n++) s += 2;
  return s;
}
