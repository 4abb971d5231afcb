// HPACK encoder (RFC 7541 §6) for the header blocks a server sends: exact static matches are one
// octet (`:status 200`), other fields are literals with an indexed name, and fields that repeat
// across responses (content-type, server, x-envoy-upstream-service-time…) enter the dynamic table
// so the next response sends them as one or two octets (a field at the same position as in the last
// block is found again without the table lookups). Sensitive fields are never indexed.
import { huffmanEncode, huffmanLength } from "./huffman.ts";
import { ENTRY_OVERHEAD, STATIC_COUNT, STATIC_NAME_INDEX, STATIC_PAIR_INDEX } from "./static-table.ts";

/** How a field with a given name is written when its value is not already in a table. */
const INDEX = 0; // literal with incremental indexing, when it fits
const NO_INDEX = 1; // values unique per message: indexing them only churns the table (nghttp2's list)
const NEVER = 2; // never-indexed literal (§7.1.3): credentials, as nghttp2 marks them
const COOKIE = 3; // short cookies are guessable from their compressed size: never indexed below 20
const SHORT_COOKIE = 20;

interface NameInfo {
  /** Lowest static index of the name, 0 if none. */
  staticIndex: number;
  /** Static entries with this name and a value: value → index. */
  pairs: ReadonlyMap<string, number> | undefined;
  policy: number;
}

/** One lookup per field for every name HPACK or our policy knows. */
const KNOWN: ReadonlyMap<string, NameInfo> = (() => {
  const m = new Map<string, NameInfo>();
  const info = (name: string): NameInfo => {
    let i = m.get(name);
    if (i === undefined) m.set(name, (i = { staticIndex: STATIC_NAME_INDEX.get(name) ?? 0, pairs: STATIC_PAIR_INDEX.get(name), policy: INDEX }));
    return i;
  };
  for (const name of STATIC_NAME_INDEX.keys()) info(name);
  for (const name of [":path", "age", "content-length", "etag", "if-modified-since", "if-none-match", "location"]) info(name).policy = NO_INDEX;
  for (const name of ["authorization", "proxy-authorization", "set-cookie"]) info(name).policy = NEVER;
  info("cookie").policy = COOKIE;
  return m;
})();
/** Worst case of one size update: a 5-bit prefix integer up to 2³²−1. */
const SIZE_UPDATE_MAX = 6;
/** Worst-case overhead of one literal field beyond its name and value octets. */
const FIELD_OVERHEAD_MAX = 11;

export class HpackEncoder {
  /** Our own cap on the table, whatever the peer allows. */
  private readonly maxTableSize: number;
  private readonly huffman: boolean;
  private limit: number;
  private size = 0;
  /** Size updates owed at the start of the next block (§4.2: the smallest, then the final). */
  private updateMin = -1;
  private updateFinal = -1;
  /** Entries by insertion id (1, 2, …); id `inserted` is the newest, dynamic index 62. */
  private inserted = 0;
  private count = 0;
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private readonly byName = new Map<string, number>();
  private readonly byPair = new Map<string, Map<string, number>>();
  /**
   * The last block's fields by position, and how each can be sent again as one index: a static
   * index (negative), a dynamic entry's id (positive, while the entry is in the table) or 0 (not
   * indexed). A proxy's responses repeat their fields in the same order (server, content-type…):
   * two string comparisons replace the table lookups, which hash the header strings each response
   * makes anew.
   */
  private lastNames: string[] = [];
  private lastValues: string[] = [];
  private lastRefs: number[] = [];

  /** `huffman`: Huffman-code literals when shorter (off by default: loopback gains nothing). */
  constructor(maxTableSize = 4096, huffman = false) {
    this.maxTableSize = maxTableSize;
    this.huffman = huffman;
    // The peer's SETTINGS_HEADER_TABLE_SIZE starts at 4096 (RFC 9113 §6.5.2).
    this.limit = Math.min(maxTableSize, 4096);
  }

  setPeerMaxTableSize(n: number): void {
    const size = Math.min(n, this.maxTableSize);
    if (this.updateMin < 0 || size < this.updateMin) this.updateMin = size;
    this.updateFinal = size;
  }

  /** The dynamic table's size in octets (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.size;
  }

  /** Entries in the dynamic table. */
  get tableLength(): number {
    return this.count;
  }

  encode(fields: readonly string[], out: Buffer, offset: number): number {
    // Room for the worst case first, so a short buffer leaves the table untouched.
    let need = 2 * SIZE_UPDATE_MAX;
    for (let i = 0; i < fields.length; i++) need += fields[i]!.length + FIELD_OVERHEAD_MAX / 2;
    if (out.length - offset < need) return -1;
    let o = offset;
    // §4.2 asks for an update only when our table's size changes (nghttp2 reads it so too).
    if (this.updateMin >= 0 && (this.updateMin < this.limit || this.updateFinal !== this.limit)) {
      if (this.updateMin < this.updateFinal) o = integer(out, o, 0x20, 0x1f, this.updateMin);
      o = integer(out, o, 0x20, 0x1f, this.updateFinal);
      this.evictTo(this.updateMin); // the decoder shrinks to the smallest size first
      this.limit = this.updateFinal;
    }
    this.updateMin = this.updateFinal = -1;
    const names = this.lastNames;
    const values = this.lastValues;
    const refs = this.lastRefs;
    let k = 0;
    for (let i = 0; i + 1 < fields.length; i += 2, k++) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      if (k < refs.length && name === names[k] && value === values[k]) {
        const ref = refs[k]!;
        if (ref < 0) {
          o = integer(out, o, 0x80, 0x7f, -ref);
          continue;
        }
        // A dynamic entry: still in the table unless evicted since (ids above inserted − count are).
        if (ref > this.inserted - this.count) {
          o = integer(out, o, 0x80, 0x7f, this.index(ref));
          continue;
        }
      }
      o = this.field(name, value, out, o);
      names[k] = name;
      values[k] = value;
      refs[k] = this.lastRef;
    }
    if (refs.length > k) names.length = values.length = refs.length = k;
    return o;
  }

  /** How the field field() just wrote can be sent again (lastRefs). */
  private lastRef = 0;

  private field(name: string, value: string, out: Buffer, o: number): number {
    this.lastRef = 0;
    const known = KNOWN.get(name);
    let policy = INDEX;
    let nameIndex = 0;
    if (known !== undefined) {
      const exact = known.pairs?.get(value);
      if (exact !== undefined) {
        this.lastRef = -exact;
        return integer(out, o, 0x80, 0x7f, exact);
      }
      policy = known.policy === COOKIE ? (value.length < SHORT_COOKIE ? NEVER : INDEX) : known.policy;
      nameIndex = known.staticIndex;
    }
    if (policy !== NEVER && this.count > 0) {
      const id = this.byPair.get(name)?.get(value);
      if (id !== undefined) {
        this.lastRef = id;
        return integer(out, o, 0x80, 0x7f, this.index(id));
      }
      if (nameIndex === 0) {
        const named = this.byName.get(name);
        if (named !== undefined) nameIndex = this.index(named);
      }
    }
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (policy === NEVER) {
      o = integer(out, o, 0x10, 0x0f, nameIndex);
    } else if (policy === INDEX && entrySize <= (this.limit * 3) / 4) {
      o = integer(out, o, 0x40, 0x3f, nameIndex);
      this.insert(name, value, entrySize);
      this.lastRef = this.inserted;
    } else {
      o = integer(out, o, 0x00, 0x0f, nameIndex);
    }
    if (nameIndex === 0) o = this.string(name, out, o);
    return this.string(value, out, o);
  }

  /** §5.2 string literal: Huffman when enabled and shorter, else latin1 octets. */
  private string(s: string, out: Buffer, o: number): number {
    if (this.huffman) {
      const len = huffmanLength(s);
      if (len < s.length) return huffmanEncode(s, out, integer(out, o, 0x80, 0x7f, len));
    }
    o = integer(out, o, 0x00, 0x7f, s.length);
    if (s.length > 32) return o + out.write(s, o, "latin1");
    for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i);
    return o;
  }

  private index(id: number): number {
    return STATIC_COUNT + 1 + this.inserted - id;
  }

  private insert(name: string, value: string, entrySize: number): void {
    this.evictTo(this.limit - entrySize);
    const id = ++this.inserted;
    this.names.push(name);
    this.values.push(value);
    this.count++;
    this.size += entrySize;
    this.byName.set(name, id);
    let byValue = this.byPair.get(name);
    if (byValue === undefined) this.byPair.set(name, (byValue = new Map()));
    byValue.set(value, id);
  }

  private evictTo(size: number): void {
    let evicted = 0;
    while (this.size > size) {
      const id = this.inserted - this.count + 1;
      const name = this.names[evicted]!;
      const value = this.values[evicted]!;
      evicted++;
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
      this.count--;
      if (this.byName.get(name) === id) this.byName.delete(name);
      const byValue = this.byPair.get(name);
      if (byValue !== undefined && byValue.get(value) === id) {
        byValue.delete(value);
        if (byValue.size === 0) this.byPair.delete(name);
      }
    }
    if (evicted > 0) {
      this.names.splice(0, evicted);
      this.values.splice(0, evicted);
    }
  }
}

/** §5.1: `value` with an N-bit prefix (`mask` = 2^N − 1) after the representation's `bits`. */
function integer(out: Buffer, o: number, bits: number, mask: number, value: number): number {
  if (value < mask) {
    out[o] = bits | value;
    return o + 1;
  }
  out[o++] = bits | mask;
  let v = value - mask;
  while (v >= 0x80) {
    out[o++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[o] = v;
  return o + 1;
}
