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

/** Id of the header name buf[start, end) (already validated as a token). */
export function identifyHeader(buf: Buffer, start: number, end: number): number {
  switch (end - start) {
    case 2:
      return equalsLower(buf, start, "te") ? H_TE : H_OTHER;
    case 4:
      return equalsLower(buf, start, "host") ? H_HOST : H_OTHER;
    case 6:
      return equalsLower(buf, start, "expect") ? H_EXPECT : H_OTHER;
    case 7:
      if (equalsLower(buf, start, "upgrade")) return H_UPGRADE;
      return equalsLower(buf, start, "trailer") ? H_TRAILER : H_OTHER;
    case 10:
      if (equalsLower(buf, start, "connection")) return H_CONNECTION;
      return equalsLower(buf, start, "keep-alive") ? H_KEEP_ALIVE : H_OTHER;
    case 14:
      return equalsLower(buf, start, "content-length") ? H_CONTENT_LENGTH : H_OTHER;
    case 16:
      return equalsLower(buf, start, "proxy-connection") ? H_PROXY_CONNECTION : H_OTHER;
    case 17:
      return equalsLower(buf, start, "transfer-encoding") ? H_TRANSFER_ENCODING : H_OTHER;
    default:
      return H_OTHER;
  }
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
