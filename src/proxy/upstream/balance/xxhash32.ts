// xxHash32 (Yann Collet's spec, XXH32) over UTF-8 bytes. The one key/host hash for RING_HASH,
// MAGLEV and hash keys: stable across processes and machines, so every Amime proxy maps the
// same key to the same host. Envoy uses xxHash64; JS numbers cannot hold 64 bits without
// BigInt (slow on the request path), so Amime uses the 32-bit member of the same family.
// Strings are encoded into a reused scratch buffer: no allocation for keys up to its size.

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
  acc = (acc + Math.imul(lane, P2)) | 0;
  acc = rotl(acc, 13);
  return Math.imul(acc, P1);
}

function readU32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) | 0;
}

/** XXH32 of bytes[0..len) with seed; returns an unsigned 32-bit integer. */
export function xxhash32Bytes(b: Uint8Array, len: number = b.length, seed = 0): number {
  let i = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = len - 16;
    while (i <= limit) {
      v1 = round(v1, readU32(b, i));
      v2 = round(v2, readU32(b, i + 4));
      v3 = round(v3, readU32(b, i + 8));
      v4 = round(v4, readU32(b, i + 12));
      i += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  while (i + 4 <= len) {
    h = (h + Math.imul(readU32(b, i), P3)) | 0;
    h = Math.imul(rotl(h, 17), P4);
    i += 4;
  }
  while (i < len) {
    h = (h + Math.imul(b[i]!, P5)) | 0;
    h = Math.imul(rotl(h, 11), P1);
    i++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

/** XXH32 of the UTF-8 encoding of s. */
export function xxhash32(s: string, seed = 0): number {
  const n = s.length;
  if (scratch.length < n * 3) scratch = new Uint8Array(Math.max(n * 3, scratch.length * 2));
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    scratch[i] = c;
  }
  if (ascii) return xxhash32Bytes(scratch, n, seed);
  const { written } = encoder.encodeInto(s, scratch);
  return xxhash32Bytes(scratch, written, seed);
}
