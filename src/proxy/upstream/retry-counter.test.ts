import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RetryCounter } from "./retry-counter.ts";

describe("RetryCounter", () => {
  it("maxRetries bounds concurrent retries; release frees a slot", () => {
    const c = new RetryCounter(2);
    assert.equal(c.tryAcquire(), true);
    assert.equal(c.tryAcquire(), true);
    assert.equal(c.tryAcquire(), false);
    assert.deepEqual(c.stats, { retries: 2, overflow: 1, success: 0, limitExceeded: 0 });
    c.release();
    assert.equal(c.tryAcquire(), true);
    c.release();
    c.release();
    c.release();
    c.release();
    assert.equal(c.active, 0, "never negative");
  });

  it("maxRetries 0: every retry overflows", () => {
    assert.equal(new RetryCounter(0).tryAcquire(), false);
  });

  // [active requests, percent, min concurrency, expected limit]
  const budget: [number, number, number, number][] = [
    [0, 20, 3, 3],
    [10, 20, 3, 3],
    [100, 20, 3, 20],
    [1000, 20, 3, 200],
    [19, 50, 0, 9],
  ];
  for (const [active, percent, min, limit] of budget) {
    it(`budget ${percent} % of ${active} active, min ${min} → ${limit}`, () => {
      const c = new RetryCounter(1, { percent, minConcurrency: min, activeRequests: () => active });
      assert.equal(c.limit(), limit);
      let n = 0;
      while (c.tryAcquire()) n++;
      assert.equal(n, limit);
    });
  }
});
