// Istio's standard metrics over OTLP (an `opentelemetry` provider under Telemetry `metrics`): a
// real sidecar exports ExportMetricsServiceRequests by OTLP/HTTP protobuf to a receiver process
// (otlp-receiver.ts, decoding with the OTLP protobuf definitions) and by OTLP/gRPC to a grpc-js
// MetricsService. When the collector is killed mid-test, the proxy's traffic is unaffected, the
// exports meanwhile are retried, then dropped and counted — and, the sums being cumulative, the
// first export after the collector is back carries every request.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { MetricOverride } from "../../src/model/proxy-config.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { seededRandom } from "../../src/core/random.ts";
import { send, type Upstream } from "../proxy/sidecar-harness.ts";
import { unusedPort } from "../support/ports.ts";
import { startReceiver } from "./otlp-receiver-process.ts";
import { startOtlpGrpcServer } from "./otlp-grpc-server.ts";
import { clientConfig, scrape, startStatusApp } from "./two-hop.ts";

interface KV {
  key: string;
  value: { stringValue?: string };
}
interface Point {
  attributes: KV[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asInt?: string;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
interface Metric {
  name: string;
  unit: string;
  sum?: { aggregationTemporality: string; isMonotonic: boolean; dataPoints: Point[] };
  histogram?: { aggregationTemporality: string; dataPoints: Point[] };
}
interface MetricsRequest {
  resourceMetrics: { resource: { attributes: KV[] }; scopeMetrics: { scope: { name: string }; metrics: Metric[] }[] }[];
}

/** Envoy's default histogram bounds (Istio's distributions), as Envoy documents them. */
const ENVOY_BOUNDS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

const attrs = (p: Point): Record<string, string | undefined> => Object.fromEntries(p.attributes.map((a) => [a.key, a.value.stringValue]));
const metric = (r: MetricsRequest, name: string): Metric | undefined => r.resourceMetrics[0]?.scopeMetrics[0]?.metrics.find((m) => m.name === name);
const requestsTotal = (r: MetricsRequest): number => (metric(r, "istio_requests_total")?.sum?.dataPoints ?? []).reduce((n, p) => n + Number(p.asInt ?? 0), 0);

describe("Istio metrics over OTLP", () => {
  let app: Upstream;
  before(async () => {
    app = await startStatusApp();
  });
  after(() => app.close());

  it("OTLP/HTTP protobuf: cumulative sums and explicit-bucket histograms with Istio's labels", async () => {
    const rx = await startReceiver();
    const metricsExport = [{ kind: "otlp" as const, protocol: "http" as const, target: `http://127.0.0.1:${rx.port}/v1/metrics`, intervalMs: 60_000 }];
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, metricsExport }), { random: seededRandom(31) });
    try {
      for (const path of ["/a", "/b", "/missing"]) await send(s.ports().outbound as number, { host: "reviews:9080", path });
      await s.telemetry?.flush();
      await rx.until(1);
      const got = rx.received[0];
      assert.equal(got?.path, "/v1/metrics");
      assert.equal(got?.contentType, "application/x-protobuf");
      const body = got?.body as MetricsRequest;
      const res = Object.fromEntries((body.resourceMetrics[0]?.resource.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
      assert.deepEqual(res, { "service.name": "productpage.default", "service.instance.id": "sidecar~productpage-v1-0.default" });
      assert.equal(body.resourceMetrics[0]?.scopeMetrics[0]?.scope.name, "amime-proxy");

      const req = metric(body, "istio_requests_total");
      assert.equal(req?.sum?.aggregationTemporality, "AGGREGATION_TEMPORALITY_CUMULATIVE");
      assert.equal(req?.sum?.isMonotonic, true);
      const byCode = Object.fromEntries((req?.sum?.dataPoints ?? []).map((p) => [attrs(p).response_code, p.asInt]));
      assert.deepEqual(byCode, { "200": "2", "404": "1" });
      const p200 = req?.sum?.dataPoints.find((p) => attrs(p).response_code === "200") as Point;
      const a = attrs(p200);
      assert.equal(a.reporter, "source");
      assert.equal(a.source_workload, "productpage-v1");
      assert.equal(a.destination_service, "reviews.default.svc.cluster.local");
      assert.equal(a.destination_workload, "reviews-v2-0");
      assert.equal(a.request_protocol, "http");
      assert.equal(a.response_flags, "-");
      assert.match(p200.startTimeUnixNano, /^\d{19}$/);
      assert.ok(BigInt(p200.timeUnixNano) >= BigInt(p200.startTimeUnixNano));

      const dur = metric(body, "istio_request_duration_milliseconds");
      assert.equal(dur?.unit, "ms");
      assert.equal(dur?.histogram?.aggregationTemporality, "AGGREGATION_TEMPORALITY_CUMULATIVE");
      const h = dur?.histogram?.dataPoints.find((p) => attrs(p).response_code === "200") as Point;
      assert.deepEqual(h.explicitBounds, ENVOY_BOUNDS);
      assert.equal(h.bucketCounts?.length, ENVOY_BOUNDS.length + 1);
      assert.equal(h.count, "2");
      assert.equal((h.bucketCounts ?? []).reduce((n, c) => n + Number(c), 0), 2);
      assert.equal(metric(body, "istio_request_bytes")?.unit, "By");
      assert.equal(metric(body, "istio_response_bytes")?.histogram?.dataPoints.length, 2);
      assert.match(await scrape(s), /^amime_telemetry_export_sent_total\{exporter="otlp_metrics"\} 1$/m);
    } finally {
      await s.close(100);
      await rx.close();
    }
  });

  it("exports what Prometheus shows: Telemetry overrides (a removed label, a disabled metric) apply", async () => {
    const rx = await startReceiver();
    const metricsExport = [{ kind: "otlp" as const, protocol: "http" as const, target: `http://127.0.0.1:${rx.port}/v1/metrics`, intervalMs: 60_000 }];
    const overrides: MetricOverride[] = [
      { metric: "REQUEST_COUNT", tags: { request_protocol: { remove: true } } },
      { metric: "REQUEST_DURATION", disabled: true },
    ];
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, metricsExport, metrics: { overrides } }), { random: seededRandom(34) });
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/shaped" });
      await s.telemetry?.flush();
      await rx.until(1);
      const body = rx.received[0]?.body as MetricsRequest;
      const p = metric(body, "istio_requests_total")?.sum?.dataPoints[0] as Point;
      assert.equal(attrs(p).request_protocol, undefined);
      assert.equal(attrs(p).response_code, "200");
      assert.equal(metric(body, "istio_request_duration_milliseconds"), undefined);
      assert.ok(metric(body, "istio_request_bytes"));
      const text = await scrape(s);
      assert.doesNotMatch(text, /^istio_request_duration_milliseconds_bucket/m);
    } finally {
      await s.close(100);
      await rx.close();
    }
  });

  it("OTLP/gRPC MetricsService/Export, the provider's headers as metadata", async () => {
    const rx = await startOtlpGrpcServer<MetricsRequest>("metrics", 0);
    const metricsExport = [{ kind: "otlp" as const, protocol: "grpc" as const, target: `127.0.0.1:${rx.port}`, intervalMs: 60_000, headers: [{ name: "x-api-key", value: "k1" }] }];
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, metricsExport }), { random: seededRandom(32) });
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/grpc-export" });
      await s.telemetry?.flush();
      await rx.until(1);
      assert.equal(requestsTotal(rx.got[0] as MetricsRequest), 1);
      assert.deepEqual(rx.metadata[0]?.get("x-api-key"), ["k1"]);
      assert.equal(metric(rx.got[0] as MetricsRequest, "istio_request_duration_milliseconds")?.histogram?.dataPoints[0]?.count, "1");
    } finally {
      await s.close(100);
      await rx.close();
    }
  });

  it("a collector killed mid-test: traffic unaffected, failed exports retried then counted as dropped, the next export carries every request", async () => {
    const port = await unusedPort();
    let rx = await startReceiver(0, port);
    const metricsExport = [{ kind: "otlp" as const, protocol: "http" as const, target: `http://127.0.0.1:${port}/v1/metrics`, intervalMs: 60_000 }];
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, metricsExport }), { random: seededRandom(33) });
    try {
      const out = s.ports().outbound as number;
      await send(out, { host: "reviews:9080", path: "/before" });
      await s.telemetry?.flush();
      await rx.until(1);
      await rx.close();

      for (let i = 0; i < 5; i++) assert.equal((await send(out, { host: "reviews:9080", path: `/while-down-${i}` })).status, 200);
      await s.telemetry?.flush(); // one snapshot: tried, retried 3 times (0.5 s, 1 s, 2 s), dropped
      const down = await scrape(s);
      assert.match(down, /^amime_telemetry_export_sent_total\{exporter="otlp_metrics"\} 1$/m);
      assert.match(down, /^amime_telemetry_export_dropped_total\{exporter="otlp_metrics"\} 1$/m);
      assert.match(down, /^amime_telemetry_export_retried_total\{exporter="otlp_metrics"\} 3$/m);
      assert.match(down, /^amime_telemetry_export_failed_total\{exporter="otlp_metrics"\} 4$/m);

      rx = await startReceiver(0, port);
      await s.telemetry?.flush();
      await rx.until(1);
      assert.equal(requestsTotal(rx.received[0]?.body as MetricsRequest), 6);
    } finally {
      await s.close(100);
      await rx.close();
    }
  });
});
