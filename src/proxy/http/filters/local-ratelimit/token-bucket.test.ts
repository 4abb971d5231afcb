import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../../../testing/fake-clock.ts";
import { TokenBucketState } from "./token-bucket.ts";

describe("local rate limit token bucket (fake clock)", () => {
  it("the task's bucket: 4 tokens, 4 per 60 s — 4 pass, the 5th waits for the next fill", () => {
    const clock = new FakeClock();
    const b = new TokenBucketState({ maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60_000 }, clock);
    assert.deepEqual([b.consume(), b.consume(), b.consume(), b.consume(), b.consume()], [true, true, true, true, false]);
    clock.advance(59_999);
    assert.equal(b.consume(), false);
    assert.equal(b.msUntilFill(), 1);
    clock.advance(1);
    assert.equal(b.remaining(), 4);
    assert.equal(b.msUntilFill(), 60_000);
  });

  it("fills never exceed max_tokens, however long the bucket waited", () => {
    const clock = new FakeClock();
    const b = new TokenBucketState({ maxTokens: 10, tokensPerFill: 3, fillIntervalMs: 1000 }, clock);
    for (let i = 0; i < 10; i++) b.consume();
    clock.advance(2500);
    assert.equal(b.remaining(), 6);
    assert.equal(b.msUntilFill(), 500);
    clock.advance(3_600_000);
    assert.equal(b.remaining(), 10);
  });

  it("fill boundaries stay on the bucket's own grid, whenever requests come", () => {
    const clock = new FakeClock();
    const b = new TokenBucketState({ maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 100 }, clock);
    assert.equal(b.consume(), true);
    clock.advance(150);
    assert.equal(b.consume(), true);
    clock.advance(49);
    assert.equal(b.consume(), false);
    clock.advance(1);
    assert.equal(b.consume(), true);
  });
});
