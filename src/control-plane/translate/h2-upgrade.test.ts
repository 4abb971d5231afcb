// DestinationRule connectionPool.http h2UpgradePolicy / useClientProtocol → Cluster protocol fields.
import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const HOST = "web.default.svc.cluster.local";

function dr(http: string): string {
  return `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
  trafficPolicy: {connectionPool: {http: ${http}}}
`;
}

function cluster(yaml: string, port = 80) {
  const cfg = translate(snapshotFrom(k8sService("web", "default", [{ name: "http", port: 80 }, { name: "grpc-api", port: 90 }]) + yaml), sidecarProxy({ app: "client" }));
  const c = cfg.clusters.find((x) => x.name === `outbound|${port}||${HOST}`);
  assert.ok(c);
  return c;
}

test("no DestinationRule / DEFAULT / DO_NOT_UPGRADE: http ports stay HTTP/1.1 (Istio's mesh default), grpc ports are HTTP/2", () => {
  assert.equal(cluster("").protocol, "http1");
  assert.equal(cluster(dr("{h2UpgradePolicy: DEFAULT}")).protocol, "http1");
  assert.equal(cluster(dr("{h2UpgradePolicy: DO_NOT_UPGRADE}")).protocol, "http1");
  assert.equal(cluster("", 90).protocol, "http2");
  assert.equal(cluster("").useClientProtocol, undefined);
});

test("UPGRADE: http ports go upstream as HTTP/2", () => {
  assert.equal(cluster(dr("{h2UpgradePolicy: UPGRADE}")).protocol, "http2");
});

test("useClientProtocol: the cluster follows the client's protocol", () => {
  const c = cluster(dr("{useClientProtocol: true}"));
  assert.equal(c.protocol, "http1");
  assert.equal(c.useClientProtocol, true);
  assert.equal(cluster(dr("{useClientProtocol: true}"), 90).useClientProtocol, true);
  assert.equal(cluster(dr("{useClientProtocol: false}")).useClientProtocol, undefined);
});
