import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../../core/random.ts";
import { HostSet } from "../host-set.ts";
import { LeastRequestBalancer } from "./least-request.ts";

const set = (weights: number[]): HostSet =>
  new HostSet(weights.map((weight, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight, labels: {}, healthy: true })));

function shares(lb: LeastRequestBalancer, n: number, hosts: number): number[] {
  const c = new Array<number>(hosts).fill(0);
  for (let i = 0; i < n; i++) c[lb.pick()!.index]!++;
  return c.map((x) => x / n);
}

describe("LeastRequestBalancer", () => {
  describe("equal weights: power of two choices", () => {
    it("two hosts, one busy: the busy one only when both samples hit it (1/4 ± 0.03)", () => {
      const hs = set([1, 1]);
      hs.hosts[0]!.activeRequests = 10;
      const s = shares(new LeastRequestBalancer(hs, { random: seededRandom(1) }), 10_000, 2);
      assert.ok(Math.abs(s[0]! - 0.25) < 0.03, `${s}`);
    });

    it("five hosts, one idle: the idle host wins 1 - (4/5)^2 = 0.36 ± 0.03 of picks", () => {
      const hs = set([1, 1, 1, 1, 1]);
      for (const h of hs.hosts) h.activeRequests = 5;
      hs.hosts[3]!.activeRequests = 0;
      const s = shares(new LeastRequestBalancer(hs, { random: seededRandom(2) }), 10_000, 5);
      assert.ok(Math.abs(s[3]! - 0.36) < 0.03, `${s}`);
    });

    it("idle cluster: uniform (each of 4 within ±0.03 of 0.25)", () => {
      const s = shares(new LeastRequestBalancer(set([1, 1, 1, 1]), { random: seededRandom(3) }), 10_000, 4);
      for (const x of s) assert.ok(Math.abs(x - 0.25) < 0.03, `${s}`);
    });

    it("choiceCount 1 is random, ignoring load", () => {
      const hs = set([1, 1]);
      hs.hosts[0]!.activeRequests = 10;
      const s = shares(new LeastRequestBalancer(hs, { random: seededRandom(4) }, { choiceCount: 1 }), 10_000, 2);
      assert.ok(Math.abs(s[0]! - 0.5) < 0.03, `${s}`);
    });

    it("balances a live workload: the engine's in-flight counts stay close", () => {
      const hs = set([1, 1, 1, 1]);
      const lb = new LeastRequestBalancer(hs, { random: seededRandom(5) });
      // 400 long requests start, none finishes: P2C keeps the spread small.
      for (let i = 0; i < 400; i++) lb.pick()!.activeRequests++;
      const active = hs.hosts.map((h) => h.activeRequests);
      assert.ok(Math.max(...active) - Math.min(...active) <= 6, `${active}`);
    });
  });

  describe("unequal weights: weight / (active + 1)^bias on an EDF schedule", () => {
    it("idle: proportional to weight (1:3, exact over 400 picks)", () => {
      const s = shares(new LeastRequestBalancer(set([1, 3]), { random: seededRandom(6) }), 400, 2);
      assert.deepEqual(s, [0.25, 0.75]);
    });

    it("load on the heavy host shifts picks to the light one", () => {
      const hs = set([1, 3]);
      hs.hosts[1]!.activeRequests = 5; // 3 / 6 = 0.5 vs 1 / 1 = 1
      const s = shares(new LeastRequestBalancer(hs, { random: seededRandom(7) }), 3000, 2);
      assert.ok(Math.abs(s[0]! - 2 / 3) < 0.02, `${s}`);
    });

    it("bias 0 ignores load (weighted round robin)", () => {
      const hs = set([1, 3]);
      hs.hosts[1]!.activeRequests = 50;
      const s = shares(new LeastRequestBalancer(hs, { random: seededRandom(8) }, { activeRequestBias: 0 }), 400, 2);
      assert.deepEqual(s, [0.25, 0.75]);
    });
  });

  it("exclude honoured while another host exists", () => {
    for (const weights of [
      [1, 1, 1],
      [5, 1, 2],
    ]) {
      const hs = set(weights);
      const lb = new LeastRequestBalancer(hs, { random: seededRandom(9) });
      for (let i = 0; i < 100; i++) assert.equal(lb.pick({ exclude: (h) => h.index !== 1 })!.index, 1);
    }
  });

  it("no pickable hosts: null", () => {
    assert.equal(new LeastRequestBalancer(set([]), { random: seededRandom(1) }).pick(), null);
  });
});
