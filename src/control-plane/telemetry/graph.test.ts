// The service graph from one window of deltas: a meshed caller (both sides report), a caller
// without a sidecar (only the server reports), and a TCP service.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Delta } from "./golden-signals.ts";
import { buildGraph } from "./graph.ts";
import type { TcpDelta } from "./tcp-signals.ts";

const REVIEWS = "reviews.default.svc.cluster.local";
const MONGO = "mongo.default.svc.cluster.local";
const PRODUCTPAGE = { source_workload: "productpage-v1", source_workload_namespace: "default", source_app: "productpage", source_version: "v1" };
const to = (app: string, version: string, service: string) => ({ destination_service: service, destination_service_namespace: "default", destination_workload: `${app}-${version}`, destination_workload_namespace: "default", destination_app: app, destination_version: version });

function http(labels: Record<string, string>, requests: number): Delta {
  return { labels: { request_protocol: "http", ...labels }, requests, buckets: [requests], bounds: [10], seconds: 10 };
}
function tcp(labels: Record<string, string>): TcpDelta {
  return { labels, opened: 2, sent: 100, received: 200, seconds: 10 };
}

test("buildGraph: caller → service and service → version edges, HTTP and TCP, from the server's view where there is one", () => {
  const g = buildGraph(
    [
      http({ reporter: "source", ...PRODUCTPAGE, ...to("reviews", "v1", REVIEWS), response_code: "200" }, 10),
      http({ reporter: "destination", ...PRODUCTPAGE, ...to("reviews", "v1", REVIEWS), response_code: "200", connection_security_policy: "mutual_tls" }, 10),
      // No client sidecar: only the server reports, with an unknown caller.
      http({ reporter: "destination", source_workload: "unknown", ...to("reviews", "v2", REVIEWS), response_code: "503", connection_security_policy: "none" }, 5),
    ],
    60_000,
    [tcp({ reporter: "source", ...PRODUCTPAGE, ...to("mongo", "v1", MONGO) }), tcp({ reporter: "destination", ...PRODUCTPAGE, ...to("mongo", "v1", MONGO), connection_security_policy: "mutual_tls" })],
  );
  assert.equal(g.windowMs, 60_000);
  assert.deepEqual(
    g.edges.map((e) => ({ from: e.source, to: e.target, protocol: e.protocol, mtls: e.mtls, rps: e.rps, errorRate: e.errorRate, ...(e.tcp ? { tcp: e.tcp } : {}) })),
    [
      { from: "version:default/productpage/v1", to: `service:${REVIEWS}`, protocol: "http", mtls: true, rps: 1, errorRate: 0 },
      { from: "unknown", to: `service:${REVIEWS}`, protocol: "http", mtls: false, rps: 0.5, errorRate: 1 },
      { from: `service:${REVIEWS}`, to: "version:default/reviews/v1", protocol: "http", mtls: true, rps: 1, errorRate: 0 },
      { from: `service:${REVIEWS}`, to: "version:default/reviews/v2", protocol: "http", mtls: false, rps: 0.5, errorRate: 1 },
      { from: "version:default/productpage/v1", to: `service:${MONGO}`, protocol: "tcp", mtls: true, rps: 0, errorRate: 0, tcp: { connections: 2, cps: 0.2, sentBps: 10, receivedBps: 20 } },
      { from: `service:${MONGO}`, to: "version:default/mongo/v1", protocol: "tcp", mtls: true, rps: 0, errorRate: 0, tcp: { connections: 2, cps: 0.2, sentBps: 10, receivedBps: 20 } },
    ],
  );
  assert.deepEqual(
    g.nodes.map((n) => [n.id, n.kind, n.rps, n.errorRate]),
    [
      [`service:${MONGO}`, "service", 0, 0],
      [`service:${REVIEWS}`, "service", 1.5, 0.3333],
      ["unknown", "unknown", 0, 0],
      ["version:default/mongo/v1", "version", 0, 0],
      ["version:default/productpage/v1", "version", 0, 0],
      ["version:default/reviews/v1", "version", 1, 0],
      ["version:default/reviews/v2", "version", 0.5, 1],
    ],
  );
});
