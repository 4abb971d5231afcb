// HPACK decoder (RFC 7541 §3, §6): one per HTTP/2 connection, fed each complete header block in
// order. Indexed static fields return the static table's interned strings; literals are decoded
// as latin1, as node:http2 does.
import { HeaderListTooLarge, HpackError } from "./errors.ts";
import { huffmanDecode } from "./huffman.ts";
import { ENTRY_OVERHEAD, STATIC_COUNT, STATIC_TABLE } from "./static-table.ts";

/** Integers beyond 2³²−1 are not a valid index, length or size here (§5.1's limits). */
const MAX_INT = 0xffffffff;
/** Dynamic table slots a decoder starts with (a power of two). */
const INITIAL_ENTRIES = 16;
/** The Huffman scratch buffer a decoder keeps between strings, at the most. */
const HUFF_KEPT = 4096;

/** Buffer's own latin1 slicer (what toString("latin1", s, e) calls after checking its arguments). */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

export class HpackDecoder {
  /** The largest table size the peer may choose (our SETTINGS_HEADER_TABLE_SIZE). */
  private readonly maxTableSize: number;
  private readonly maxListSize: number;
  /** The size the peer chose with its last size update (≤ maxTableSize). */
  private limit: number;
  private size = 0;
  /** Ring of entries, newest at `head`; grows by doubling as the peer fills it (most clients
   * keep a handful of entries), up to the maxTableSize / 32 entries that can fit. */
  private names: string[] = new Array<string>(INITIAL_ENTRIES).fill("");
  private values: string[] = new Array<string>(INITIAL_ENTRIES).fill("");
  private mask = INITIAL_ENTRIES - 1;
  private head = 0;
  private count = 0;
  /** Read position inside the block being decoded. */
  private pos = 0;
  /** Huffman output; kept only up to HUFF_KEPT octets (a rare huge value is not held per connection). */
  private huff: Buffer = Buffer.allocUnsafe(256);

  constructor(maxTableSize = 4096, maxListSize = 65536) {
    this.maxTableSize = maxTableSize;
    this.maxListSize = maxListSize;
    this.limit = maxTableSize;
  }

  /** Entries in the dynamic table (newest first is index 62). */
  get tableLength(): number {
    return this.count;
  }

  /** The dynamic table's size in octets (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.size;
  }

  /** Dynamic entry i (0 = newest) as [name, value], for tests and diagnostics. */
  entry(i: number): [string, string] {
    const at = (this.head - i) & this.mask;
    return [this.names[at]!, this.values[at]!];
  }

  decode(buf: Buffer, start: number, end: number, out: string[]): void {
    this.pos = start;
    let listSize = 0;
    let fields = false;
    while (this.pos < end) {
      const b = buf[this.pos]!;
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // §6.1 indexed field
        const index = this.integer(buf, end, 0x7f);
        if (index === 0) throw new HpackError("index 0");
        if (index <= STATIC_COUNT) {
          name = STATIC_TABLE[2 * index - 2]!;
          value = STATIC_TABLE[2 * index - 1]!;
        } else {
          const at = this.dynamic(index);
          name = this.names[at]!;
          value = this.values[at]!;
        }
      } else if (b >= 0x40) {
        // §6.2.1 literal with incremental indexing
        const index = this.integer(buf, end, 0x3f);
        name = index === 0 ? this.string(buf, end) : this.name(index);
        value = this.string(buf, end);
        this.insert(name, value);
      } else if (b >= 0x20) {
        // §6.3 dynamic table size update: only before the block's first field
        if (fields) throw new HpackError("dynamic table size update after a header field");
        const size = this.integer(buf, end, 0x1f);
        if (size > this.maxTableSize) {
          throw new HpackError(`dynamic table size update to ${size} above the maximum ${this.maxTableSize}`);
        }
        this.limit = size;
        this.evictTo(size);
        continue;
      } else {
        // §6.2.2 without indexing (0000), §6.2.3 never indexed (0001)
        const index = this.integer(buf, end, 0x0f);
        name = index === 0 ? this.string(buf, end) : this.name(index);
        value = this.string(buf, end);
      }
      fields = true;
      if (listSize <= this.maxListSize) {
        listSize += name.length + value.length + ENTRY_OVERHEAD;
        if (listSize <= this.maxListSize) out.push(name, value);
      }
    }
    if (listSize > this.maxListSize) throw new HeaderListTooLarge(listSize, this.maxListSize);
  }

  /** §5.1: an integer with an N-bit prefix (`mask` = 2^N − 1) at this.pos. */
  private integer(buf: Buffer, end: number, mask: number): number {
    let v = buf[this.pos++]! & mask;
    if (v < mask) return v;
    let factor = 1;
    for (;;) {
      if (this.pos >= end) throw new HpackError("truncated integer");
      const b = buf[this.pos++]!;
      v += (b & 0x7f) * factor;
      if (v > MAX_INT) throw new HpackError("integer overflow");
      if (b < 0x80) return v;
      factor *= 128;
      // 5 continuation octets carry 35 bits: a sixth is padding of zeros (§5.1: octet length limit)
      if (factor > 2 ** 28) throw new HpackError("integer encoding too long");
    }
  }

  /** §5.2: a string literal at this.pos, plain or Huffman-coded. */
  private string(buf: Buffer, end: number): string {
    if (this.pos >= end) throw new HpackError("truncated header block");
    const huffman = buf[this.pos]! >= 0x80;
    const len = this.integer(buf, end, 0x7f);
    const s = this.pos;
    if (len > end - s) throw new HpackError("string literal past the end of the block");
    this.pos = s + len;
    if (len === 0) return "";
    if (!huffman) return (buf as unknown as Latin1Slicer).latin1Slice(s, s + len);
    // ⌈8·len/5⌉ ≤ 2·len octets at the most (codes are ≥ 5 bits)
    let huff = this.huff;
    if (huff.length < len * 2) {
      huff = Buffer.allocUnsafe(len * 2);
      if (huff.length <= HUFF_KEPT) this.huff = huff;
    }
    const n = huffmanDecode(buf, s, s + len, huff);
    return (huff as unknown as Latin1Slicer).latin1Slice(0, n);
  }

  private name(index: number): string {
    return index <= STATIC_COUNT ? STATIC_TABLE[2 * index - 2]! : this.names[this.dynamic(index)]!;
  }

  /** Ring position of dynamic index `index` (> 61). */
  private dynamic(index: number): number {
    const i = index - STATIC_COUNT - 1;
    if (i >= this.count) throw new HpackError(`index ${index} beyond the table (${STATIC_COUNT + this.count} entries)`);
    return (this.head - i) & this.mask;
  }

  /** §4.4: an entry larger than the table empties it and is not added. */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.limit) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.limit - size);
    if (this.count > this.mask) this.grow();
    this.head = (this.head + 1) & this.mask;
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.count++;
    this.size += size;
  }

  /** Doubles the ring, oldest entry first at 0. */
  private grow(): void {
    const cap = 2 * (this.mask + 1);
    const names = new Array<string>(cap).fill("");
    const values = new Array<string>(cap).fill("");
    for (let i = 0; i < this.count; i++) {
      const at = (this.head - this.count + 1 + i) & this.mask;
      names[i] = this.names[at]!;
      values[i] = this.values[at]!;
    }
    this.names = names;
    this.values = values;
    this.mask = cap - 1;
    this.head = this.count - 1;
  }

  private evictTo(size: number): void {
    while (this.size > size) {
      const at = (this.head - this.count + 1) & this.mask;
      this.size -= this.names[at]!.length + this.values[at]!.length + ENTRY_OVERHEAD;
      this.names[at] = "";
      this.values[at] = "";
      this.count--;
    }
  }
}
