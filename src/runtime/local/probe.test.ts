import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { checkOnce, ReadinessProber, type ProbeSpec } from "./probe.ts";

const spec = (over: Partial<ProbeSpec> = {}): ProbeSpec => ({
  kind: "httpGet", path: "/", scheme: "HTTP",
  initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1, ...over,
});

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Advance fake time in small steps, letting each async check settle. */
async function run(clock: FakeClock, ms: number, step = 50): Promise<void> {
  clock.advance(0);
  await flush();
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

function harness(results: boolean[], s: ProbeSpec) {
  const clock = new FakeClock();
  const changes: [number, boolean][] = [];
  const never: number[] = [];
  let calls = 0;
  const prober = new ReadinessProber(s, {
    clock,
    check: async () => results[Math.min(calls++, results.length - 1)] ?? false,
    onChange: (r) => changes.push([clock.now(), r]),
    onNeverReady: (b) => never.push(b),
    minBudgetMs: 0,
  });
  prober.start();
  return { clock, changes, never, prober, calls: () => calls };
}

describe("ReadinessProber", () => {
  it("checks quickly until first ready, then every periodSeconds", async () => {
    const h = harness([false, false, true, true, true], spec());
    await run(h.clock, 600);
    assert.deepEqual(h.changes, [[500, true]]);
    const before = h.calls();
    await run(h.clock, 9000);
    assert.equal(h.calls(), before, "no check before the period elapses");
    await run(h.clock, 1000);
    assert.equal(h.calls(), before + 1);
    h.prober.stop();
  });

  it("goes not-ready only after failureThreshold failures in a row", async () => {
    const h = harness([true, false, false, true, false, false, false], spec({ periodSeconds: 1 }));
    await run(h.clock, 7000);
    assert.deepEqual(h.changes.map((c) => c[1]), [true, false]);
    // ready at t=0; failures at 1 s, 2 s (reset by success at 3 s), then 4, 5, 6 s → not ready at 6 s.
    assert.equal(h.changes[1]?.[0], 6000);
    h.prober.stop();
  });

  it("needs successThreshold successes in a row", async () => {
    const h = harness([true, false, true, true, true], spec({ successThreshold: 3 }));
    await run(h.clock, 2000);
    assert.deepEqual(h.changes, [[1000, true]]);
    h.prober.stop();
  });

  it("waits initialDelaySeconds and reports an app that never becomes ready once", async () => {
    const h = harness([false], spec({ initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 2 }));
    await run(h.clock, 1950);
    assert.equal(h.calls(), 0);
    await run(h.clock, 10_000);
    assert.deepEqual(h.never, [4000]);
    assert.deepEqual(h.changes, []);
    h.prober.stop();
  });

  it("stops checking when stopped", async () => {
    const h = harness([false], spec());
    await run(h.clock, 300);
    h.prober.stop();
    const n = h.calls();
    await run(h.clock, 60_000, 1000);
    assert.equal(h.calls(), n);
    assert.deepEqual(h.never, []);
  });
});

describe("checkOnce", () => {
  it("http: 2xx/3xx pass, 5xx and refused connections fail; tcp connects", async () => {
    const server = createServer((req, res) => {
      res.statusCode = req.url === "/bad" ? 503 : req.url === "/moved" ? 302 : 200;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      assert.equal(await checkOnce("httpGet", port, "/", 1000), true);
      assert.equal(await checkOnce("httpGet", port, "/moved", 1000), true);
      assert.equal(await checkOnce("httpGet", port, "/bad", 1000), false);
      assert.equal(await checkOnce("tcpSocket", port, "/", 1000), true);
    } finally {
      await new Promise((r) => server.close(r));
    }
    assert.equal(await checkOnce("httpGet", port, "/", 1000), false);
    assert.equal(await checkOnce("tcpSocket", port, "/", 1000), false);
  });
});
