// HPACK Huffman coding (RFC 7541 §5.2, Appendix B). Decoding runs a 4-bit state machine built once
// (on first use) from the code table: a state is an inner node of the code tree (256 of them), and each
// (state, nibble) entry says the next state, the symbol completed on the way (at most one: codes
// are ≥ 5 bits), whether EOS was hit, and whether stopping there is valid padding (the bits since
// the last symbol are all ones and fewer than 8).
import { HpackError } from "./errors.ts";
import { EOS_CODE, EOS_LENGTH, HUFFMAN_CODES, HUFFMAN_LENGTHS } from "./huffman-codes.ts";

const EMIT = 1 << 16;
const FAIL = 1 << 17;
const ACCEPT = 1 << 18;

/**
 * (state << 4 | nibble) → next state | symbol << 8 | EMIT | FAIL | ACCEPT. Built on the first
 * Huffman-coded string, not at load: every sidecar loads this module, few see HTTP/2, and the
 * build's loops are hot enough to have V8's optimizing compiler run during the sidecar's start.
 */
let decodeTable: Int32Array | null = null;

function buildDecodeTable(): Int32Array {
  // Inner nodes: child[2n] / child[2n+1] for bit 0 / 1; ≥ 0 an inner node, < 0 a leaf ~symbol.
  const child = new Int32Array(512);
  const depth = new Uint8Array(256);
  const ones = new Uint8Array(256); // 1 when the path to the node is all one-bits
  let nodes = 1;
  ones[0] = 1;
  for (let sym = 0; sym <= 256; sym++) {
    const code = sym === 256 ? EOS_CODE : HUFFMAN_CODES[sym]!;
    const len = sym === 256 ? EOS_LENGTH : HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const bit = (code >>> i) & 1;
      let next = child[2 * node + bit]!;
      if (next === 0) {
        next = nodes++;
        child[2 * node + bit] = next;
        depth[next] = depth[node]! + 1;
        ones[next] = ones[node]! & bit;
      }
      node = next;
    }
    child[2 * node + (code & 1)] = ~sym;
  }
  const table = new Int32Array(256 * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let i = 3; i >= 0; i--) {
        const next = child[2 * node + ((nibble >> i) & 1)]!;
        if (next >= 0) {
          node = next;
          continue;
        }
        if (~next === 256) {
          entry |= FAIL;
          break;
        }
        entry |= EMIT | (~next << 8);
        node = 0;
      }
      if (node === 0 || (ones[node] === 1 && depth[node]! < 8)) entry |= ACCEPT;
      table[(state << 4) | nibble] = entry | node;
    }
  }
  return table;
}

/**
 * Decodes buf[start, end) into `out` from 0 (it must hold ⌈8·len/5⌉ octets) and returns the
 * decoded length. Throws HpackError on EOS, on padding longer than 7 bits or not all ones.
 */
export function huffmanDecode(buf: Uint8Array, start: number, end: number, out: Uint8Array): number {
  const DECODE = (decodeTable ??= buildDecodeTable());
  let state = 0;
  let n = 0;
  let entry = ACCEPT;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    entry = DECODE[(state << 4) | (b >> 4)]!;
    if ((entry & (EMIT | FAIL)) !== 0) {
      if ((entry & FAIL) !== 0) throw new HpackError("Huffman string contains EOS");
      out[n++] = entry >> 8; // the Uint8Array keeps the symbol's 8 bits
    }
    entry = DECODE[((entry & 0xff) << 4) | (b & 15)]!;
    if ((entry & (EMIT | FAIL)) !== 0) {
      if ((entry & FAIL) !== 0) throw new HpackError("Huffman string contains EOS");
      out[n++] = entry >> 8;
    }
    state = entry & 0xff;
  }
  if ((entry & ACCEPT) === 0) throw new HpackError("invalid Huffman padding");
  return n;
}

/** Octets the Huffman coding of `s` takes (each char's low 8 bits are the symbol: latin1). */
export function huffmanLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >> 3;
}

/** Writes the Huffman coding of `s` (padded with ones) at out[offset…]; returns the end offset. */
export function huffmanEncode(s: string, out: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, right-aligned; never more than 7 + 30 < 53 (exact in a double)
  let bits = 0;
  let o = offset;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym]!;
    acc = acc * (1 << len) + HUFFMAN_CODES[sym]!;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      out[o++] = Math.floor(acc / 2 ** bits) & 0xff;
    }
    acc %= 2 ** bits;
  }
  if (bits > 0) out[o++] = ((acc << (8 - bits)) | (0xff >> bits)) & 0xff;
  return o;
}
