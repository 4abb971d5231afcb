// The platform's list/watch (reflector.ts) when the API server goes away, on the real rig:
// kube-apiserver killed while the control plane watches, a pod removed from etcd with etcdctl
// meanwhile (a change no watch reports), kube-apiserver started again — the control plane lists
// again, reports the vanished pod as deleted (its endpoint leaves), keeps the others, and watches
// again (a pod created afterwards arrives).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { meshProxy, register, type MeshProxy } from "../control-plane/mesh-harness.ts";
import { runTool } from "./control-plane-process.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { tearDown } from "./teardown.ts";

const REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";

function pod(name: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: reviews}}
spec:
  containers: [{name: reviews, image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3, ports: [{containerPort: 9080}]}]
`;
}

describe("the control plane's watches across an API server restart", () => {
  let kube: KubeCluster;
  let cp: ControlPlane;
  let client: MeshProxy;
  const log: string[] = [];

  const addresses = (): string[] => (cp.configFor(client.nodeId)?.endpoints[REVIEWS] ?? []).map((e) => e.address).sort();

  async function running(name: string, ip: string): Promise<void> {
    await kube.apply(pod(name));
    const status = { status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: "True" }] } };
    await kube.kubectl(["patch", "pod", name, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
  }

  before(async () => {
    kube = await KubeCluster.start();
    await kube.apply("apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}\n");
    await running("reviews-a", "10.20.0.31");
    await running("reviews-b", "10.20.0.32");
    cp = await ControlPlane.start({ port: 0, debounceMs: 10, kubernetes: { kubeconfig: kube.kubeconfig }, log: (l) => log.push(l) });
    client = await meshProxy("productpage", "v1");
    await register(cp, client);
  });

  after(() => tearDown({ processes: [client?.child], controlPlane: cp, cluster: kube }));

  it("lists again after the API server comes back: what vanished meanwhile is deleted, the rest kept, and the watch resumes", async () => {
    assert.deepEqual(addresses(), ["10.20.0.31", "10.20.0.32"]);
    await kube.restartApiServer(async () => {
      // Straight from etcd while no API server runs: no watch event will ever say so.
      const del = await runTool("etcdctl", ["--endpoints", kube.etcdEndpoints.join(","), "del", "/registry/pods/default/reviews-b"]);
      assert.equal(del.stdout.trim(), "1", del.stderr);
    });
    await waitFor(() => addresses().join() === "10.20.0.31", { what: "reviews-b's endpoint to leave after the relist", timeoutMs: 60_000, everyMs: 50 });
    assert.ok(log.some((l) => /watch \/api\/v1\/pods: .*listing again/.test(l)), log.join("\n"));
    await running("reviews-c", "10.20.0.33");
    await waitFor(() => addresses().join() === "10.20.0.31,10.20.0.33", { what: "reviews-c, created after the restart, to arrive by the watch", timeoutMs: 30_000, everyMs: 50 });
  });
});
