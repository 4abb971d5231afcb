// The sidecars' metrics read by real consumers: a real Prometheus (/usr/bin/prometheus, its own
// temp config and TSDB, scrape interval 1s) answers a PromQL query over istio_requests_total; the
// control plane's metrics store scrapes the same sidecars and serves services and the graph.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { waitFor } from "../support/wait.ts";
import { startCollector, type Collector } from "./collector.ts";
import { counts, fetchText, startTwoHop, untilCounted, type TwoHop } from "./two-hop.ts";
import { unusedPort } from "../support/ports.ts";

const PROMETHEUS = "/usr/bin/prometheus";


describe("consumers of the sidecar metrics", () => {
  let app: Upstream;
  let mesh: TwoHop;

  before(async () => {
    app = await startUpstream("reviews", (req, res) => {
      res.statusCode = req.url === "/fail" ? 500 : 200;
      res.end("ok");
    });
    mesh = await startTwoHop(app.port, { metricsPort: 0 });
  });

  after(async () => {
    await mesh.close();
    await app.close();
  });

  it("the control plane's metrics store computes services and the graph", async () => {
    const cp: Collector = await startCollector({ scrapeIntervalMs: 60_000 });
    try {
      cp.service.addTarget("productpage-v1-0", `http://127.0.0.1:${mesh.client.telemetry?.metricsPort}/stats/prometheus`);
      cp.service.addTarget("reviews-v2-0", `http://127.0.0.1:${mesh.server.telemetry?.metricsPort}/stats/prometheus`);
      await cp.service.metrics.scrapeOnce();
      const from = await counts(mesh);
      for (let i = 0; i < 9; i++) await send(mesh.clientPort, { host: "reviews:9080", path: "/ok" });
      await send(mesh.clientPort, { host: "reviews:9080", path: "/fail" });
      await untilCounted(mesh, from, 10);
      await cp.service.metrics.scrapeOnce();

      const s = JSON.parse((await fetchText(`${cp.url}/api/v1/telemetry/services?window=60s`)).body) as { services: Record<string, unknown>[] };
      assert.equal(s.services.length, 1);
      const row = s.services[0] as Record<string, number | string | null>;
      assert.equal(row.service, "reviews.default.svc.cluster.local");
      assert.equal(row.workload, "reviews-v2");
      assert.equal(row.version, "v2");
      assert.equal(row.requests, 10);
      assert.equal(row.errorRate, 0.1);
      assert.ok((row.rps as number) > 0);
      assert.equal(typeof row.p99, "number");

      const g = JSON.parse((await fetchText(`${cp.url}/api/v1/telemetry/graph?window=5m`)).body) as { nodes: { id: string }[]; edges: Record<string, unknown>[] };
      assert.deepEqual(g.nodes.map((n) => n.id), ["service:reviews.default.svc.cluster.local", "version:default/productpage/v1", "version:default/reviews/v2"]);
      const call = g.edges.find((e) => e.source === "version:default/productpage/v1");
      assert.equal(call?.target, "service:reviews.default.svc.cluster.local");
      assert.equal(call?.requests, 10);
      assert.equal(call?.errorRate, 0.1);
      assert.equal(call?.protocol, "http");
      assert.equal(call?.mtls, false);
      const serve = g.edges.find((e) => e.source === "service:reviews.default.svc.cluster.local");
      assert.equal(serve?.target, "version:default/reviews/v2");
      assert.equal((await fetchText(`${cp.url}/api/v1/telemetry/graph?window=soon`)).status, 400);
    } finally {
      await cp.close();
    }
  });

  it("a real Prometheus scrapes the sidecar and answers PromQL", { skip: !existsSync(PROMETHEUS), timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "amime-prom-"));
    const webPort = await unusedPort();
    const targets = [mesh.client.telemetry?.metricsPort, mesh.server.telemetry?.metricsPort].map((p) => `"127.0.0.1:${p}"`).join(", ");
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: envoy-stats\n    metrics_path: /stats/prometheus\n    static_configs:\n      - targets: [${targets}]\n`,
    );
    let prom: ChildProcess | null = null;
    try {
      for (let i = 0; i < 5; i++) await send(mesh.clientPort, { host: "reviews:9080", path: "/prom" });
      prom = spawn(PROMETHEUS, [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${webPort}`], { stdio: "ignore" });
      const q = encodeURIComponent('sum(istio_requests_total{reporter="destination",destination_workload="reviews-v2",source_workload="productpage-v1",response_code="200"})');
      // Prometheus starts, scrapes both sidecars every second and answers: poll its API.
      const value = await waitFor(
        async () => {
          const r = await fetchText(`http://127.0.0.1:${webPort}/api/v1/query?query=${q}`);
          const body = JSON.parse(r.body) as { status: string; data?: { result: { value: [number, string] }[] } };
          const v = body.data?.result[0]?.value[1];
          return v !== undefined && Number(v) >= 5 ? v : null;
        },
        { what: "Prometheus to answer the PromQL query with the 5 requests", timeoutMs: 40_000, everyMs: 500 },
      );
      assert.ok(Number(value) >= 5, `PromQL answer: ${value}`);
      // Both targets are scraped once Prometheus has gone round them (the first may be alone for a moment).
      await waitFor(
        async () => {
          const up = await fetchText(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent("sum(up)")}`);
          return (JSON.parse(up.body) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1] === "2";
        },
        { what: "Prometheus to see both sidecars up (sum(up) = 2)", timeoutMs: 15_000, everyMs: 250 },
      );
    } finally {
      if (prom !== null && prom.exitCode === null) {
        const exited = new Promise((r) => prom?.once("exit", r));
        prom.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
