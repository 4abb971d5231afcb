// x-request-id values in Envoy's shape (a UUID v4: 122 random bits, version nibble 4, variant
// 10xx). Every request that lacks an id gets one, so the bytes come from a pool filled by one
// randomFillSync per 4,096 ids and are hex-encoded through a lookup table: no crypto call, no
// per-id buffer. (randomUUID also pools, but its per-call path cost ~3× this in the proxy profile.)
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 64 * 1024;
const ID_BYTES = 16;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let next = POOL_BYTES;

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

export function newRequestId(): string {
  if (next + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    next = 0;
  }
  const b = pool;
  const p = next;
  next = p + ID_BYTES;
  return (
    HEX[b[p]!]! +
    HEX[b[p + 1]!]! +
    HEX[b[p + 2]!]! +
    HEX[b[p + 3]!]! +
    "-" +
    HEX[b[p + 4]!]! +
    HEX[b[p + 5]!]! +
    "-" +
    HEX[(b[p + 6]! & 0x0f) | 0x40]! +
    HEX[b[p + 7]!]! +
    "-" +
    HEX[(b[p + 8]! & 0x3f) | 0x80]! +
    HEX[b[p + 9]!]! +
    "-" +
    HEX[b[p + 10]!]! +
    HEX[b[p + 11]!]! +
    HEX[b[p + 12]!]! +
    HEX[b[p + 13]!]! +
    HEX[b[p + 14]!]! +
    HEX[b[p + 15]!]!
  );
}
