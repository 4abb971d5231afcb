// `amime top --once` as a real process against a control-plane telemetry endpoint fed by two real
// sidecars: one row per service version with rps, error share and latency quantiles.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { amime } from "../cli/control-plane-cli.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { startCollector, type Collector } from "./collector.ts";
import { counts, startTwoHop, untilCounted, type TwoHop } from "./two-hop.ts";

describe("amime top", () => {
  let app: Upstream;
  let mesh: TwoHop;
  let cp: Collector;

  before(async () => {
    app = await startUpstream("reviews", (req, res) => {
      res.statusCode = req.url === "/fail" ? 503 : 200;
      res.end("ok");
    });
    mesh = await startTwoHop(app.port, { metricsPort: 0 });
    cp = await startCollector({ scrapeIntervalMs: 60_000 });
    cp.service.addTarget("reviews-v2-0", `http://127.0.0.1:${mesh.server.telemetry?.metricsPort}/stats/prometheus`);
    await cp.service.metrics.scrapeOnce();
    const from = await counts(mesh);
    for (let i = 0; i < 3; i++) await send(mesh.clientPort, { host: "reviews:9080", path: "/ok" });
    await send(mesh.clientPort, { host: "reviews:9080", path: "/fail" });
    await untilCounted(mesh, from, 4);
    await cp.service.metrics.scrapeOnce();
  });

  after(async () => {
    await cp.close();
    await mesh.close();
    await app.close();
  });

  it("prints one table with --once", async () => {
    const r = await amime(["top", "--once", "--control-plane", cp.url]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] as string, /^SERVICE\s+VERSION\s+WORKLOAD\s+RPS\s+ERRORS\s+P50\s+P90\s+P99$/);
    assert.equal(lines.length, 2);
    assert.match(lines[1] as string, /^reviews\.default\.svc\.cluster\.local\s+v2\s+reviews-v2\s+\d+\.\d\d\s+25\.0%\s+[\d.]+\s+[\d.]+\s+[\d.]+$/);
  });

  it("filters by namespace and reports usage errors and an unreachable control plane", async () => {
    const none = await amime(["top", "--once", "-n", "other", "--control-plane", cp.url]);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /No traffic in the window/);
    assert.equal((await amime(["top", "--window", "soon", "--control-plane", cp.url])).code, 2);
    const down = await amime(["top", "--once", "--control-plane", "http://127.0.0.1:1"]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /amime top: cannot reach the control plane/);
  });
});
