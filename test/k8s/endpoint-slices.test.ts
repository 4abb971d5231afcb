// EndpointSlices on a real kube-apiserver and kube-controller-manager: a Service without a selector
// takes its endpoints from hand-made EndpointSlices (label kubernetes.io/service-name; ports by
// name; ready, not ready, changed, deleted), and for a Service with a selector the endpoints
// Amime derives from the pods are the ones the controller manager's EndpointSlice lists (the
// evidence for keeping selector Services on pods, docs/kubernetes.md "EndpointSlices").
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { Endpoint } from "../../src/model/proxy-config.ts";
import { meshProxy, register, type MeshProxy } from "../control-plane/mesh-harness.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { tearDown } from "./teardown.ts";

const EXT = "outbound|80||ext.default.svc.cluster.local";
const REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";

const extSlice = (endpoints: string): string => `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext-1, labels: {kubernetes.io/service-name: ext}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints: ${endpoints}
`;

function pod(name: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: reviews}}
spec:
  nodeName: node-1
  serviceAccountName: bookinfo-reviews
  containers: [{name: reviews, image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3, ports: [{containerPort: 9080}]}]
`;
}

describe("EndpointSlices", () => {
  let kube: KubeCluster;
  let cp: ControlPlane;
  let client: MeshProxy;

  const endpoints = (cluster: string): { address: string; port: number; healthy: boolean }[] =>
    ((cp.configFor(client.nodeId)?.endpoints[cluster] ?? []) as Endpoint[]).map((e) => ({ address: e.address, port: e.port, healthy: e.healthy })).sort((a, b) => a.address.localeCompare(b.address));

  before(async () => {
    kube = await KubeCluster.start({ controllerManager: true });
    cp = await ControlPlane.start({ port: 0, debounceMs: 10, kubernetes: { kubeconfig: kube.kubeconfig } });
    client = await meshProxy("productpage", "v1");
    await register(cp, client);
  });

  after(() => tearDown({ processes: [client?.child], controlPlane: cp, cluster: kube }));

  it("a Service without a selector gets the endpoints of its EndpointSlices, and follows their changes", async () => {
    await kube.apply("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {ports: [{name: http, port: 80}]}\n");
    await kube.apply(extSlice("[{addresses: [10.30.0.5], conditions: {ready: true}}, {addresses: [10.30.0.6], conditions: {ready: false}}]"));
    await waitFor(() => endpoints(EXT).length === 2, { what: "ext's two endpoints" });
    assert.deepEqual(endpoints(EXT), [
      { address: "10.30.0.5", port: 8080, healthy: true },
      { address: "10.30.0.6", port: 8080, healthy: false },
    ]);
    await kube.apply(extSlice("[{addresses: [10.30.0.7]}]"));
    await waitFor(() => endpoints(EXT)[0]?.address === "10.30.0.7", { what: "ext's changed endpoint" });
    assert.deepEqual(endpoints(EXT), [{ address: "10.30.0.7", port: 8080, healthy: true }]);
    await kube.kubectl(["delete", "endpointslice", "ext-1"]);
    await waitFor(() => endpoints(EXT).length === 0, { what: "ext's endpoints to go with its slice" });
  });

  it("a Service with a selector: the endpoints from its pods are those the controller manager's EndpointSlice lists", async () => {
    await kube.kubectl(["create", "serviceaccount", "bookinfo-reviews"]);
    // The EndpointSlice controller lists only pods on a Node it knows (no kubelet here: the Node is written by hand).
    await kube.apply("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\n");
    await kube.apply("apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}\n");
    await kube.apply(pod("reviews-a") + "---" + pod("reviews-b"));
    for (const [name, ip, ready] of [["reviews-a", "10.20.0.21", "True"], ["reviews-b", "10.20.0.22", "False"]] as const) {
      const status = { status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: ready }] } };
      await kube.kubectl(["patch", "pod", name, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    }
    type Slice = { endpoints?: { addresses: string[]; conditions: { ready?: boolean } }[]; ports?: { port: number }[] };
    const slice = await waitFor(async () => {
      const list = JSON.parse(await kube.kubectl(["get", "endpointslices", "-l", "kubernetes.io/service-name=reviews", "-o", "json"])) as { items: Slice[] };
      const s = list.items[0];
      return s?.endpoints?.length === 2 ? s : null;
    }, { what: "the controller manager's EndpointSlice for reviews to list both pods", timeoutMs: 30_000, everyMs: 100 });
    const fromSlice = slice.endpoints!.map((e) => ({ address: e.addresses[0]!, port: slice.ports![0]!.port, healthy: e.conditions.ready !== false })).sort((a, b) => a.address.localeCompare(b.address));
    await waitFor(() => endpoints(REVIEWS).length === 2, { what: "reviews' two endpoints from its pods" });
    assert.deepEqual(endpoints(REVIEWS), fromSlice);
  });
});
