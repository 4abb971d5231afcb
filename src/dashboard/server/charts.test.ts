import assert from "node:assert/strict";
import { test } from "node:test";
import { snapshotOf } from "../../control-plane/telemetry/metrics-store.ts";
import { chartOf, detailCharts } from "./charts.ts";

const L = (o: Record<string, string>): string =>
  Object.entries({ reporter: "destination", source_app: "productpage", source_workload_namespace: "default", source_version: "v1", destination_service: "reviews.default.svc.cluster.local", destination_app: "reviews", destination_workload_namespace: "default", destination_version: "v1", response_code: "200", ...o })
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");

function scrape(rows: [string, number, number][]): string {
  // [labels, requests, requests under 10 ms]
  let s = "# TYPE istio_requests_total counter\n";
  for (const [l, v] of rows) s += `istio_requests_total{${l}} ${v}\n`;
  s += "# TYPE istio_request_duration_milliseconds histogram\n";
  for (const [l, v, fast] of rows) s += `istio_request_duration_milliseconds_bucket{${l},le="10"} ${fast}\nistio_request_duration_milliseconds_bucket{${l},le="100"} ${v}\nistio_request_duration_milliseconds_bucket{${l},le="+Inf"} ${v}\n`;
  return s;
}

const v1 = L({});
const v2 = L({ destination_version: "v2" });
const v2err = L({ destination_version: "v2", response_code: "503" });
const out = L({ reporter: "source", source_app: "reviews", source_version: "v2", destination_service: "ratings.default.svc.cluster.local", destination_app: "ratings" });

// One target, scraped every 5 s: t=0, 5, 10.
const history = [[
  snapshotOf(scrape([[v1, 0, 0], [v2, 0, 0], [out, 0, 0]]), 0),
  snapshotOf(scrape([[v1, 50, 50], [v2, 10, 0], [out, 10, 10]]), 5000),
  snapshotOf(scrape([[v1, 100, 100], [v2, 20, 0], [v2err, 10, 10], [out, 30, 30]]), 10_000),
]];

test("a chart has one point per step and one series per group", () => {
  const c = chartOf(history, (l) => l.reporter === "destination", (l) => l.destination_version ?? "", 5000);
  assert.deepEqual(c.times, [5, 10]);
  assert.deepEqual(c.series.map((s) => s.label), ["v1", "v2"]);
  assert.deepEqual(c.series[0]!.rps, [10, 10]);
  assert.deepEqual(c.series[1]!.rps, [2, 4]);
  assert.deepEqual(c.series[1]!.errorRate, [0, 0.5]);
  // v2 at t=5: all 10 requests in (10, 100] → p50 interpolates to 55.
  assert.equal(c.series[1]!.p50[0], 55);
  assert.equal(c.series[0]!.p95[0], 9.5);
});

test("detail charts: inbound by version and code, outbound by destination", () => {
  const d = detailCharts(history, { namespace: "default", service: "reviews.default.svc.cluster.local" }, 5000);
  assert.deepEqual(d.inboundByVersion.series.map((s) => s.label), ["v1", "v2"]);
  assert.deepEqual(d.inboundByCode.series.map((s) => [s.label, s.rps]), [["200", [12, 12]], ["503", [0, 2]]]);
  assert.deepEqual(d.outboundByDestination.series.map((s) => [s.label, s.rps]), [["ratings", [2, 4]]]);
  const w = detailCharts(history, { namespace: "default", app: "reviews", version: "v1" }, 5000);
  assert.deepEqual(w.inboundByVersion.series.map((s) => s.label), ["v1"]);
  assert.deepEqual(w.outboundByDestination.series, [], "reviews v1 calls nothing");
});
