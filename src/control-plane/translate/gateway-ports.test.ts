// The local runtime's gateway port mapping: a gateway whose registry instance maps a server port
// binds its listener there (same name and routes); without a mapping it binds the server port.
import assert from "node:assert/strict";
import { test } from "node:test";
import { translate } from "./index.ts";
import { snapshotFrom } from "./testing.ts";

const yaml = JSON.stringify({
  apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "gw" },
  spec: { selector: { istio: "ingressgateway" }, servers: [{ port: { number: 8080, name: "http", protocol: "HTTP" }, hosts: ["*"] }, { port: { number: 9000, name: "http2", protocol: "HTTP" }, hosts: ["*"] }] },
}) + "\n";
const proxy = { id: "gateway~ingress-0.istio-system", kind: "gateway" as const, workload: "ingress", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", trustDomain: "cluster.local", ip: "127.0.0.1" };
const instance = { name: "ingress-0", namespace: "istio-system", labels: { istio: "ingressgateway" }, serviceAccount: "gw", address: "127.0.0.1", ports: { "8080": 18080 }, ready: true };

test("gateway listeners bind the ports the gateway's own instance maps", () => {
  const cfg = translate(snapshotFrom(yaml, [instance]), proxy);
  assert.deepEqual(cfg.listeners.map((l) => [l.name, l.address, l.port, l.routeConfigName]), [
    ["0.0.0.0_8080", "127.0.0.1", 18080, "http.8080"],
    ["0.0.0.0_9000", "0.0.0.0", 9000, "http.9000"],
  ]);
});

test("without a registered instance the server ports are bound as declared", () => {
  const cfg = translate(snapshotFrom(yaml), proxy);
  assert.deepEqual(cfg.listeners.map((l) => [l.address, l.port]), [["0.0.0.0", 8080], ["0.0.0.0", 9000]]);
});

test("gateway HTTP listeners: x-forwarded-client-cert as Istio's gateways (SANITIZE_SET; Subject, Cert, URI, DNS), else MeshConfig gatewayTopology.forwardClientCertDetails", () => {
  const details = { subject: true, cert: true, uri: true, dns: true };
  const modes = (mesh: Record<string, unknown> | undefined) => translate(snapshotFrom(yaml, [], mesh ? { mesh: { config: mesh } } : {}), proxy).listeners.map((l) => l.xfcc);
  assert.deepEqual(modes(undefined), [{ forward: "SANITIZE_SET", details }, { forward: "SANITIZE_SET", details }]);
  assert.deepEqual(modes({ defaultConfig: { gatewayTopology: { forwardClientCertDetails: "UNDEFINED" } } })[0], { forward: "SANITIZE_SET", details });
  for (const forward of ["SANITIZE", "FORWARD_ONLY", "APPEND_FORWARD", "ALWAYS_FORWARD_ONLY"]) {
    assert.deepEqual(modes({ defaultConfig: { gatewayTopology: { forwardClientCertDetails: forward } } })[0], { forward, details });
  }
});
