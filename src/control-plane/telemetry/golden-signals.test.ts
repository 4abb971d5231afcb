import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deltas, quantile, signals, type Snapshot } from "./golden-signals.ts";
import { buildGraph, serviceRows } from "./graph.ts";
import { snapshotOf } from "./metrics-store.ts";

describe("golden signals", () => {
  it("quantile interpolates within the bucket like histogram_quantile", () => {
    const bounds = [10, 20, 40];
    // 10 in (0,10], 10 in (10,20], 0 in (20,40], 0 above.
    assert.equal(quantile(0.5, bounds, [10, 20, 20, 20]), 10);
    assert.equal(quantile(0.75, bounds, [10, 20, 20, 20]), 15);
    assert.equal(quantile(0.25, bounds, [10, 20, 20, 20]), 5);
    assert.equal(quantile(0.99, bounds, [0, 0, 0, 5]), 40, "the +Inf bucket reports the highest finite bound");
    assert.ok(Number.isNaN(quantile(0.5, bounds, [0, 0, 0, 0])));
  });

  it("deltas handle new series and counter resets", () => {
    const a: Snapshot = { atMs: 0, bounds: [1], series: new Map([["x", { labels: { response_code: "200" }, requests: 10, buckets: [5, 10] }]]) };
    const b: Snapshot = {
      atMs: 10_000,
      bounds: [1],
      series: new Map([
        ["x", { labels: { response_code: "200" }, requests: 30, buckets: [15, 30] }],
        ["y", { labels: { response_code: "503" }, requests: 10, buckets: [0, 10] }],
      ]),
    };
    const d = deltas(a, b);
    assert.deepEqual(d.map((x) => [x.requests, x.buckets]), [[20, [10, 20]], [10, [0, 10]]]);
    const s = signals(d);
    assert.equal(s.requests, 30);
    assert.equal(s.rps, 3);
    assert.equal(s.errorRate, 0.3333);
    const reset = deltas(b, { ...a, atMs: 20_000 });
    assert.equal(reset[0]?.requests, 10);
  });
});

const L = (o: Record<string, string>): string =>
  Object.entries({ reporter: "source", source_workload: "productpage-v1", source_workload_namespace: "default", source_app: "productpage", source_version: "v1", destination_service: "reviews.default.svc.cluster.local", destination_service_namespace: "default", destination_workload: "reviews-v1", destination_workload_namespace: "default", destination_app: "reviews", destination_version: "v1", request_protocol: "http", response_code: "200", connection_security_policy: "unknown", ...o })
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");

function scrape(lines: [string, number][]): string {
  let s = "# TYPE istio_requests_total counter\n";
  for (const [l, v] of lines) s += `istio_requests_total{${l}} ${v}\n`;
  s += "# TYPE istio_request_duration_milliseconds histogram\n";
  for (const [l, v] of lines) s += `istio_request_duration_milliseconds_bucket{${l},le="10"} ${v}\nistio_request_duration_milliseconds_bucket{${l},le="+Inf"} ${v}\nistio_request_duration_milliseconds_count{${l}} ${v}\n`;
  return s;
}

describe("services and graph", () => {
  it("builds rows per version from the server side and edges from the client side", () => {
    const v1 = L({});
    const v2 = L({ destination_workload: "reviews-v2", destination_version: "v2", response_code: "500" });
    const d1 = L({ reporter: "destination", connection_security_policy: "mutual_tls" });
    const d2 = L({ reporter: "destination", destination_workload: "reviews-v2", destination_version: "v2", response_code: "500", connection_security_policy: "mutual_tls" });
    const ext = L({ reporter: "destination", source_workload: "unknown", source_app: "unknown", source_version: "unknown", source_workload_namespace: "unknown" });
    const a = snapshotOf(scrape([[v1, 0], [v2, 0], [d1, 0], [d2, 0], [ext, 0]]), 0);
    const b = snapshotOf(scrape([[v1, 60], [v2, 20], [d1, 60], [d2, 20], [ext, 10]]), 10_000);
    const d = deltas(a, b);
    const rows = serviceRows(d);
    assert.deepEqual(rows.map((r) => [r.version, r.requests, r.rps, r.errorRate, r.p99]), [["v1", 70, 7, 0, 9.9], ["v2", 20, 2, 1, 9.9]]);
    const g = buildGraph(d, 10_000);
    assert.deepEqual(g.nodes.map((n) => n.id), ["service:reviews.default.svc.cluster.local", "unknown", "version:default/productpage/v1", "version:default/reviews/v1", "version:default/reviews/v2"]);
    const call = g.edges.find((e) => e.source === "version:default/productpage/v1");
    assert.equal(call?.requests, 80);
    assert.equal(call?.errorRate, 0.25);
    assert.equal(call?.mtls, true);
    assert.equal(g.edges.find((e) => e.source === "unknown")?.requests, 10);
    const toV2 = g.edges.find((e) => e.target === "version:default/reviews/v2");
    assert.equal(toV2?.errorRate, 1);
    assert.equal(toV2?.mtls, true);
    assert.equal(g.nodes.find((n) => n.id === "service:reviews.default.svc.cluster.local")?.rps, 9);
  });
});
