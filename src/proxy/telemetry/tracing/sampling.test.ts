import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../core/random.ts";
import { decideSampling, requestIdBucket } from "./sampling.ts";

function uuid(r: ReturnType<typeof seededRandom>): string {
  const h = (n: number): string => Array.from({ length: n }, () => r.int(16).toString(16)).join("");
  return `${h(8)}-${h(4)}-4${h(3)}-a${h(3)}-${h(12)}`;
}

describe("sampling", () => {
  it("samples about the configured share of request ids (seeded)", () => {
    const r = seededRandom(7);
    for (const pct of [1, 10, 50]) {
      let hits = 0;
      const n = 20_000;
      for (let i = 0; i < n; i++) if (decideSampling(null, uuid(r), pct, r)) hits++;
      const share = (hits / n) * 100;
      assert.ok(Math.abs(share - pct) < Math.max(0.5, pct * 0.1), `${pct}% → ${share}%`);
    }
  });

  it("is consistent for the same x-request-id", () => {
    const r = seededRandom(1);
    for (let i = 0; i < 200; i++) {
      const id = uuid(r);
      const first = decideSampling(null, id, 30, seededRandom(i));
      for (let k = 0; k < 3; k++) assert.equal(decideSampling(null, id, 30, seededRandom(i + 100 + k)), first);
    }
  });

  it("honours the upstream decision and debug, whatever the percentage", () => {
    const r = seededRandom(3);
    const ctx = (sampled: boolean | undefined, debug = false) => ({ traceId: "a".repeat(32), spanId: "b".repeat(16), sampled, debug, b3Single: false });
    assert.equal(decideSampling(ctx(true), "x", 0, r), true);
    assert.equal(decideSampling(ctx(false), "x", 100, r), false);
    assert.equal(decideSampling(ctx(false, true), "x", 0, r), true);
  });

  it("0 and 100 are absolute; no request id falls back to the seeded Random", () => {
    const r = seededRandom(9);
    assert.equal(decideSampling(null, "abc", 0, r), false);
    assert.equal(decideSampling(null, "abc", 100, r), true);
    const a = Array.from({ length: 50 }, () => decideSampling(null, "", 50, seededRandom(5)));
    assert.ok(a.every((v) => v === a[0]));
    let hits = 0;
    const rr = seededRandom(11);
    for (let i = 0; i < 10_000; i++) if (decideSampling(null, "", 25, rr)) hits++;
    assert.ok(Math.abs(hits / 100 - 25) < 2);
  });

  it("buckets request ids into 0..9999", () => {
    for (const id of ["", "a", "00000000-0000-4000-8000-000000000000", "x".repeat(200)]) {
      const b = requestIdBucket(id);
      assert.ok(Number.isInteger(b) && b >= 0 && b < 10000);
    }
  });
});
