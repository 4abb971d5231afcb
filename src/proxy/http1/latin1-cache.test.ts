import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { latin1 } from "./latin1-cache.ts";

test("latin1: same text as toString for any bytes, cached or not, short or long", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 100 }), { minLength: 1, maxLength: 40 }), (arrays) => {
      for (const a of [...arrays, ...arrays]) {
        const buf = Buffer.concat([Buffer.from("xx"), Buffer.from(a), Buffer.from("yy")]);
        assert.equal(latin1(buf, 2, 2 + a.length), buf.toString("latin1", 2, 2 + a.length));
      }
    }),
  );
});

test("latin1: the same bytes give the same string back; a colliding slot is checked byte by byte", () => {
  const a = latin1(Buffer.from("reviews:9080"), 0, 12);
  assert.equal(latin1(Buffer.from("reviews:9080"), 0, 12), a);
  // Same length, different bytes: never the cached string.
  assert.equal(latin1(Buffer.from("reviews:9081"), 0, 12), "reviews:9081");
  assert.equal(latin1(Buffer.from("xyz"), 1, 1), "");
});
