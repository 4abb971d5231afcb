// Header storage shared by request and response heads: the head's bytes (copied out of the
// caller's reused read buffer) plus one flat array of positions — no object per header. (A plain
// array of small integers, not an Int32Array: V8 gives a typed array over 64 bytes an off-heap
// backing store, which costs more to allocate than the whole parse.)

import type { HeaderNameSet, HeaderView } from "./types.ts";
import { nameEquals } from "./header-names.ts";
import { latin1 } from "./latin1-cache.ts";
import {
  H_CONNECTION,
  H_CONTENT_LENGTH,
  H_HOST,
  H_KEEP_ALIVE,
  H_PROXY_CONNECTION,
  H_TE,
  H_TRAILER,
  H_TRANSFER_ENCODING,
  H_UPGRADE,
} from "./header-names.ts";

/** Slots per header in the offsets table. */
export const SLOTS = 5;
// slot 0: name start, 1: name end, 2: value start, 3: value end (OWS trimmed), 4: header id.

/** What forwarding keeps besides the always-end-to-end headers. */
export const KEEP_UPGRADE = 1;
export const KEEP_CONTENT_LENGTH = 2;
export const KEEP_HOST = 4;

export class HeadBase implements HeaderView {
  /**
   * The head's bytes, from the first byte of the start line to the final CRLFCRLF inclusive (a
   * copy), or, for a view (parseResponseHead's `view`), the caller's buffer with the head in it.
   */
  readonly bytes: Buffer;
  /** SLOTS ints per header, positions in `bytes`. */
  readonly offsets: readonly number[];
  readonly count: number;
  /** Where the head ends in `bytes` (after its final CRLFCRLF). */
  readonly headEnd: number;
  readonly headLength: number;
  /** Lower-case names listed in Connection (other than close/keep-alive/upgrade): hop-by-hop too. */
  readonly connectionNames: readonly string[] | null;

  constructor(bytes: Buffer, offsets: readonly number[], count: number, connectionNames: readonly string[] | null, headEnd = bytes.length, headLength = headEnd) {
    this.bytes = bytes;
    this.offsets = offsets;
    this.count = count;
    this.headEnd = headEnd;
    this.headLength = headLength;
    this.connectionNames = connectionNames;
  }

  indexOf(name: string): number {
    const o = this.offsets;
    const len = name.length;
    for (let i = 0, p = 0; i < this.count; i++, p += SLOTS) {
      if (o[p + 1]! - o[p]! === len && nameEquals(this.bytes, o[p]!, o[p + 1]!, name)) return i;
    }
    return -1;
  }

  get(name: string): string | undefined {
    const i = this.indexOf(name);
    return i < 0 ? undefined : this.valueAt(i);
  }

  getAll(name: string): string[] {
    const out: string[] = [];
    const o = this.offsets;
    for (let i = 0, p = 0; i < this.count; i++, p += SLOTS) {
      if (nameEquals(this.bytes, o[p]!, o[p + 1]!, name)) out.push(this.valueAt(i));
    }
    return out;
  }

  has(name: string): boolean {
    return this.indexOf(name) >= 0;
  }

  nameAt(i: number): string {
    const p = this.slot(i);
    return this.bytes.toString("latin1", this.offsets[p]!, this.offsets[p + 1]!);
  }

  valueAt(i: number): string {
    const p = this.slot(i);
    return latin1(this.bytes, this.offsets[p + 2]!, this.offsets[p + 3]!);
  }

  forEachForwarded(cb: (name: string, value: string) => void, drop?: HeaderNameSet): void {
    for (let i = 0; i < this.count; i++) {
      if (this.isForwarded(i, KEEP_HOST, drop)) cb(this.nameAt(i), this.valueAt(i));
    }
  }

  /**
   * forEachForwarded with lower-case names, each taken from `names` (the forwarded names seen at each
   * position before, lower case, which it updates) when it matches there: a peer sends the same fields in
   * the same order message after message, so a name is a string made once, not a new one per
   * message (its hash computed again wherever a set or map looks it up).
   */
  forEachForwardedLower(cb: (name: string, value: string) => void, names: string[]): void {
    const o = this.offsets;
    for (let i = 0, p = 0, k = 0; i < this.count; i++, p += SLOTS) {
      if (!this.isForwarded(i, KEEP_HOST, undefined)) continue;
      let name = names[k];
      if (name === undefined || !nameEquals(this.bytes, o[p]!, o[p + 1]!, name)) names[k] = name = this.nameAt(i).toLowerCase();
      k++;
      cb(name, this.valueAt(i));
    }
  }

  /**
   * Whether header i is end-to-end: not hop-by-hop (Connection, Keep-Alive, Proxy-Connection, TE,
   * Transfer-Encoding, Trailer, Upgrade unless KEEP_UPGRADE), not named in Connection, not
   * Content-Length / Host unless kept, and not in `drop`.
   */
  isForwarded(i: number, keep: number, drop: HeaderNameSet | undefined): boolean {
    const o = this.offsets;
    const p = i * SLOTS;
    switch (o[p + 4]) {
      case H_CONNECTION:
      case H_KEEP_ALIVE:
      case H_PROXY_CONNECTION:
      case H_TE:
      case H_TRANSFER_ENCODING:
      case H_TRAILER:
        return false;
      case H_UPGRADE:
        if ((keep & KEEP_UPGRADE) === 0) return false;
        break;
      case H_CONTENT_LENGTH:
        if ((keep & KEEP_CONTENT_LENGTH) === 0) return false;
        break;
      case H_HOST:
        if ((keep & KEEP_HOST) === 0) return false;
        break;
    }
    const cn = this.connectionNames;
    if (cn !== null) {
      for (let k = 0; k < cn.length; k++) {
        if (nameEquals(this.bytes, o[p]!, o[p + 1]!, cn[k]!)) return false;
      }
    }
    return drop === undefined || !drop.matches(this.bytes, o[p]!, o[p + 1]!);
  }

  /** Start of line i in `bytes`. */
  lineStart(i: number): number {
    return this.offsets[i * SLOTS]!;
  }

  /** End of line i including its CRLF (the next line's start; the last line ends before the final CRLF). */
  lineEnd(i: number): number {
    // headEnd, not headLength: a request's headLength also counts the empty lines skipped before
    // its request line, which would pull the final CRLF into the last line.
    return i + 1 < this.count ? this.offsets[(i + 1) * SLOTS]! : this.headEnd - 2;
  }

  private slot(i: number): number {
    if (i < 0 || i >= this.count || !Number.isInteger(i)) throw new RangeError(`header index ${i} out of range 0..${this.count - 1}`);
    return i * SLOTS;
  }
}
