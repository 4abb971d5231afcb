import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../../core/random.ts";
import type { Host } from "../balancer.ts";
import { HostSet } from "../host-set.ts";
import { RoundRobinBalancer } from "./round-robin.ts";

const set = (weights: number[]): HostSet =>
  new HostSet(weights.map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight, labels: {}, healthy: true })));

function counts(pick: () => Host | null, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick();
    assert.ok(h);
    m.set(h.key, (m.get(h.key) ?? 0) + 1);
  }
  return m;
}

describe("RoundRobinBalancer", () => {
  it("equal weights: exactly even, in a fixed rotation", () => {
    const hs = set([1, 1, 1, 1]);
    const lb = new RoundRobinBalancer(hs, { random: seededRandom(1) });
    const seq = Array.from({ length: 8 }, () => lb.pick()!.index);
    assert.deepEqual(seq.slice(4), seq.slice(0, 4), "period 4");
    assert.deepEqual([...new Set(seq)].sort(), [0, 1, 2, 3]);
    const c = counts(() => lb.pick(), 4000);
    assert.deepEqual([...c.values()], [1000, 1000, 1000, 1000]);
  });

  it("unequal weights: exact proportions over whole schedule rounds (EDF)", () => {
    const hs = set([1, 2, 3]);
    const lb = new RoundRobinBalancer(hs, { random: seededRandom(7) });
    const c = counts(() => lb.pick(), 600);
    assert.equal(c.get("10.0.0.1:80"), 100);
    assert.equal(c.get("10.0.0.2:80"), 200);
    assert.equal(c.get("10.0.0.3:80"), 300);
  });

  it("unequal weights are interleaved, not bursty", () => {
    const hs = set([1, 4]);
    const lb = new RoundRobinBalancer(hs, { random: seededRandom(3) });
    const seq = Array.from({ length: 50 }, () => lb.pick()!.index);
    // The light host never appears twice in a row and the heavy host at most 4 times in a row.
    let run = 0;
    for (let i = 1; i < seq.length; i++) {
      assert.ok(!(seq[i] === 0 && seq[i - 1] === 0));
      run = seq[i] === 1 ? run + 1 : 0;
      assert.ok(run <= 4);
    }
  });

  it("skips unhealthy hosts and follows membership changes", () => {
    const hs = set([1, 1, 1]);
    const lb = new RoundRobinBalancer(hs, { random: seededRandom(1) });
    hs.setOutlierEjected(hs.hosts[1]!, true);
    const c = counts(() => lb.pick(), 100);
    assert.equal(c.get("10.0.0.2:80"), undefined);
    assert.equal(c.get("10.0.0.1:80"), 50);
    hs.update([{ address: "10.0.0.9", port: 80, weight: 1, labels: {}, healthy: true }]);
    assert.equal(lb.pick()!.key, "10.0.0.9:80");
  });

  it("panic: below 50 % healthy picks from every host", () => {
    const hs = set([1, 1, 1, 1]);
    for (const i of [0, 1, 2]) hs.setOutlierEjected(hs.hosts[i]!, true);
    const lb = new RoundRobinBalancer(hs, { random: seededRandom(1) });
    assert.equal(counts(() => lb.pick(), 400).size, 4);
  });

  it("no hosts: null", () => {
    assert.equal(new RoundRobinBalancer(set([]), { random: seededRandom(1) }).pick(), null);
    const hs = new HostSet([{ address: "a", port: 1, weight: 1, labels: {}, healthy: false }], 0);
    assert.equal(new RoundRobinBalancer(hs, { random: seededRandom(1) }).pick(), null);
  });

  for (const weights of [
    [1, 1, 1],
    [1, 5, 2],
  ]) {
    it(`exclude honoured while another host exists (weights ${weights})`, () => {
      const hs = set(weights);
      const lb = new RoundRobinBalancer(hs, { random: seededRandom(11) });
      const tried = new Set([hs.hosts[1]!, hs.hosts[2]!]);
      for (let i = 0; i < 50; i++) assert.equal(lb.pick({ exclude: (h) => tried.has(h) })!.index, 0);
      // Every host excluded: still answers with some host.
      assert.ok(lb.pick({ exclude: () => true }));
    });
  }
});
