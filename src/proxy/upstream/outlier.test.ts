import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OutlierDetectionConfig } from "../../model/proxy-config.ts";
import { FakeClock } from "../../testing/fake-clock.ts";
import type { Host } from "./balance/balancer.ts";
import { HostSet } from "./balance/host-set.ts";
import { OutlierDetector, type OutlierOptions } from "./outlier.ts";

const BASE: OutlierDetectionConfig = {
  consecutive5xxErrors: 5,
  consecutiveGatewayErrors: 0,
  consecutiveLocalOriginFailures: 5,
  splitExternalLocalOriginErrors: false,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 100,
  minHealthPercent: 0,
};

function setup(n: number, cfg: Partial<OutlierDetectionConfig> = {}, opts: OutlierOptions = {}) {
  const config = { ...BASE, ...cfg };
  const hosts = new HostSet(
    Array.from({ length: n }, (_, i) => ({ address: `10.0.0.${i + 1}`, port: 80, weight: 1, labels: {}, healthy: true })),
    config.minHealthPercent,
  );
  const clock = new FakeClock();
  const od = new OutlierDetector(config, hosts, clock, opts);
  od.start();
  return { hosts, clock, od, h: (i: number): Host => hosts.hosts[i]! };
}

type Event = number | "connect" | "reset" | "timeout" | "connected" | "ok";

function feed(od: OutlierDetector, host: Host, events: Event[]): void {
  for (const e of events) {
    if (typeof e === "number") od.onResponse(host, e);
    else if (e === "ok") od.success(host);
    else if (e === "connected") od.onLocalOriginSuccess(host);
    else od.onLocalOriginFailure(host, e === "connect" ? "connect-failed" : e);
  }
}

/**
 * Eject host 0 `times` in a row (five 500s each), each time advancing the clock by `stepMs` until it
 * returns; the time each ejection lasted.
 */
function ejectInARow(s: ReturnType<typeof setup>, times: number, stepMs: number): number[] {
  const durations: number[] = [];
  for (let k = 0; k < times; k++) {
    feed(s.od, s.h(0), Array<Event>(5).fill(500));
    const start = s.clock.now();
    while (s.h(0).outlierEjected) s.clock.advance(stepMs);
    durations.push(s.clock.now() - start);
  }
  return durations;
}

describe("OutlierDetector", () => {
  describe("ejection on consecutive errors (immediate, at the threshold)", () => {
    // [name, config, events on host 0, ejected?]
    const cases: [string, Partial<OutlierDetectionConfig>, Event[], boolean][] = [
      ["4 x 500 < 5", {}, [500, 500, 500, 500], false],
      ["5 x 500", {}, [500, 500, 500, 500, 500], true],
      ["mixed 5xx count", {}, [500, 503, 501, 502, 599], true],
      ["a success resets the run", {}, [500, 500, 500, 500, 200, 500], false],
      ["4xx resets the run", {}, [500, 500, 500, 500, 404, 500], false],
      ["success() resets the run", {}, [500, 500, 500, 500, "ok", 500], false],
      ["consecutive5xxErrors 0 disables", { consecutive5xxErrors: 0 }, Array<Event>(20).fill(500), false],
      ["threshold 1", { consecutive5xxErrors: 1 }, [503], true],
      ["gateway errors 3 (5xx at 10)", { consecutive5xxErrors: 10, consecutiveGatewayErrors: 3 }, [502, 503, 504], true],
      ["a non-gateway 5xx breaks the gateway run", { consecutive5xxErrors: 10, consecutiveGatewayErrors: 3 }, [502, 503, 500, 504], false],
      ["gateway off by default", { consecutive5xxErrors: 10 }, [502, 503, 504, 502, 503], false],
      ["no split: connect failures count as 503", {}, ["connect", "connect", "reset", "timeout", "connect"], true],
      ["no split: connect failures feed gateway errors", { consecutive5xxErrors: 10, consecutiveGatewayErrors: 2 }, ["connect", "timeout"], true],
      ["no split: connection success does not reset", {}, [500, 500, "connected", 500, 500, 500], true],
      ["split: local failures do not count as 5xx", { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 10 }, ["connect", "connect", "connect", "connect", "connect"], false],
      ["split: local-origin threshold", { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3 }, ["connect", "timeout", "reset"], true],
      ["split: connection success resets local run", { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3 }, ["connect", "connect", "connected", "connect"], false],
      ["split: a 5xx does not reset the local run", { splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3 }, ["connect", "connect", 200, "connect"], true],
      ["split: 5xx still counted", { splitExternalLocalOriginErrors: true }, [500, 500, 500, 500, 500], true],
    ];
    for (const [name, cfg, events, ejected] of cases) {
      it(name, () => {
        const { od, h } = setup(4, cfg);
        feed(od, h(0), events);
        assert.equal(h(0).outlierEjected, ejected);
        assert.equal(h(1).outlierEjected, false);
      });
    }

    it("stats and onChange", () => {
      const changes: [string, boolean, string | undefined][] = [];
      const { od, h } = setup(4, { consecutiveGatewayErrors: 2, consecutive5xxErrors: 3 }, { onChange: (host, e, t) => changes.push([host.key, e, t]) });
      feed(od, h(0), [502, 502]);
      feed(od, h(1), [500, 500, 500]);
      assert.deepEqual(changes, [
        ["10.0.0.1:80", true, "consecutive_gateway_failure"],
        ["10.0.0.2:80", true, "consecutive_5xx"],
      ]);
      assert.equal(od.stats.ejections_active, 2);
      assert.equal(od.stats.ejections_enforced_total, 2);
      assert.equal(od.stats.ejections_enforced_consecutive_gateway_failure, 1);
      assert.equal(od.stats.ejections_detected_consecutive_5xx, 1);
      assert.equal(od.stats.ejections_enforced_consecutive_5xx, 1);
    });

    it("errors on an ejected host are ignored; uneject resets every counter", () => {
      const { od, h, clock } = setup(4);
      feed(od, h(0), Array<Event>(5).fill(500));
      feed(od, h(0), Array<Event>(7).fill(500));
      assert.equal(od.state(h(0)).numEjections, 1);
      clock.advance(30_000);
      assert.equal(h(0).outlierEjected, false);
      assert.equal(od.state(h(0)).consecutive5xx, 0);
      feed(od, h(0), [500, 500, 500, 500]);
      assert.equal(h(0).outlierEjected, false);
    });

    it("another run right after detection is detected again (counter reset on detection)", () => {
      const { od, h } = setup(10, { maxEjectionPercent: 10 });
      feed(od, h(1), Array<Event>(5).fill(500)); // takes the only ejection slot
      feed(od, h(0), Array<Event>(5).fill(500)); // detected, overflow
      assert.equal(od.state(h(0)).consecutive5xx, 0);
      assert.equal(od.stats.ejections_overflow, 1);
      feed(od, h(0), Array<Event>(5).fill(500));
      assert.equal(od.stats.ejections_overflow, 2);
    });
  });

  describe("max ejection percent (Envoy: (ejected + 1) / hosts <= max)", () => {
    // [hosts, maxEjectionPercent, alwaysEjectOneHost, failing hosts, expected ejected]
    const cases: [number, number, boolean, number, number][] = [
      [10, 10, false, 3, 1],
      [20, 10, false, 5, 2],
      [5, 10, false, 2, 0],
      [5, 10, true, 2, 1],
      [3, 10, true, 3, 1],
      [4, 50, false, 4, 2],
      [3, 50, false, 3, 1],
      [3, 100, false, 3, 3],
      [4, 0, false, 2, 0],
      [4, 0, true, 2, 1],
    ];
    for (const [n, max, one, failing, want] of cases) {
      it(`${n} hosts, ${max} %${one ? ", always_eject_one_host" : ""}: ${failing} failing → ${want} ejected`, () => {
        const { od, hosts, h } = setup(n, { maxEjectionPercent: max }, { alwaysEjectOneHost: one });
        for (let i = 0; i < failing; i++) feed(od, h(i), Array<Event>(5).fill(500));
        assert.equal(hosts.hosts.filter((x) => x.outlierEjected).length, want);
        assert.equal(od.stats.ejections_active, want);
        assert.equal(od.stats.ejections_overflow, failing - want);
      });
    }
  });

  describe("interval sweep: ejection time, growth, decay, cap", () => {
    it("returns a host once base x multiplier has passed, checked at interval ticks", () => {
      const { od, h, clock } = setup(4);
      clock.advance(5_000);
      feed(od, h(0), Array<Event>(5).fill(500)); // ejected at t=5s for 30s
      // [advance to, ejected?]
      const timeline: [number, boolean][] = [
        [10_000, true],
        [30_000, true],
        [34_999, true],
        [40_000, false], // tick at 40s: 35s elapsed >= 30s
      ];
      for (const [t, ejected] of timeline) {
        clock.advance(t - clock.now());
        assert.equal(h(0).outlierEjected, ejected, `t=${t}`);
      }
      assert.equal(od.stats.ejections_active, 0);
    });

    it("ejection time grows with each ejection in a row: 30 s, 60 s, 90 s", () => {
      const s = setup(4);
      assert.deepEqual(ejectInARow(s, 3, 10_000), [30_000, 60_000, 90_000]);
      assert.equal(s.od.state(s.h(0)).numEjections, 3);
    });

    it("multiplier decays by one per healthy interval after the host returns", () => {
      const s = setup(4);
      ejectInARow(s, 3, 10_000);
      const { od, h, clock } = s;
      assert.equal(od.state(h(0)).ejectTimeBackoff, 3);
      // [intervals healthy since return, expected multiplier]
      const decay: [number, number][] = [
        [1, 2],
        [2, 1],
        [3, 0],
        [5, 0],
      ];
      let done = 0;
      for (const [intervals, want] of decay) {
        clock.advance((intervals - done) * 10_000);
        done = intervals;
        assert.equal(od.state(h(0)).ejectTimeBackoff, want, `after ${intervals} intervals`);
      }
      feed(od, h(0), Array<Event>(5).fill(500));
      assert.equal(od.ejectionTimeMs(h(0)), 30_000, "back to the base time");
    });

    it("caps the ejection time at maxEjectionTime (default max(300 s, base))", () => {
      const s = setup(4, { baseEjectionTimeMs: 10_000, intervalMs: 1_000 }, { maxEjectionTimeMs: 30_000 });
      assert.deepEqual(ejectInARow(s, 6, 1_000), [10_000, 20_000, 30_000, 30_000, 30_000, 30_000]);
      // Envoy stops growing the multiplier once base x multiplier >= max + base.
      assert.equal(s.od.state(s.h(0)).ejectTimeBackoff, 4);
      const dflt = setup(2, { baseEjectionTimeMs: 30_000 });
      ejectInARow(dflt, 15, 10_000);
      assert.equal(dflt.od.ejectionTimeMs(dflt.h(0)), 300_000);
    });

    it("stop() cancels the sweep timer", () => {
      const { od, clock } = setup(2);
      assert.equal(clock.pending(), 1);
      od.stop();
      assert.equal(clock.pending(), 0);
    });
  });

  describe("minHealthPercent (Istio → Envoy healthy_panic_threshold, applied by HostSet)", () => {
    // [minHealthPercent, ejected of 4, pickable]
    const cases: [number, number, number][] = [
      [0, 3, 1],
      [50, 1, 3],
      [50, 2, 2],
      [50, 3, 4],
      [80, 1, 4],
    ];
    for (const [minHealth, ejected, pickable] of cases) {
      it(`minHealthPercent ${minHealth}, ${ejected}/4 ejected → ${pickable} pickable`, () => {
        const { od, hosts, h } = setup(4, { minHealthPercent: minHealth });
        for (let i = 0; i < ejected; i++) feed(od, h(i), Array<Event>(5).fill(500));
        assert.equal(hosts.hosts.filter((x) => x.outlierEjected).length, ejected, "ejections still happen");
        assert.equal(hosts.pickable.length, pickable);
      });
    }
  });

  it("active health check success unejects at once", () => {
    const { od, h, clock } = setup(4);
    feed(od, h(0), Array<Event>(5).fill(500));
    clock.advance(1_000);
    od.uneject(h(0));
    assert.equal(h(0).outlierEjected, false);
    assert.equal(od.state(h(0)).lastUnejectionTime, 1_000);
    assert.equal(od.stats.ejections_active, 0);
    od.uneject(h(1));
    assert.equal(od.stats.ejections_active, 0, "not ejected: no-op");
  });

  it("a host removed by EDS no longer counts; a re-added one starts fresh", () => {
    const { od, hosts, h, clock } = setup(3);
    const h0 = h(0);
    feed(od, h0, Array<Event>(5).fill(500));
    const eps = hosts.hosts.map((x) => x.endpoint);
    hosts.update(eps.slice(1));
    clock.advance(10_000);
    assert.equal(od.stats.ejections_active, 0);
    hosts.update(eps);
    const again = hosts.hosts[0]!;
    assert.notEqual(again, h0);
    assert.equal(again.outlierEjected, false);
    assert.equal(od.state(again).numEjections, 0);
  });
});
