// Header names the codec itself interprets, recognised by length first and then bytes, and
// precompiled name sets for the proxy's own drop lists.

import type { HeaderNameSet } from "./types.ts";
import { LOWER, equalsLower } from "./chars.ts";

// Ids stored per header in the offsets table (slot 4), so forwarding never compares names again.
export const H_OTHER = 0;
export const H_HOST = 1;
export const H_CONTENT_LENGTH = 2;
export const H_TRANSFER_ENCODING = 3;
export const H_CONNECTION = 4;
export const H_UPGRADE = 5;
export const H_EXPECT = 6;
export const H_KEEP_ALIVE = 7;
export const H_PROXY_CONNECTION = 8;
export const H_TE = 9;
export const H_TRAILER = 10;

// The names above, looked up by length and the first byte's low five bits (the two lengths with two
// names, 7 and 10, differ in their first letter), so that naming a header takes one comparison. A
// switch over lengths with one comparison per name made TurboFan inline equalsLower's loop five
// times into scanHeaders, the largest compile job of the request path after the serializer (3.5 MB
// of zone memory at 1,000 rps; 1.9 MB this way: docs/performance.md, "Session 12").
const KNOWN: ReadonlyArray<readonly [string, number]> = [
  ["te", H_TE],
  ["host", H_HOST],
  ["expect", H_EXPECT],
  ["upgrade", H_UPGRADE],
  ["trailer", H_TRAILER],
  ["connection", H_CONNECTION],
  ["keep-alive", H_KEEP_ALIVE],
  ["content-length", H_CONTENT_LENGTH],
  ["proxy-connection", H_PROXY_CONNECTION],
  ["transfer-encoding", H_TRANSFER_ENCODING],
];
const MAX_KNOWN = 17;
const knownKey = (length: number, first: number): number => (length << 5) | (first & 31);
const KNOWN_NAME: string[] = new Array<string>(knownKey(MAX_KNOWN, 31) + 1).fill("");
const KNOWN_ID: number[] = new Array<number>(KNOWN_NAME.length).fill(H_OTHER);
for (const [name, id] of KNOWN) {
  const k = knownKey(name.length, name.charCodeAt(0));
  KNOWN_NAME[k] = name;
  KNOWN_ID[k] = id;
}

/** Id of the header name buf[start, end) (already validated as a token, so not empty). */
export function identifyHeader(buf: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length > MAX_KNOWN) return H_OTHER;
  const k = knownKey(length, buf[start]!);
  const name = KNOWN_NAME[k]!;
  // Bytes that share a name's low five bits ("T", but also "4", for "t") fall to the comparison; an
  // empty slot ("") to the length test.
  return name.length === length && equalsLower(buf, start, name) ? KNOWN_ID[k]! : H_OTHER;
}

class CompiledNames implements HeaderNameSet {
  // Bucketed by length: a lookup touches only the names of the same length.
  private readonly byLength: Map<number, string[]>;
  private readonly all: Set<string>;

  constructor(names: readonly string[]) {
    this.byLength = new Map();
    this.all = new Set();
    for (const raw of names) {
      const name = raw.toLowerCase();
      if (this.all.has(name)) continue;
      this.all.add(name);
      const bucket = this.byLength.get(name.length);
      if (bucket) bucket.push(name);
      else this.byLength.set(name.length, [name]);
    }
  }

  matches(buf: Buffer, start: number, end: number): boolean {
    const bucket = this.byLength.get(end - start);
    if (bucket === undefined) return false;
    for (let i = 0; i < bucket.length; i++) {
      if (equalsLower(buf, start, bucket[i]!)) return true;
    }
    return false;
  }

  has(lowerName: string): boolean {
    return this.all.has(lowerName);
  }
}

/** Precompiles a set of header names (any case) for HeaderNameSet.matches on raw head bytes. */
export function compileHeaderNames(names: readonly string[]): HeaderNameSet {
  return new CompiledNames(names);
}

/** The empty set (default `drop`). */
export const NO_NAMES: HeaderNameSet = compileHeaderNames([]);

/** Case-insensitive compare of buf[start, end) with a lower-case string. */
export function nameEquals(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    if (LOWER[buf[start + i]!] !== lower.charCodeAt(i)) return false;
  }
  return true;
}
