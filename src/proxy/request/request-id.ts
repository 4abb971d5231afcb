// x-request-id values in Envoy's shape (a UUID v4: 122 random bits, version nibble 4, variant
// 10xx). Every request that lacks an id gets one, so the bytes come from a pool filled by one
// randomFillSync per 4,096 ids and are hex-encoded through a lookup table: no crypto call, no
// per-id buffer. (randomUUID also pools, but its per-call path cost ~3× this in the proxy profile.)
import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 64 * 1024;
const ID_BYTES = 16;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let next = POOL_BYTES;

/** ASCII hex digit pairs, as byte codes: HEX_HI[b], HEX_LO[b]. */
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, "0");
  HEX_HI[i] = h.charCodeAt(0);
  HEX_LO[i] = h.charCodeAt(1);
}
/** Where the 16 bytes go in the 36-character text (dashes at 8, 13, 18, 23). */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const text = Buffer.from("00000000-0000-0000-0000-000000000000", "latin1");

/**
 * The id is written as ASCII into one scratch buffer and read out as one flat string: joining
 * 20 pieces would give a rope that every later write of the header has to flatten again.
 */
export function newRequestId(): string {
  if (next + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  const b = pool;
  const p = next;
  next = p + ID_BYTES;
  for (let k = 0; k < ID_BYTES; k++) {
    let v = b[p + k]!;
    if (k === 6) v = (v & 0x0f) | 0x40; // version 4
    else if (k === 8) v = (v & 0x3f) | 0x80; // variant 10xx
    const at = AT[k]!;
    text[at] = HEX_HI[v]!;
    text[at + 1] = HEX_LO[v]!;
  }
  return text.toString("latin1", 0, 36);
}
