import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translate } from "./index.ts";
import { inst, k8sService, snapshotFrom } from "./testing.ts";

const gateway = (hosts: string, port = "15443") => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: cross-network-gateway, namespace: istio-system}
spec:
  selector: {istio: eastwestgateway}
  servers:
  - port: {number: ${port}, name: tls, protocol: TLS}
    tls: {mode: AUTO_PASSTHROUGH}
    hosts: [${hosts}]
---
`;
const subsets = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews.default.svc.cluster.local
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
`;
const eastwest = { id: "router~eastwest.istio-system", kind: "gateway" as const, workload: "eastwest", namespace: "istio-system", labels: { istio: "eastwestgateway" }, serviceAccount: "eastwest", trustDomain: "cluster.local", ip: "10.0.0.9" };

function configFor(yaml: string) {
  const snap = snapshotFrom(k8sService("reviews") + k8sService("ratings", "other") + yaml, [
    inst("reviews", "v1", "10.0.0.1", { sidecar: true }),
    inst("reviews", "v2", "10.0.0.2", { sidecar: true }),
    inst("ratings", "v1", "10.0.0.3", { sidecar: true, namespace: "other" }),
  ]);
  return translate(snap, eastwest);
}

describe("AUTO_PASSTHROUGH gateway servers", () => {
  it("one SNI route per service port and subset the hosts cover, each to an SNI-DNAT cluster with that cluster's endpoints, TCP and no TLS", () => {
    const cfg = configFor(gateway(`"*.local"`) + subsets);
    const l = cfg.listeners.find((x) => x.name === "0.0.0.0_15443");
    assert.equal(l?.protocol, "tcp");
    assert.equal(l?.port, 15443);
    assert.deepEqual(l?.tcpRoute, { clusters: [] });
    const names = l?.sniRoutes?.map((r) => r.serverNames[0]).sort();
    assert.deepEqual(names, [
      "outbound_.9080_._.ratings.other.svc.cluster.local",
      "outbound_.9080_._.reviews.default.svc.cluster.local",
      "outbound_.9080_.v1_.reviews.default.svc.cluster.local",
      "outbound_.9080_.v2_.reviews.default.svc.cluster.local",
    ]);
    for (const r of l?.sniRoutes ?? []) assert.deepEqual(r.clusters, [{ cluster: r.serverNames[0], weight: 100 }]);
    const v1 = cfg.clusters.find((c) => c.name === "outbound_.9080_.v1_.reviews.default.svc.cluster.local");
    assert.equal(v1?.protocol, "tcp");
    assert.equal(v1?.tls, undefined);
    assert.equal(v1?.subset, "v1");
    assert.deepEqual(cfg.endpoints["outbound_.9080_.v1_.reviews.default.svc.cluster.local"]?.map((e) => e.address), ["10.0.0.1"]);
    assert.deepEqual(cfg.endpoints["outbound_.9080_._.reviews.default.svc.cluster.local"]?.map((e) => e.address).sort(), ["10.0.0.1", "10.0.0.2"]);
    // The gateway's own outbound cluster keeps auto mTLS.
    assert.equal(cfg.clusters.find((c) => c.name === "outbound|9080|v1|reviews.default.svc.cluster.local")?.tls?.mode, "ISTIO_MUTUAL");
  });

  it("hosts narrow the services; a gateway that selects other proxies gives none", () => {
    const cfg = configFor(gateway(`"*.other.svc.cluster.local"`));
    assert.deepEqual(cfg.listeners.find((x) => x.name === "0.0.0.0_15443")?.sniRoutes?.map((r) => r.serverNames[0]), ["outbound_.9080_._.ratings.other.svc.cluster.local"]);
    const other = translate(snapshotFrom(k8sService("reviews") + gateway(`"*.local"`), [inst("reviews", "v1", "10.0.0.1")]), { ...eastwest, labels: { istio: "ingressgateway" } });
    assert.equal(other.listeners.find((x) => x.name === "0.0.0.0_15443"), undefined);
  });
});
