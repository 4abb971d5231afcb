import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Random } from "../../core/random.ts";
import { seededRandom } from "../../core/random.ts";
import type { WeightedCluster } from "../../model/proxy-config.ts";
import { pickWeightedCluster } from "./weighted-cluster.ts";

const noRandom: Random = {
  next: () => assert.fail("must not draw"),
  int: () => assert.fail("must not draw"),
};

function fixed(value: number): Random {
  return { next: () => value, int: (n) => Math.floor(value * n) };
}

function shares(clusters: WeightedCluster[], picks: number, seed: number): Record<string, number> {
  const random = seededRandom(seed);
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const c = pickWeightedCluster(clusters, random);
    assert.ok(c);
    counts[c.cluster] = (counts[c.cluster] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, (100 * v) / picks]));
}

describe("pickWeightedCluster", () => {
  it("single entry wins without drawing, whatever its weight", () => {
    assert.equal(pickWeightedCluster([{ cluster: "a", weight: 0 }], noRandom)?.cluster, "a");
    assert.equal(pickWeightedCluster([{ cluster: "a", weight: 100 }], noRandom)?.cluster, "a");
  });

  it("no entries or zero total picks none", () => {
    assert.equal(pickWeightedCluster([], noRandom), undefined);
    assert.equal(pickWeightedCluster([{ cluster: "a", weight: 0 }, { cluster: "b", weight: 0 }], noRandom), undefined);
  });

  it("maps the draw onto cumulative relative weights, skipping zero weights", () => {
    const cs = [{ cluster: "a", weight: 1 }, { cluster: "z", weight: 0 }, { cluster: "b", weight: 3 }];
    assert.equal(pickWeightedCluster(cs, fixed(0))?.cluster, "a");
    assert.equal(pickWeightedCluster(cs, fixed(0.2499))?.cluster, "a");
    assert.equal(pickWeightedCluster(cs, fixed(0.25))?.cluster, "b");
    assert.equal(pickWeightedCluster(cs, fixed(0.999999))?.cluster, "b");
  });

  // Tolerance: the standard deviation of a 10% share over 10,000 picks is 0.3 points, so ±1.5
  // points is 5σ: a correct picker essentially never fails, an off-by-a-few-points one does.
  it("90/10 over 10,000 seeded picks lands within ±1.5 points", () => {
    for (const seed of [1, 2, 3]) {
      const s = shares([{ cluster: "v1", weight: 90 }, { cluster: "v2", weight: 10 }], 10_000, seed);
      assert.ok(Math.abs((s.v1 ?? 0) - 90) <= 1.5, `seed ${seed}: v1 ${s.v1}%`);
      assert.ok(Math.abs((s.v2 ?? 0) - 10) <= 1.5, `seed ${seed}: v2 ${s.v2}%`);
    }
  });

  it("3-way split 50/30/20 (relative weights 5/3/2) within ±2 points over 10,000 picks", () => {
    const s = shares([{ cluster: "v1", weight: 5 }, { cluster: "v2", weight: 3 }, { cluster: "v3", weight: 2 }], 10_000, 7);
    assert.ok(Math.abs((s.v1 ?? 0) - 50) <= 2, `v1 ${s.v1}%`);
    assert.ok(Math.abs((s.v2 ?? 0) - 30) <= 2, `v2 ${s.v2}%`);
    assert.ok(Math.abs((s.v3 ?? 0) - 20) <= 2, `v3 ${s.v3}%`);
  });
});
