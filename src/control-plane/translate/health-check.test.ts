import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { inst, sidecarProxy, snapshotFrom } from "./testing.ts";

const svc = (annotation?: string): string =>
  JSON.stringify({
    apiVersion: "v1", kind: "Service",
    metadata: { name: "reviews", namespace: "default", ...(annotation !== undefined ? { annotations: { "amime.dev/health-check": annotation } } : {}) },
    spec: { ports: [{ name: "http", port: 9080 }], selector: { app: "reviews" } },
  }) + "\n---\n";

const dr = (annotation?: string): string =>
  JSON.stringify({
    apiVersion: "networking.istio.io/v1", kind: "DestinationRule",
    metadata: { name: "reviews", namespace: "default", ...(annotation !== undefined ? { annotations: { "amime.dev/health-check": annotation } } : {}) },
    spec: { host: "reviews", subsets: [{ name: "v1", labels: { version: "v1" } }] },
  }) + "\n---\n";

function healthChecks(yaml: string): Record<string, unknown> {
  const cfg = translate(snapshotFrom(yaml, [inst("reviews", "v1", "10.0.0.1")]), sidecarProxy({ app: "productpage" }));
  return Object.fromEntries(cfg.clusters.filter((c) => c.name.includes("reviews") && c.direction === "outbound").map((c) => [c.name, c.healthCheck]));
}

test("health check annotation → Cluster.healthCheck (DestinationRule wins over Service; all subsets)", () => {
  const tcp = { kind: "tcp", intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 3, healthyThreshold: 1 };
  const http = { kind: "http", path: "/health", expectedStatuses: [[200, 299]], intervalMs: 2000, timeoutMs: 1000, unhealthyThreshold: 3, healthyThreshold: 1 };
  assert.deepEqual(healthChecks(svc() + dr()), { "outbound|9080|v1|reviews.default.svc.cluster.local": undefined, "outbound|9080||reviews.default.svc.cluster.local": undefined });
  assert.deepEqual(healthChecks(svc('{"tcp":{},"interval":"5s"}') + dr()), {
    "outbound|9080|v1|reviews.default.svc.cluster.local": tcp,
    "outbound|9080||reviews.default.svc.cluster.local": tcp,
  });
  assert.deepEqual(healthChecks(svc('{"tcp":{},"interval":"5s"}') + dr('{"http":{"path":"/health"},"interval":"2s"}')), {
    "outbound|9080|v1|reviews.default.svc.cluster.local": http,
    "outbound|9080||reviews.default.svc.cluster.local": http,
  });
  // An invalid value (validation reports it) configures nothing.
  assert.equal(healthChecks(svc('{"tcp":{},"interval":"fast"}'))["outbound|9080||reviews.default.svc.cluster.local"], undefined);
});
