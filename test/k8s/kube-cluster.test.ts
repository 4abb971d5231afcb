// The Kubernetes test rig itself (test/support/kube-cluster.ts): a real kube-apiserver on etcd,
// the controller manager turning a Deployment into a ReplicaSet and Pods and a Service into an
// EndpointSlice, and the rig's kubectl talking to both. Every Kubernetes test stands on this.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubeCluster, KubectlError, K8S_RIG_VERSION } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { tearDown } from "./teardown.ts";

const APP = `
apiVersion: v1
kind: Service
metadata: {name: details, labels: {app: details}}
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: details}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: details-v1}
spec:
  replicas: 2
  selector: {matchLabels: {app: details, version: v1}}
  template:
    metadata: {labels: {app: details, version: v1}}
    spec:
      containers: [{name: details, image: docker.io/istio/examples-bookinfo-details-v1:1.20.3, ports: [{containerPort: 9080}]}]
`;

describe("Kubernetes test rig", () => {
  let cluster: KubeCluster;
  before(async () => {
    cluster = await KubeCluster.start({ controllerManager: true });
  });
  after(() => tearDown({ cluster }));

  it("serves the pinned Kubernetes version to the rig's kubectl", async () => {
    const v = JSON.parse(await cluster.kubectl(["version", "-o", "json"])) as { serverVersion: { gitVersion: string } };
    assert.equal(v.serverVersion.gitVersion, K8S_RIG_VERSION);
  });

  it("turns a Deployment into Pods and a Service into an EndpointSlice (controller manager)", async () => {
    await cluster.apply(APP);
    const pods = await waitFor(async () => {
      const list = JSON.parse(await cluster.kubectl(["get", "pods", "-l", "app=details", "-o", "json"])) as { items: { spec: { serviceAccountName: string } }[] };
      return list.items.length === 2 && list.items;
    }, { what: "the ReplicaSet controller to create 2 pods", timeoutMs: 30_000 });
    assert.equal(pods[0]!.spec.serviceAccountName, "default");
    await waitFor(async () => {
      const slices = JSON.parse(await cluster.kubectl(["get", "endpointslices", "-l", "kubernetes.io/service-name=details", "-o", "json"])) as { items: unknown[] };
      return slices.items.length === 1;
    }, { what: "the EndpointSlice controller to create the Service's slice", timeoutMs: 30_000 });
  });

  it("authorizes with RBAC: an unknown token is refused", async () => {
    await assert.rejects(cluster.kubectl(["--token", "not-a-token", "get", "namespaces"]), (e: unknown) => e instanceof KubectlError && /Unauthorized/i.test(e.stderr));
  });
});
