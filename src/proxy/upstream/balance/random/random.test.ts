import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../../core/random.ts";
import { HostSet } from "../host-set.ts";
import { RandomBalancer, weightedIndex } from "./random.ts";

const set = (weights: number[]): HostSet =>
  new HostSet(weights.map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight, labels: {}, healthy: true })));

function shares(lb: RandomBalancer, n: number, hosts: number): number[] {
  const c = new Array<number>(hosts).fill(0);
  for (let i = 0; i < n; i++) c[lb.pick()!.index]!++;
  return c.map((x) => x / n);
}

describe("RandomBalancer", () => {
  it("uniform with equal weights (10,000 picks, each share within ±0.03 of 0.25)", () => {
    const s = shares(new RandomBalancer(set([1, 1, 1, 1]), { random: seededRandom(42) }), 10_000, 4);
    for (const x of s) assert.ok(Math.abs(x - 0.25) < 0.03, `${s}`);
  });

  it("proportional to weight (1:3, within ±0.03)", () => {
    const s = shares(new RandomBalancer(set([1, 3]), { random: seededRandom(5) }), 10_000, 2);
    assert.ok(Math.abs(s[0]! - 0.25) < 0.03, `${s}`);
  });

  it("same seed, same sequence", () => {
    const a = new RandomBalancer(set([1, 1, 1]), { random: seededRandom(9) });
    const b = new RandomBalancer(set([1, 1, 1]), { random: seededRandom(9) });
    for (let i = 0; i < 20; i++) assert.equal(a.pick()!.index, b.pick()!.index);
  });

  it("weightedIndex maps the unit interval onto cumulative ranges", () => {
    const c = Float64Array.from([1, 3, 6]);
    assert.equal(weightedIndex(c, 0), 0);
    assert.equal(weightedIndex(c, 0.16), 0);
    assert.equal(weightedIndex(c, 0.17), 1);
    assert.equal(weightedIndex(c, 0.5), 2);
    assert.equal(weightedIndex(c, 0.999), 2);
  });

  it("exclude honoured while another host exists", () => {
    const hs = set([1, 1, 1]);
    const lb = new RandomBalancer(hs, { random: seededRandom(1) });
    for (let i = 0; i < 100; i++) assert.notEqual(lb.pick({ exclude: (h) => h.index !== 2 })!.index, 0);
    for (let i = 0; i < 100; i++) assert.equal(lb.pick({ exclude: (h) => h.index !== 2 })!.index, 2);
  });

  it("no pickable hosts: null", () => {
    assert.equal(new RandomBalancer(set([]), { random: seededRandom(1) }).pick(), null);
  });
});
