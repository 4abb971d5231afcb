import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { xxhash32, xxhash32Bytes } from "./xxhash32.ts";

describe("xxhash32", () => {
  // Reference vectors of XXH32 (xxHash spec / python-xxhash).
  const vectors: [string, number, number][] = [
    ["", 0, 0x02cc5d05],
    ["a", 0, 0x550d7456],
    ["abc", 0, 0x32d153ff],
    ["Nobody inspects the spammish repetition", 0, 0xe2293b2f],
  ];
  for (const [input, seed, want] of vectors) {
    it(`XXH32(${JSON.stringify(input)}, ${seed})`, () => {
      assert.equal(xxhash32(input, seed), want);
    });
  }

  it("hashes the UTF-8 encoding of non-ASCII strings", () => {
    const s = "héllo wörld ✓ 0123456789";
    assert.equal(xxhash32(s), xxhash32Bytes(new TextEncoder().encode(s)));
  });

  it("handles long keys (scratch buffer growth) and changes with the seed", () => {
    const long = "k".repeat(5000);
    assert.equal(xxhash32(long), xxhash32Bytes(new TextEncoder().encode(long)));
    assert.notEqual(xxhash32("abc", 1), xxhash32("abc", 0));
  });

  it("returns unsigned 32-bit integers", () => {
    for (let i = 0; i < 200; i++) {
      const h = xxhash32(`key-${i}`);
      assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
    }
  });
});
