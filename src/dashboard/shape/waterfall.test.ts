import assert from "node:assert/strict";
import { test } from "node:test";
import type { StoredSpan } from "../../control-plane/telemetry/span-store.ts";
import { summarize, waterfall } from "./waterfall.ts";

const T = "0af7651916cd43dd8448eb211c80319c";
const span = (id: string, parentId: string | undefined, service: string, kind: string, ts: number, duration: number, tags: Record<string, string> = {}): StoredSpan => ({
  traceId: T, id, ...(parentId ? { parentId } : {}), name: `${service}:9080/*`, kind, timestamp: 1_000_000 + ts, duration, localEndpoint: { serviceName: service }, tags,
});

// gateway → productpage → reviews → ratings, with B3-style shared client/server span ids.
const spans = [
  span("0000000000000003", "0000000000000002", "reviews.default", "CLIENT", 300, 400),
  span("0000000000000001", undefined, "istio-ingressgateway.istio-system", "CLIENT", 0, 1000),
  span("0000000000000002", "0000000000000001", "productpage.default", "SERVER", 100, 800),
  span("0000000000000003", "0000000000000002", "ratings.default", "SERVER", 350, 300, { "http.status_code": "500" }),
  span("0000000000000001", undefined, "productpage.default", "SERVER", 50, 900),
];

test("spans nest under their parents, a shared server span under its client twin", () => {
  const w = waterfall(spans);
  assert.deepEqual(w.rows.map((r) => `${"  ".repeat(r.depth)}${r.service} ${r.kind}`), [
    "istio-ingressgateway.istio-system CLIENT",
    "  productpage.default SERVER",
    "    productpage.default SERVER",
    "      reviews.default CLIENT",
    "        ratings.default SERVER",
  ]);
  assert.deepEqual(w.services, ["istio-ingressgateway.istio-system", "productpage.default", "ratings.default", "reviews.default"]);
  assert.equal(w.durationUs, 1000);
  const ratings = w.rows[4]!;
  assert.equal(ratings.leftPct, 35);
  assert.equal(ratings.widthPct, 30);
  assert.equal(ratings.error, true);
  assert.equal(w.rows[0]!.error, false);
});

test("a trace summary names its root, services, spans and errors", () => {
  const s = summarize(spans);
  assert.equal(s.root, "istio-ingressgateway.istio-system: istio-ingressgateway.istio-system:9080/*");
  assert.equal(s.services.length, 4);
  assert.equal(s.spans, 5);
  assert.equal(s.errors, 1);
  assert.deepEqual(waterfall([]).rows, []);
});
