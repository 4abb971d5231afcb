// The decoder against RFC 7541's own examples (Appendix C) and its error cases.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HpackDecoder } from "./decoder.ts";
import { HeaderListTooLarge, HpackError } from "./errors.ts";
import { APPENDIX_C } from "./rfc7541-vectors.ts";

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ""), "hex");
}

function decode(d: HpackDecoder, block: Buffer): [string, string][] {
  const out: string[] = [];
  d.decode(block, 0, block.length, out);
  const pairs: [string, string][] = [];
  for (let i = 0; i < out.length; i += 2) pairs.push([out[i]!, out[i + 1]!]);
  return pairs;
}

function table(d: HpackDecoder): [string, string][] {
  return Array.from({ length: d.tableLength }, (_, i) => d.entry(i));
}

describe("HpackDecoder: RFC 7541 Appendix C", () => {
  it("C.2.1 literal with indexing adds the field to the table", () => {
    const d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")), [["custom-key", "custom-header"]]);
    assert.deepEqual(table(d), [["custom-key", "custom-header"]]);
    assert.equal(d.tableSize, 55);
  });

  it("C.2.2 literal without indexing, C.2.3 never indexed, C.2.4 indexed: the table stays empty", () => {
    const d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("040c 2f73 616d 706c 652f 7061 7468")), [[":path", "/sample/path"]]);
    assert.deepEqual(decode(d, hex("1008 7061 7373 776f 7264 0673 6563 7265 74")), [["password", "secret"]]);
    assert.deepEqual(decode(d, hex("82")), [[":method", "GET"]]);
    assert.equal(d.tableLength, 0);
    assert.equal(d.tableSize, 0);
  });

  for (const series of APPENDIX_C) {
    it(`${series.name}: ${series.steps.length} blocks on one connection (table ${series.tableSize})`, () => {
      const d = new HpackDecoder(series.tableSize);
      for (const [i, step] of series.steps.entries()) {
        assert.deepEqual(decode(d, hex(step.hex)), step.fields, `block ${i + 1}`);
        assert.deepEqual(table(d), step.table, `table after block ${i + 1}`);
        assert.equal(d.tableSize, step.size, `table size after block ${i + 1}`);
      }
    });
  }

  it("decodes only buf[start, end)", () => {
    const d = new HpackDecoder();
    const block = Buffer.concat([hex("ffff"), hex("8286"), hex("ffff")]);
    const out: string[] = [];
    d.decode(block, 2, 4, out);
    assert.deepEqual(out, [":method", "GET", ":scheme", "http"]);
  });

  it("indexed static fields return the static table's own strings", () => {
    const d = new HpackDecoder();
    const a: string[] = [];
    const b: string[] = [];
    d.decode(hex("88"), 0, 1, a);
    d.decode(hex("88"), 0, 1, b);
    assert.deepEqual(a, [":status", "200"]);
    assert.ok(Object.is(a[1], b[1]));
  });

  it("values are latin1: octets ≥ 0x80 become U+0080–U+00FF", () => {
    const d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("0003 782d 6102 e9ff")), [["x-a", "\u00e9\u00ff"]]);
  });
});

describe("HpackDecoder: dynamic table", () => {
  it("evicts the oldest entries to make room, and an entry larger than the table empties it", () => {
    const d = new HpackDecoder(100);
    // two 35-octet entries fit (70 ≤ 100); the third evicts the first
    for (const v of ["a", "b", "c"]) decode(d, Buffer.concat([hex("4001 78 01"), Buffer.from(v)]));
    assert.deepEqual(table(d), [["x", "c"], ["x", "b"]]);
    assert.equal(d.tableSize, 68);
    // a 101-octet entry: the table is emptied and the entry not added (§4.4)
    const big = "v".repeat(68);
    assert.deepEqual(decode(d, Buffer.concat([hex("4001 78 44"), Buffer.from(big)])), [["x", big]]);
    assert.equal(d.tableLength, 0);
    assert.equal(d.tableSize, 0);
  });

  it("a size update shrinks the table (evicting) and a later one may grow it back up to the maximum", () => {
    const d = new HpackDecoder(4096);
    decode(d, hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    assert.deepEqual(decode(d, hex("20 82")), [[":method", "GET"]]);
    assert.equal(d.tableLength, 0);
    // 4096 = 31 + 4065: 3f e1 1f
    decode(d, hex("3fe11f 400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
    assert.equal(d.tableSize, 55);
    assert.deepEqual(decode(d, hex("be")), [["custom-key", "custom-header"]]);
  });

  it("an integer of 5 continuation octets is read (2^32-1 is the largest)", () => {
    const d = new HpackDecoder(4096, 100);
    // a Huffman-flagged string length 127 + 0x0ffffff80 = 2^32-1: past the block, not an overflow
    assert.throws(() => decode(d, hex("0001 78 ff 80 ff ff ff 0f")), /past the end of the block/);
  });

  it("holds as many entries as fit (4096 / 36 = 113 of 'x: NNN'), oldest evicted first, each at its index", () => {
    const d = new HpackDecoder(4096);
    for (let i = 0; i < 300; i++) {
      // evictions and the table's growth interleave with inserts
      const v = String(i).padStart(3, "0");
      decode(d, Buffer.concat([hex("4001 78 03"), Buffer.from(v)]));
    }
    assert.equal(d.tableLength, 113);
    assert.equal(d.tableSize, 113 * 36);
    for (let i = 0; i < 113; i++) {
      // index 62 + i, past the 7-bit prefix as 127 + a second octet
      const block = 62 + i < 127 ? Buffer.from([0x80 | (62 + i)]) : Buffer.from([0xff, 62 + i - 127]);
      assert.deepEqual(decode(d, block), [["x", String(299 - i).padStart(3, "0")]]);
    }
  });

  it("two size updates at the start of a block are allowed (§4.2)", () => {
    const d = new HpackDecoder();
    assert.deepEqual(decode(d, hex("20 3f 11 82")), [[":method", "GET"]]);
  });

  it("a literal with indexing may name a dynamic entry the insertion itself evicts", () => {
    const d = new HpackDecoder(64);
    decode(d, hex("4001 78 01 61")); // x: a, 34 octets
    assert.deepEqual(decode(d, hex("7e 02 62 62")), [["x", "bb"]]); // name index 62, value "bb": evicts x: a
    assert.deepEqual(table(d), [["x", "bb"]]);
  });
});

describe("HpackDecoder: errors", () => {
  const cases: [string, string][] = [
    ["index 0", "80"],
    ["an index past the static table with an empty dynamic table", "be"],
    ["an index past the dynamic table", "4001780161 bf"],
    ["a name index past the tables", "7f 00 0161"],
    ["a truncated integer", "ff 80"],
    ["an integer past 2^32-1", "ff ff ff ff ff ff 0f"],
    ["an integer padded with zero continuation octets", "ff 80 80 80 80 80 80 00 82"],
    ["a string past the end of the block", "0003 782d 61 05 6162"],
    ["a block ending before the value", "0003 782d 61"],
    ["a size update above the advertised maximum", "3fe21f"],
    ["a size update after a field", "82 20"],
    ["a Huffman string with more than 7 bits of padding", "0001 78 81 ff"],
    ["a Huffman string whose padding is not all ones", "0001 78 81 00"],
    ["a Huffman string containing EOS", "0001 78 85 ffff ffff fc"],
    ["a Huffman string padded with 29 bits ending 'a'", "0001 78 85 ff9f ffff ff"],
  ];
  for (const [what, block] of cases) {
    it(`${what} → HpackError`, () => {
      assert.throws(() => decode(new HpackDecoder(), hex(block)), HpackError);
    });
  }

  it("a list over maxListSize is decoded to its end (the table stays in sync), then HeaderListTooLarge", () => {
    const d = new HpackDecoder(4096, 100);
    // three fields of 1 + 34 + 32 = 67 octets, with indexing
    const field = Buffer.concat([hex("4001 78 22"), Buffer.from("v".repeat(34))]);
    const out: string[] = [];
    const block = Buffer.concat([field, field, field]);
    assert.throws(() => d.decode(block, 0, block.length, out), (e: unknown) => e instanceof HeaderListTooLarge && e.limit === 100);
    assert.equal(d.tableLength, 3);
    assert.deepEqual(decode(d, hex("be")), [["x", "v".repeat(34)]]);
  });

  it("a list of exactly maxListSize passes", () => {
    const d = new HpackDecoder(4096, 67);
    assert.deepEqual(decode(d, Buffer.concat([hex("0001 78 22"), Buffer.from("v".repeat(34))])), [["x", "v".repeat(34)]]);
  });
});
