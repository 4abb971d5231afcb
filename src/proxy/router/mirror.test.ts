import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Random } from "../../core/random.ts";
import { seededRandom } from "../../core/random.ts";
import { mirrorDecision, shadowAuthority } from "./mirror.ts";

const noRandom: Random = {
  next: () => assert.fail("must not draw"),
  int: () => assert.fail("must not draw"),
};

describe("mirrorDecision", () => {
  it("none configured → shared empty list", () => {
    assert.deepEqual(mirrorDecision([], noRandom), []);
    assert.equal(mirrorDecision([], noRandom), mirrorDecision([], noRandom));
  });

  it("100% always, 0% never, no draws", () => {
    assert.deepEqual(mirrorDecision([{ cluster: "v2", percentage: 100 }, { cluster: "v3", percentage: 0 }], noRandom), ["v2"]);
  });

  // σ of a 25% share over 10,000 is 0.43 points; ±2 points ≈ 4.6σ.
  it("partial percentages are drawn per mirror, independently", () => {
    const random = seededRandom(3);
    let a = 0;
    let b = 0;
    for (let i = 0; i < 10_000; i++) {
      const m = mirrorDecision([{ cluster: "a", percentage: 25 }, { cluster: "b", percentage: 75 }], random);
      if (m.includes("a")) a++;
      if (m.includes("b")) b++;
    }
    assert.ok(Math.abs(a / 100 - 25) <= 2, `a ${a}`);
    assert.ok(Math.abs(b / 100 - 75) <= 2, `b ${b}`);
  });
});

describe("shadowAuthority", () => {
  const cases: [string, string][] = [
    ["httpbin", "httpbin-shadow"],
    ["httpbin:8000", "httpbin-shadow:8000"],
    ["reviews.default.svc.cluster.local:9080", "reviews.default.svc.cluster.local-shadow:9080"],
    ["10.0.0.1:80", "10.0.0.1-shadow:80"],
    ["[::1]:80", "[::1]-shadow:80"],
    ["[::1]", "[::1]-shadow"],
  ];
  for (const [input, out] of cases) it(`${input} → ${out}`, () => assert.equal(shadowAuthority(input), out));
});
