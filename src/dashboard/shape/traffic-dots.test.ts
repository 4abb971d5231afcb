import assert from "node:assert/strict";
import { test } from "node:test";
import { CROSSING_S, dotCount, dotPositions, MAX_DOTS, phaseOf } from "./traffic-dots.ts";

test("the number of dots on an edge follows its rate, within bounds", () => {
  assert.equal(dotCount(0), 0);
  assert.equal(dotCount(0.01), 1, "a trickle still shows");
  assert.equal(dotCount(1), 4);
  assert.equal(dotCount(5), 20);
  assert.equal(dotCount(1e6), MAX_DOTS);
  assert.ok(dotCount(2) === 2 * dotCount(1));
});

test("dots are evenly spaced and move from source to target", () => {
  const at0 = dotPositions(1, 0);
  assert.deepEqual(at0, [0, 0.25, 0.5, 0.75]);
  const later = dotPositions(1, (CROSSING_S * 1000) / 10);
  assert.deepEqual(later.map((x) => Math.round(x * 100) / 100), [0.1, 0.35, 0.6, 0.85]);
  assert.deepEqual(dotPositions(1, CROSSING_S * 1000).map((x) => Math.round(x * 1e9) / 1e9), at0, "one crossing later: the same picture");
  const p = phaseOf("a->b");
  assert.ok(p >= 0 && p < 1);
  assert.equal(phaseOf("a->b"), p);
  assert.notEqual(phaseOf("a->c"), p);
});
