import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../../core/random.ts";
import { endpoints, removalMovement, shares, assignment } from "../consistent-hash.test-support.ts";
import { HostSet } from "../host-set.ts";
import { RingHashBalancer } from "./ring-hash.ts";

const deps = { random: seededRandom(1) };

describe("RingHashBalancer", () => {
  it("same key, same host; and two independently built rings agree (stable hash)", () => {
    const a = new RingHashBalancer(new HostSet(endpoints([1, 1, 1, 1, 1])), deps);
    const b = new RingHashBalancer(new HostSet(endpoints([1, 1, 1, 1, 1]).reverse()), { random: seededRandom(99) });
    for (let i = 0; i < 500; i++) {
      const hash = i * 2654435761;
      assert.equal(a.pick({ hash })!.key, a.pick({ hash })!.key);
      assert.equal(a.pick({ hash })!.key, b.pick({ hash })!.key);
    }
  });

  // [hosts' weights, minimumRingSize, expected entries]: per lightest host
  // 2^ceil(log2(ceil(minNorm * min))) (Envoy: ceil(minNorm * min)), others in proportion.
  const sizes: [number[], number, number][] = [
    [new Array<number>(10).fill(1), 1024, 1280],
    [new Array<number>(9).fill(1), 1024, 1152],
    [[1, 1, 1, 1], 1024, 1024],
    [[1, 3], 1024, 1024],
    [[1, 2], 1024, 1536],
    [[1, 1], 4, 4],
    [[1], 1024, 1024],
  ];
  for (const [weights, min, want] of sizes) {
    it(`ring size: weights ${weights} at minimumRingSize ${min} → ${want} entries`, () => {
      const lb = new RingHashBalancer(new HostSet(endpoints(weights)), deps, min);
      lb.pick({ hash: 1 });
      assert.equal(lb.ringSize, want);
    });
  }

  it("ring size is capped by maximumRingSize", () => {
    const lb = new RingHashBalancer(new HostSet(endpoints([1, 1])), deps, 1 << 20, 4096);
    lb.pick({ hash: 1 });
    assert.equal(lb.ringSize, 4096);
  });

  it("removing 1 of 10 hosts moves about 1/10 of 10,000 keys (< 1.5/N) and no other key", () => {
    const m = removalMovement((hs) => new RingHashBalancer(hs, deps), 10, 4);
    assert.ok(m.moved > 0.05 && m.moved < 0.15, `moved ${m.moved}`);
    assert.equal(m.collateral, 0);
  });

  it("spreads equal hosts evenly (each of 5 within ±0.05 of 0.2)", () => {
    const hs = new HostSet(endpoints([1, 1, 1, 1, 1]));
    for (const s of shares(new RingHashBalancer(hs, deps), hs)) assert.ok(Math.abs(s - 0.2) < 0.05, `${s}`);
  });

  it("weights get proportional ring entries (1,1,1,1,4: heavy host 0.5 ± 0.05)", () => {
    const hs = new HostSet(endpoints([1, 1, 1, 1, 4]));
    const s = shares(new RingHashBalancer(hs, deps), hs);
    assert.ok(Math.abs(s[4]! - 0.5) < 0.05, `${s}`);
  });

  it("no hash: random picks across hosts", () => {
    const lb = new RingHashBalancer(new HostSet(endpoints([1, 1, 1])), { random: seededRandom(5) });
    const seen = new Set(Array.from({ length: 100 }, () => lb.pick()!.key));
    assert.equal(seen.size, 3);
  });

  it("unhealthy hosts leave the ring; panic brings them back", () => {
    const hs = new HostSet(endpoints([1, 1, 1, 1]));
    const lb = new RingHashBalancer(hs, deps);
    hs.setOutlierEjected(hs.hosts[0]!, true);
    assert.ok(!assignment(lb).includes(hs.hosts[0]!.key));
    hs.setOutlierEjected(hs.hosts[1]!, true);
    hs.setOutlierEjected(hs.hosts[2]!, true);
    assert.ok(assignment(lb).includes(hs.hosts[0]!.key));
  });

  it("exclude walks to the next allowed host on the ring", () => {
    const hs = new HostSet(endpoints([1, 1, 1]));
    const lb = new RingHashBalancer(hs, deps);
    for (let i = 0; i < 200; i++) {
      const hash = i * 7919 * 104729;
      const first = lb.pick({ hash })!;
      const second = lb.pick({ hash, exclude: (h) => h === first })!;
      assert.notEqual(second, first);
      assert.equal(lb.pick({ hash, exclude: (h) => h === first })!, second, "deterministic");
    }
  });

  it("no hosts: null", () => {
    assert.equal(new RingHashBalancer(new HostSet([]), deps).pick({ hash: 1 }), null);
  });
});
