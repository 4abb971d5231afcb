import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { systemClock } from "./clock.ts";

describe("systemClock", () => {
  it("counts milliseconds on the monotonic clock performance.now() reads, from near zero", async () => {
    const p0 = performance.now();
    const c0 = systemClock.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const c1 = systemClock.now();
    const p1 = performance.now();
    assert.ok(c0 >= 0 && c0 <= p0, `${c0} counts from this process's start at most`);
    // Read inside performance.now()'s interval: never longer than it, and milliseconds (not s or µs).
    assert.ok(c1 - c0 <= p1 - p0, `${c1 - c0} ms within ${p1 - p0} ms`);
    assert.ok(c1 - c0 >= 15, `${c1 - c0} ms after a 20 ms timer`);
  });

  it("has sub-millisecond resolution and never goes back", () => {
    let last = systemClock.now();
    let fractional = false;
    for (let i = 0; i < 1000; i++) {
      const t = systemClock.now();
      assert.ok(t >= last);
      if (t !== Math.floor(t)) fractional = true;
      last = t;
    }
    assert.ok(fractional);
  });
});
