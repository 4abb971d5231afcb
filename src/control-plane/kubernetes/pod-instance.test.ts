import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { instanceOfPod, podRegistration } from "./pod-instance.ts";
import type { KubeObject } from "./reflector.ts";

function pod(over: { metadata?: Partial<KubeObject["metadata"]>; spec?: object; status?: object } = {}): KubeObject {
  return {
    metadata: { name: "reviews-v2-7d9f8c-abcde", namespace: "bookinfo", labels: { app: "reviews", version: "v2", "pod-template-hash": "7d9f8c" }, ownerReferences: [{ kind: "ReplicaSet", name: "reviews-v2-7d9f8c", controller: true }], ...over.metadata },
    spec: { serviceAccountName: "bookinfo-reviews", containers: [{ name: "reviews", ports: [{ name: "http", containerPort: 9080 }] }], ...over.spec },
    status: { phase: "Running", podIP: "10.1.2.3", conditions: [{ type: "Ready", status: "True" }], ...over.status },
  };
}

describe("instanceOfPod", () => {
  it("reads address, labels, service account, namespace, named ports and the Deployment as workload", () => {
    assert.deepEqual(instanceOfPod(pod()), {
      name: "reviews-v2-7d9f8c-abcde",
      namespace: "bookinfo",
      labels: { app: "reviews", version: "v2", "pod-template-hash": "7d9f8c" },
      serviceAccount: "bookinfo-reviews",
      address: "10.1.2.3",
      ready: true,
      workload: "reviews-v2",
      ports: { http: 9080 },
    });
  });

  it("is not ready without a True Ready condition, and runs a sidecar when it has istio-proxy", () => {
    const i = instanceOfPod(pod({ status: { conditions: [{ type: "Ready", status: "False" }] }, spec: { containers: [{ name: "reviews" }, { name: "istio-proxy" }] } }))!;
    assert.equal(i.ready, false);
    assert.equal(i.sidecar, true);
  });

  it("takes the default service account and the direct owner when there is no ReplicaSet hash", () => {
    const i = instanceOfPod(pod({ metadata: { labels: { app: "db" }, ownerReferences: [{ kind: "StatefulSet", name: "db", controller: true }] }, spec: { serviceAccountName: "" } }))!;
    assert.equal(i.serviceAccount, "default");
    assert.equal(i.workload, "db");
  });

  it("is no instance without an IP, once finished, or while being deleted", () => {
    assert.equal(instanceOfPod(pod({ status: { podIP: "" } })), null);
    assert.equal(instanceOfPod(pod({ status: { phase: "Succeeded" } })), null);
    assert.equal(instanceOfPod(pod({ status: { phase: "Failed" } })), null);
    assert.equal(instanceOfPod(pod({ metadata: { deletionTimestamp: "2026-12-06T10:00:00Z" } })), null);
  });

  it("an injected pod: peers dial each app port's sidecar inbound listener, which forwards to the app", () => {
    const i = instanceOfPod(pod({ spec: { containers: [{ name: "reviews", ports: [{ name: "http", containerPort: 9080 }, { containerPort: 9443 }] }, { name: "istio-proxy", ports: [{ name: "http-envoy-prom", containerPort: 15090 }] }] } }))!;
    assert.deepEqual(i.ports, { "9080": 15006, http: 15006, "9443": 15101, "http-envoy-prom": 15090 });
    assert.deepEqual(i.appPorts, { "9080": 9080, http: 9080, "9443": 9443 });
    const reg = podRegistration("sidecar~reviews-v2-7d9f8c-abcde.bookinfo", i, "cluster.local")!;
    assert.equal(reg.outboundPort, 15001);
    // Outbound TCP listeners on 15200–15399, never on a service port the app itself may bind.
    assert.equal(reg.tcpPortPool?.[0], 15200);
    assert.equal(reg.tcpPortPool?.at(-1), 15399);
    assert.deepEqual(reg.node, { id: "sidecar~reviews-v2-7d9f8c-abcde.bookinfo", kind: "sidecar", workload: "reviews-v2", namespace: "bookinfo", labels: i.labels, serviceAccount: "bookinfo-reviews", trustDomain: "cluster.local", ip: "10.1.2.3" });
    assert.equal(podRegistration("sidecar~x.bookinfo", instanceOfPod(pod()) ?? undefined, "cluster.local"), null, "no sidecar in the pod");
  });
});
