import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headerToken } from "./token.ts";

describe("headerToken", () => {
  it("takes the token after the prefix, wherever the prefix is, up to the first non-token char", () => {
    assert.equal(headerToken("Bearer abc.DEF-_.123", "Bearer "), "abc.DEF-_.123");
    assert.equal(headerToken("x, Bearer  abc.d;rest", "Bearer "), "abc.d");
    assert.equal(headerToken("abc.def", ""), "abc.def");
    assert.equal(headerToken("  \"abc\" ", ""), "abc");
  });
  it("null without the prefix or without token characters (non-ASCII is not a token char)", () => {
    assert.equal(headerToken("Basic abc", "Bearer "), null);
    assert.equal(headerToken("Bearer ", "Bearer "), null);
    assert.equal(headerToken("Bearer ééé", "Bearer "), null);
    assert.equal(headerToken("Bearer abé", "Bearer "), "ab");
  });
});
