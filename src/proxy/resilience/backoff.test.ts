import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom, type Random } from "../../core/random.ts";
import { Backoff, backoffWindowMs } from "./backoff.ts";

const top: Random = { next: () => 0.999999, int: (n) => n - 1 };
const bottom: Random = { next: () => 0, int: () => 0 };

describe("Backoff (Envoy fully jittered exponential)", () => {
  it("upper edge of each window: base 25, max 250 (default 10 x base)", () => {
    const b = new Backoff(top, 25);
    assert.deepEqual(
      Array.from({ length: 7 }, () => b.nextDelayMs()),
      [24, 49, 99, 199, 249, 249, 249],
    );
  });

  it("lower edge is 0 (full jitter)", () => {
    const b = new Backoff(bottom, 25);
    assert.deepEqual(
      Array.from({ length: 3 }, () => b.nextDelayMs()),
      [0, 0, 0],
    );
  });

  it("explicit max caps the window; max below base is raised to base", () => {
    const b = new Backoff(top, 100, 300);
    assert.deepEqual(
      Array.from({ length: 4 }, () => b.nextDelayMs()),
      [99, 199, 299, 299],
    );
    const c = new Backoff(top, 100, 50);
    assert.deepEqual([c.nextDelayMs(), c.nextDelayMs()], [99, 99]);
  });

  it("seeded delays stay inside [0, window) and reset() starts over", () => {
    const b = new Backoff(seededRandom(7), 25, 250);
    for (let round = 0; round < 2; round++) {
      for (let n = 1; n <= 8; n++) {
        const d = b.nextDelayMs();
        assert.ok(Number.isInteger(d) && d >= 0 && d < backoffWindowMs(n, 25, 250), `retry ${n}: ${d}`);
      }
      b.reset();
    }
  });

  it("backoffWindowMs: min(base * 2^(n-1), max)", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => backoffWindowMs(n)),
      [25, 50, 100, 200, 250, 250],
    );
  });
});
