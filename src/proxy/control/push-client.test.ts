import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom, type Random } from "../../core/random.ts";
import { reconnectDelay } from "./push-client.ts";

const fixed = (v: number): Random => ({ next: () => v, int: (n) => Math.floor(v * n) });

describe("reconnectDelay", () => {
  it("doubles from the base up to the cap, jittered within the upper half", () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((a) => reconnectDelay(a, 250, 5000, fixed(0))), [125, 250, 500, 1000, 2000, 2500, 2500]);
    assert.deepEqual([0, 1, 5, 50].map((a) => reconnectDelay(a, 250, 5000, fixed(0.999999))).map(Math.round), [250, 500, 5000, 5000]);
  });

  it("spreads a fleet: seeded draws differ and stay in [ceiling/2, ceiling)", () => {
    const r = seededRandom(7);
    const ds = Array.from({ length: 200 }, () => reconnectDelay(3, 250, 5000, r));
    assert.ok(ds.every((d) => d >= 1000 && d < 2000));
    assert.ok(new Set(ds.map(Math.round)).size > 100);
  });
});
