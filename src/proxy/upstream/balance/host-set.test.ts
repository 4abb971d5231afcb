import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Endpoint } from "../../../model/proxy-config.ts";
import { HostSet, hostKey, panicThresholdFor } from "./host-set.ts";

const ep = (i: number, extra: Partial<Endpoint> = {}): Endpoint => ({ address: `10.0.0.${i}`, port: 80, weight: 1, labels: {}, healthy: true, ...extra });

describe("HostSet", () => {
  it("keeps per-host state for hosts that stay across EDS updates", () => {
    const set = new HostSet([ep(1), ep(2), ep(3)]);
    const h2 = set.hosts[1]!;
    h2.activeRequests = 7;
    set.setOutlierEjected(h2, true);
    set.update([ep(2, { weight: 5 }), ep(4)]);
    assert.equal(set.hosts.length, 2);
    assert.equal(set.hosts[0], h2);
    assert.equal(h2.activeRequests, 7);
    assert.equal(h2.outlierEjected, true);
    assert.equal(h2.weight, 5);
    assert.equal(h2.index, 0);
    assert.equal(set.hosts[1]!.key, "10.0.0.4:80");
    assert.equal(set.get("10.0.0.1:80"), undefined);
  });

  it("collapses duplicate address:port and clamps weights to >= 1", () => {
    const set = new HostSet([ep(1, { weight: 0 }), ep(1, { weight: 9 }), ep(2, { weight: 2.7 })]);
    assert.deepEqual(
      set.hosts.map((h) => [h.key, h.weight]),
      [
        ["10.0.0.1:80", 1],
        ["10.0.0.2:80", 2],
      ],
    );
  });

  it("brackets IPv6 keys", () => {
    assert.equal(hostKey("::1", 8080), "[::1]:8080");
  });

  it("bumps the version on membership and health changes only", () => {
    const set = new HostSet([ep(1), ep(2)]);
    const v = set.version;
    set.hosts[0]!.activeRequests++;
    assert.equal(set.version, v);
    set.setHealthCheckFailed(set.hosts[0]!, true);
    assert.equal(set.version, v + 1);
    set.setHealthCheckFailed(set.hosts[0]!, true);
    assert.equal(set.version, v + 1, "no-op flag change keeps the version");
  });

  it("ignores flag changes for hosts that left the set", () => {
    const set = new HostSet([ep(1), ep(2)]);
    const gone = set.hosts[0]!;
    set.update([ep(2)]);
    set.setOutlierEjected(gone, true);
    assert.equal(gone.outlierEjected, false);
  });

  describe("panic threshold", () => {
    // [hosts, unhealthy indexes, threshold, expected pickable keys count, panic]
    const cases: [string, number, number[], number, number, boolean][] = [
      ["all healthy", 4, [], 50, 4, false],
      ["exactly 50 % healthy is not panic", 4, [0, 1], 50, 2, false],
      ["below 50 % healthy: every host", 4, [0, 1, 2], 50, 4, true],
      ["threshold 0 disables panic", 4, [0, 1, 2], 0, 1, false],
      ["threshold 0, all unhealthy: nothing", 2, [0, 1], 0, 0, false],
      ["all unhealthy, default: every host", 2, [0, 1], 50, 2, true],
      ["Istio minHealthPercent 80", 5, [0], 80, 4, false],
      ["Istio minHealthPercent 80, two down", 5, [0, 1], 80, 5, true],
    ];
    for (const [name, n, down, threshold, pickable, panic] of cases) {
      it(name, () => {
        const set = new HostSet(
          Array.from({ length: n }, (_, i) => ep(i + 1)),
          threshold,
        );
        for (const i of down) set.setOutlierEjected(set.hosts[i]!, true);
        assert.equal(set.pickable.length, pickable);
        assert.equal(set.panic, panic);
      });
    }

    it("counts registry, outlier and health-check state together", () => {
      const set = new HostSet([ep(1, { healthy: false }), ep(2), ep(3), ep(4)]);
      set.setHealthCheckFailed(set.hosts[1]!, true);
      assert.deepEqual(
        set.pickable.map((h) => h.key),
        ["10.0.0.3:80", "10.0.0.4:80"],
      );
      set.setOutlierEjected(set.hosts[2]!, true);
      assert.equal(set.panic, true);
      assert.equal(set.pickable.length, 4);
    });

    it("empty set: no hosts", () => {
      assert.equal(new HostSet([]).pickable.length, 0);
    });

    it("Istio mapping: minHealthPercent with outlier detection, else Envoy's 50", () => {
      assert.equal(panicThresholdFor({}), 50, "Envoy's healthy_panic_threshold default");
      const od = { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, splitExternalLocalOriginErrors: false, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 };
      assert.equal(panicThresholdFor({ outlierDetection: od }), 0);
      assert.equal(panicThresholdFor({ outlierDetection: { ...od, minHealthPercent: 30 } }), 30);
    });
  });
});
