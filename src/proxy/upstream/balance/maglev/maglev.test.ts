import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../../core/random.ts";
import { endpoints, removalMovement, shares, assignment } from "../consistent-hash.test-support.ts";
import { HostSet } from "../host-set.ts";
import { MaglevBalancer } from "./maglev.ts";

const deps = { random: seededRandom(1) };

describe("MaglevBalancer", () => {
  it("same key, same host; EDS order does not change the table", () => {
    const a = new MaglevBalancer(new HostSet(endpoints([1, 1, 1, 1, 1])), deps);
    const b = new MaglevBalancer(new HostSet(endpoints([1, 1, 1, 1, 1]).reverse()), { random: seededRandom(99) });
    assert.deepEqual(assignment(a), assignment(b));
  });

  it("removing 1 of 10 hosts moves about 1/10 of 10,000 keys (< 1.5/N); others mostly stay (< 2 % moved)", () => {
    const m = removalMovement((hs) => new MaglevBalancer(hs, deps), 10, 4);
    assert.ok(m.moved > 0.05 && m.moved < 0.15, `moved ${m.moved}`);
    assert.ok(m.collateral < 0.02, `collateral ${m.collateral}`);
  });

  it("fills the table evenly for equal hosts (each of 5 within ±0.03 of 0.2)", () => {
    const hs = new HostSet(endpoints([1, 1, 1, 1, 1]));
    for (const s of shares(new MaglevBalancer(hs, deps), hs)) assert.ok(Math.abs(s - 0.2) < 0.03, `${s}`);
  });

  it("weights: table slots in proportion (1,1,1,1,4: heavy host 0.5 ± 0.03)", () => {
    const hs = new HostSet(endpoints([1, 1, 1, 1, 4]));
    const s = shares(new MaglevBalancer(hs, deps), hs);
    assert.ok(Math.abs(s[4]! - 0.5) < 0.03, `${s}`);
  });

  it("custom prime table size", () => {
    const hs = new HostSet(endpoints([1, 1, 1]));
    const lb = new MaglevBalancer(hs, deps, 251);
    assert.equal(lb.tableSize, 251);
    assert.equal(new Set(assignment(lb)).size, 3);
  });

  it("exclude picks another host, deterministically", () => {
    const hs = new HostSet(endpoints([1, 1, 1]));
    const lb = new MaglevBalancer(hs, deps);
    for (let i = 0; i < 200; i++) {
      const hash = (i * 2654435761) >>> 0;
      const first = lb.pick({ hash })!;
      const second = lb.pick({ hash, exclude: (h) => h === first })!;
      assert.notEqual(second, first);
      assert.equal(lb.pick({ hash, exclude: (h) => h === first }), second);
    }
  });

  it("no hash: random; no hosts: null", () => {
    const lb = new MaglevBalancer(new HostSet(endpoints([1, 1, 1])), { random: seededRandom(3) });
    assert.equal(new Set(Array.from({ length: 100 }, () => lb.pick()!.key)).size, 3);
    assert.equal(new MaglevBalancer(new HostSet([]), deps).pick({ hash: 1 }), null);
  });
});
