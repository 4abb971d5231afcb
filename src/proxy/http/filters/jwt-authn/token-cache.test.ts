import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../../../testing/fake-clock.ts";
import type { KeySource } from "./jwks.ts";
import { TokenCache } from "./token-cache.ts";
import type { VerifiedJwt } from "./verify.ts";

function verified(sub: string, expiresAtMs = Number.POSITIVE_INFINITY, notBeforeMs = Number.NEGATIVE_INFINITY): VerifiedJwt {
  return { issuer: "iss", principal: `iss/${sub}`, payload: { sub }, payloadSegment: "", expiresAtMs, notBeforeMs };
}

/** Keys whose generation the test bumps (what RemoteKeys does when a refetch brings other keys). */
function keys(): KeySource & { generation: number } {
  return { generation: 0, key: () => Promise.reject(new Error("not used")) };
}

describe("TokenCache", () => {
  it("answers per token string: a different token is a miss", () => {
    const c = new TokenCache(8);
    const k = keys();
    c.set("a.b.c", verified("alice"), k);
    assert.equal(c.get("a.b.c", 0)?.principal, "iss/alice");
    assert.equal(c.get("a.b.d", 0), undefined);
  });

  it("honours exp and nbf with the 60 s skew against the (fake) clock's wall time", () => {
    const clock = new FakeClock();
    const now = clock.wallNow();
    const c = new TokenCache(8);
    const k = keys();
    c.set("exp", verified("a", now + 10_000), k);
    c.set("nbf", verified("b", Number.POSITIVE_INFINITY, now + 90_000), k);
    assert.notEqual(c.get("exp", clock.wallNow()), undefined);
    assert.equal(c.get("nbf", clock.wallNow()), undefined, "not valid yet (more than 60 s ahead)");
    clock.advance(69_000);
    assert.notEqual(c.get("exp", clock.wallNow()), undefined, "within the skew");
    assert.notEqual(c.get("nbf", clock.wallNow()), undefined, "valid now, within the skew");
    clock.advance(2_000);
    assert.equal(c.get("exp", clock.wallNow()), undefined, "expired beyond the skew");
    assert.equal(c.size, 1, "an expired entry is dropped");
  });

  it("a JWKS change (generation bump) invalidates the tokens verified with the old keys only", () => {
    const c = new TokenCache(8);
    const rotating = keys();
    const other = keys();
    c.set("t1", verified("a"), rotating);
    c.set("t2", verified("b"), other);
    rotating.generation++;
    assert.equal(c.get("t1", 0), undefined);
    assert.notEqual(c.get("t2", 0), undefined);
    c.set("t1", verified("a"), rotating);
    assert.notEqual(c.get("t1", 0), undefined, "verified again with the new keys");
  });

  it("stays bounded and evicts the entry not used recently (second chance)", () => {
    const c = new TokenCache(3);
    const k = keys();
    c.set("t1", verified("1"), k);
    c.set("t2", verified("2"), k);
    c.set("t3", verified("3"), k);
    assert.notEqual(c.get("t1", 0), undefined); // t1 is oldest but used
    c.set("t4", verified("4"), k);
    assert.equal(c.size, 3);
    assert.notEqual(c.get("t1", 0), undefined, "used: kept");
    assert.equal(c.get("t2", 0), undefined, "oldest unused: evicted");
    for (let i = 0; i < 100; i++) c.set(`x${i}`, verified(String(i)), k);
    assert.equal(c.size, 3);
  });
});
