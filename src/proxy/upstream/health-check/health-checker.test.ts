import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Endpoint, HealthCheckConfig } from "../../../model/proxy-config.ts";
import { FakeClock } from "../../../testing/fake-clock.ts";
import { HostSet } from "../balance/host-set.ts";
import { HealthChecker } from "./health-checker.ts";
import type { HealthOutcome } from "./host-health.ts";
import type { Probe } from "./probe.ts";

const ep = (port: number): Endpoint => ({ address: "10.0.0.1", port, weight: 1, labels: {}, healthy: true });
const CONFIG: HealthCheckConfig = { kind: "http", path: "/health", intervalMs: 1000, timeoutMs: 200, unhealthyThreshold: 2, healthyThreshold: 2 };

/**
 * A scripted probe: `answers[port]` is what that host does on each check (cycling on the last
 * entry): an outcome after `ms` on the fake clock, or "hang" (never answers).
 */
function scripted(clock: FakeClock, answers: Record<number, ([HealthOutcome, number] | "hang")[]>) {
  const calls: { port: number; at: number; authority: string }[] = [];
  let aborted = 0;
  const probe: Probe = (target, _config, done) => {
    const list = answers[target.port] ?? [["success", 0]];
    const n = calls.filter((c) => c.port === target.port).length;
    calls.push({ port: target.port, at: clock.now(), authority: target.authority });
    const a = list[Math.min(n, list.length - 1)]!;
    if (a === "hang") return () => void aborted++;
    const [outcome, ms] = a;
    const t = clock.setTimeout(() => done(outcome, outcome), ms);
    return () => {
      aborted++;
      t.cancel();
    };
  };
  return { probe, calls, aborted: () => aborted };
}

const pickablePorts = (hs: HostSet): number[] => hs.pickable.map((h) => h.port);

describe("HealthChecker", () => {
  it("checks every host at once, then every interval after each outcome", () => {
    const clock = new FakeClock();
    const hs = new HostSet([ep(1), ep(2)], 0);
    const s = scripted(clock, { 1: [["success", 10]], 2: [["success", 50]] });
    const hc = new HealthChecker(CONFIG, hs, clock, { probe: s.probe, authority: "svc:80" });
    hc.start();
    assert.deepEqual(s.calls.map((c) => [c.port, c.at]), [[1, 0], [2, 0]]);
    clock.advance(2200);
    // Next check = outcome time + interval: host 1 at 0, 1010, 2020; host 2 at 0, 1050, 2100.
    assert.deepEqual(s.calls.map((c) => [c.port, c.at]), [[1, 0], [2, 0], [1, 1010], [2, 1050], [1, 2020], [2, 2100]]);
    assert.ok(s.calls.every((c) => c.authority === "svc:80"));
    assert.deepEqual(hc.stats, { attempt: 6, success: 6, failure: 0, network_failure: 0, healthy: 2 });
    hc.stop();
    clock.advance(10_000);
    assert.equal(s.calls.length, 6, "no check after stop");
    assert.equal(clock.pending(), 0);
  });

  it("takes a host out after unhealthyThreshold timeouts and puts it back after healthyThreshold passes", () => {
    const clock = new FakeClock();
    const hs = new HostSet([ep(1), ep(2)], 0);
    // Host 2: passes, hangs twice (timeouts), then passes again.
    const s = scripted(clock, { 2: [["success", 0], "hang", "hang", ["success", 0]] });
    const hc = new HealthChecker(CONFIG, hs, clock, { probe: s.probe });
    hc.start();
    const at = (ms: number): number[] => {
      clock.advance(ms - clock.now());
      return pickablePorts(hs);
    };
    assert.deepEqual(at(0), [1, 2]);
    assert.deepEqual(at(1199), [1, 2], "first timeout (check at 1000) has not fired yet");
    assert.deepEqual(at(1200), [1, 2], "one timeout < unhealthyThreshold 2");
    assert.deepEqual(at(2399), [1, 2]);
    assert.deepEqual(at(2400), [1], "second timeout in a row: out");
    assert.equal(s.aborted(), 2, "timed-out probes are aborted");
    assert.equal(hc.state(hs.get("10.0.0.1:2")!)?.lastDetail, "timeout after 200 ms");
    assert.deepEqual(at(3400), [1], "one pass < healthyThreshold 2");
    assert.deepEqual(at(4400), [1, 2], "second pass: back");
    assert.equal(hc.stats.network_failure, 2);
    hc.stop();
  });

  it("an unexpected status takes the host out on the spot; network failures need the threshold", () => {
    const clock = new FakeClock();
    const hs = new HostSet([ep(1), ep(2), ep(3)], 0);
    const s = scripted(clock, { 2: [["success", 0], ["active-failure", 5]], 3: [["network-failure", 5]] });
    const hc = new HealthChecker(CONFIG, hs, clock, { probe: s.probe });
    hc.start();
    clock.advance(5);
    assert.deepEqual(pickablePorts(hs), [1, 2, 3], "one network failure < unhealthyThreshold 2");
    clock.advance(1005);
    assert.deepEqual(pickablePorts(hs), [1], "host 2 answered an unexpected status; host 3 failed twice");
    assert.equal(hs.get("10.0.0.1:3")?.healthCheckFailed, true);
    assert.equal(hc.stats.healthy, 1);
    hc.stop();
    assert.deepEqual(pickablePorts(hs), [1, 2, 3], "stopping clears health-check failures");
  });

  it("a passed check ends an outlier ejection (onSuccess) and new EDS hosts get sessions", () => {
    const clock = new FakeClock();
    const hs = new HostSet([ep(1)], 0);
    const s = scripted(clock, {});
    const unejected: number[] = [];
    const hc = new HealthChecker(CONFIG, hs, clock, { probe: s.probe, onSuccess: (h) => unejected.push(h.port) });
    hc.start();
    clock.advance(0);
    hs.update([ep(1), ep(2)]);
    hc.syncHosts();
    clock.advance(1);
    assert.deepEqual(unejected, [1, 2]);
    hs.update([ep(2)]);
    hc.syncHosts();
    clock.advance(5000);
    assert.ok(s.calls.filter((c) => c.port === 1).length === 1, "removed host is no longer checked");
    assert.ok(s.calls.filter((c) => c.port === 2).length >= 5);
    hc.stop();
  });
});
