// Huffman coding against RFC 7541's coded strings (Appendix C.4, C.6) and the padding rules of
// §5.2; vectors and invalid inputs as golang.org/x/net's hpack_test.go lists them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HpackError } from "./errors.ts";
import { huffmanDecode, huffmanEncode, huffmanLength } from "./huffman.ts";

const VECTORS: [string, string][] = [
  ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
  ["a8eb 1064 9cbf", "no-cache"],
  ["25a8 49e9 5ba9 7d7f", "custom-key"],
  ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
  ["6402", "302"],
  ["aec3 771a 4b", "private"],
  ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
  ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
  ["9bd9 ab", "gzip"],
  [
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
  ],
];

function bytes(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ""), "hex");
}

function decode(b: Buffer): string {
  const out = Buffer.alloc(b.length * 2);
  return out.toString("latin1", 0, huffmanDecode(b, 0, b.length, out));
}

describe("Huffman (RFC 7541 §5.2, Appendix B)", () => {
  for (const [hex, text] of VECTORS) {
    it(`"${text.slice(0, 24)}" decodes and encodes`, () => {
      assert.equal(decode(bytes(hex)), text);
      const out = Buffer.alloc(text.length);
      const n = huffmanEncode(text, out, 0);
      assert.equal(out.toString("hex", 0, n), hex.replace(/\s+/g, ""));
      assert.equal(huffmanLength(text), n);
    });
  }

  it("all 256 symbols, including the 30-bit codes, round-trip", () => {
    const all = Array.from({ length: 256 }, (_, c) => String.fromCharCode(c)).join("");
    const out = Buffer.alloc(all.length * 4);
    const n = huffmanEncode(all, out, 0);
    assert.equal(decode(out.subarray(0, n)), all);
    for (let c = 0; c < 256; c++) {
      const one = Buffer.alloc(4);
      assert.equal(decode(one.subarray(0, huffmanEncode(String.fromCharCode(c), one, 0))), String.fromCharCode(c));
    }
  });

  it("the empty string is zero octets", () => {
    assert.equal(decode(Buffer.alloc(0)), "");
  });

  const invalid: [string, string][] = [
    ["ff", "8 bits of padding"],
    ["1fff", "'a' then 1 octet of excess padding"],
    ["1fffff", "'a' then 2 octets of excess padding"],
    ["1fffffff", "'a' then 3 octets of excess padding"],
    ["ff9fffffff", "29 bits of padding after 'a'"],
    ["52bc30ffffffff", "padding ending on a partial symbol"],
    ["00", "padding of zeros"],
    ["fffffffffc", "EOS then '?'"],
  ];
  for (const [hex, what] of invalid) {
    it(`${what} → HpackError`, () => {
      assert.throws(() => decode(bytes(hex)), HpackError);
    });
  }
});
