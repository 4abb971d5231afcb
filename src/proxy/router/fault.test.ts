import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Random } from "../../core/random.ts";
import { seededRandom } from "../../core/random.ts";
import { faultDecision, grpcStatusCode } from "./fault.ts";

const noRandom: Random = {
  next: () => assert.fail("must not draw"),
  int: () => assert.fail("must not draw"),
};

describe("faultDecision", () => {
  it("no fault → no delay, no abort", () => {
    assert.deepEqual(faultDecision(undefined, noRandom), { delayMs: 0 });
  });

  it("100% abort and delay always apply, without drawing (ratings-test-abort / -delay)", () => {
    assert.deepEqual(faultDecision({ abort: { httpStatus: 500, percentage: 100 } }, noRandom), { delayMs: 0, abortStatus: 500 });
    assert.deepEqual(faultDecision({ delay: { fixedDelayMs: 7000, percentage: 100 } }, noRandom), { delayMs: 7000 });
    assert.deepEqual(
      faultDecision({ delay: { fixedDelayMs: 5, percentage: 100 }, abort: { httpStatus: 503, percentage: 100 } }, noRandom),
      { delayMs: 5, abortStatus: 503 },
    );
  });

  it("0% never applies", () => {
    assert.deepEqual(faultDecision({ delay: { fixedDelayMs: 5, percentage: 0 }, abort: { httpStatus: 500, percentage: 0 } }, noRandom), { delayMs: 0 });
  });

  it("gRPC aborts give the numeric grpc-status", () => {
    assert.deepEqual(faultDecision({ abort: { grpcStatus: "UNAVAILABLE", percentage: 100 } }, noRandom), { delayMs: 0, abortGrpcStatus: 14 });
    assert.equal(grpcStatusCode("deadline_exceeded"), 4);
    assert.equal(grpcStatusCode("13"), 13);
    assert.equal(grpcStatusCode("BOGUS"), undefined);
  });

  // Tolerance: at 50% over 10,000 requests σ = 0.5 points; ±2 points is 4σ.
  it("50% aborts about half of 10,000 requests (±2 points); delay drawn independently", () => {
    const random = seededRandom(42);
    let aborts = 0;
    let delays = 0;
    let both = 0;
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      const d = faultDecision({ delay: { fixedDelayMs: 10, percentage: 50 }, abort: { httpStatus: 500, percentage: 50 } }, random);
      if (d.abortStatus === 500) aborts++;
      if (d.delayMs === 10) delays++;
      if (d.abortStatus === 500 && d.delayMs === 10) both++;
    }
    assert.ok(Math.abs((100 * aborts) / n - 50) <= 2, `aborts ${aborts}`);
    assert.ok(Math.abs((100 * delays) / n - 50) <= 2, `delays ${delays}`);
    // independent draws: about a quarter get both
    assert.ok(Math.abs((100 * both) / n - 25) <= 2, `both ${both}`);
  });

  it("fractional percentages (0.5%) are honoured", () => {
    const random = seededRandom(9);
    let aborts = 0;
    for (let i = 0; i < 100_000; i++) if (faultDecision({ abort: { httpStatus: 500, percentage: 0.5 } }, random).abortStatus) aborts++;
    // σ ≈ 22 requests; ±100 is 4.5σ
    assert.ok(Math.abs(aborts - 500) <= 100, `aborts ${aborts}`);
  });
});
