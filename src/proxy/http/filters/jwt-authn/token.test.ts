import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JwtProvider } from "../../../../model/proxy-config.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { findTokens, headerToken, tokenLocations } from "./token.ts";

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

describe("findTokens", () => {
  it("a repeated header value gives the same token; a changed one is scanned again", () => {
    const p: JwtProvider = { issuer: "i", audiences: [], jwks: "{}", timeoutMs: 1, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], required: false };
    const locations = tokenLocations([p]);
    const token = (authorization: string | undefined): string | undefined => findTokens(new FakeRequest(authorization === undefined ? {} : { headers: { authorization } }), locations)?.[0]?.token;
    assert.equal(token("Bearer a.b.c"), "a.b.c");
    assert.equal(token("Bearer a.b.c"), "a.b.c");
    assert.equal(token("Bearer x.y.z"), "x.y.z");
    assert.equal(token("Basic a.b.c"), undefined);
    assert.equal(token("Basic a.b.c"), undefined);
    assert.equal(token(undefined), undefined);
    assert.equal(token("Bearer x.y.z"), "x.y.z");
  });
});
