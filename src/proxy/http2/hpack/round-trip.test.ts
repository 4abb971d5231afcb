// Property: whatever the encoder writes, a decoder on the other end reads back the same fields,
// block after block on one connection, with the peer's table size changing between blocks, and
// both ends' dynamic tables stay the same size.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HpackDecoder } from "./decoder.ts";
import { HeaderListTooLarge, HpackError } from "./errors.ts";
import { HpackEncoder } from "./encoder.ts";
import { huffmanDecode, huffmanEncode, huffmanLength } from "./huffman.ts";
import { STATIC_TABLE } from "./static-table.ts";

const latin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const name = fc.oneof(
  fc.constantFrom(...STATIC_TABLE.filter((_, i) => i % 2 === 0)),
  fc.constantFrom("x-envoy-upstream-service-time", "x-request-id", "cookie"),
  fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-0123456789"), minLength: 1, maxLength: 20 }),
);
const value = fc.oneof(fc.constantFrom(...STATIC_TABLE.filter((_, i) => i % 2 === 1)), fc.constantFrom("0", "1", "text/plain"), latin1);
const block = fc.array(fc.tuple(name, value), { maxLength: 12 });
/** A block, or a change of the peer's SETTINGS_HEADER_TABLE_SIZE before it. */
const step = fc.oneof(
  { weight: 5, arbitrary: block.map((fields) => ({ fields, tableSize: -1 })) },
  { weight: 1, arbitrary: fc.tuple(block, fc.integer({ min: 0, max: 8192 })).map(([fields, tableSize]) => ({ fields, tableSize })) },
);

/**
 * Blocks drawn from a few fields, as a proxy's responses are: the same field at the same position
 * block after block (the encoder sends it again from its last block), entries large enough to evict
 * one another, and table size changes between blocks.
 */
const few = fc.array(
  fc.tuple(fc.constantFrom("server", "content-type", "date", "x-envoy-upstream-service-time", "cookie", "set-cookie"), fc.constantFrom("0", "1", "envoy", "text/plain", "a".repeat(25), "b".repeat(900), "c".repeat(1500))),
  { maxLength: 6 },
);
const repeating = fc.oneof(
  { weight: 6, arbitrary: few.map((fields) => ({ fields, tableSize: -1 })) },
  { weight: 1, arbitrary: fc.tuple(few, fc.integer({ min: 0, max: 4096 })).map(([fields, tableSize]) => ({ fields, tableSize })) },
);

/** One connection: each block encoded, then decoded by the peer, which must read back the same fields. */
function roundTrip(steps: { fields: [string, string][]; tableSize: number }[], huffman: boolean): void {
  const e = new HpackEncoder(4096, huffman);
  const d = new HpackDecoder(4096, 1 << 20);
  let out = Buffer.alloc(16);
  for (const s of steps) {
    if (s.tableSize >= 0) e.setPeerMaxTableSize(s.tableSize);
    const flat = s.fields.flat();
    let n = e.encode(flat, out, 0);
    while (n < 0) {
      out = Buffer.alloc(out.length * 2);
      n = e.encode(flat, out, 0);
    }
    const got: string[] = [];
    d.decode(out, 0, n, got);
    assert.deepEqual(got, flat);
    assert.equal(d.tableSize, e.tableSize);
    assert.equal(d.tableLength, e.tableLength);
  }
}

describe("HPACK round trip", () => {
  for (const huffman of [false, true]) {
    it(`encoder → decoder gives back every block (Huffman ${huffman ? "on" : "off"})`, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 20 }), (steps) => roundTrip(steps, huffman)),
        { numRuns: 300 },
      );
    });
  }

  it("the same, for blocks that repeat the last one's fields while entries are evicted", () => {
    fc.assert(
      fc.property(fc.array(repeating, { maxLength: 30 }), (steps) => roundTrip(steps, false)),
      { numRuns: 1000 },
    );
  });

  it("Huffman: every latin1 string decodes to itself, and the length is what was written", () => {
    fc.assert(
      fc.property(latin1, (s) => {
        const buf = Buffer.alloc(s.length * 4 + 1);
        const n = huffmanEncode(s, buf, 0);
        assert.equal(n, huffmanLength(s));
        const out = Buffer.alloc(n * 2);
        assert.equal(out.toString("latin1", 0, huffmanDecode(buf, 0, n, out)), s);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("HpackDecoder on arbitrary octets", () => {
  it("either decodes or throws HpackError / HeaderListTooLarge, never anything else", () => {
    const d = new HpackDecoder(4096, 4096);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buf = Buffer.from(bytes);
        try {
          d.decode(buf, 0, buf.length, []);
        } catch (e) {
          if (!(e instanceof HpackError) && !(e instanceof HeaderListTooLarge)) throw e;
        }
        assert.ok(d.tableSize <= 4096);
      }),
      { numRuns: 5000 },
    );
  });

  it("the same for valid blocks with some octets changed (Huffman on, so strings are coded)", () => {
    fc.assert(
      fc.property(block, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (fields, edits) => {
        const out = Buffer.alloc(8192);
        const n = new HpackEncoder(4096, true).encode(fields.flat(), out, 0);
        for (const [at, octet] of edits) if (n > 0) out[at % n] = octet;
        try {
          new HpackDecoder(4096, 4096).decode(out, 0, n, []);
        } catch (e) {
          if (!(e instanceof HpackError) && !(e instanceof HeaderListTooLarge)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
