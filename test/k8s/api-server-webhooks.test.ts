// The admission webhooks on a real kube-apiserver (the rig: test/support/kube-cluster.ts): the
// webhook configurations `amime install` writes, pointed at an `amime control-plane` process on
// loopback by URL with the mesh root as caBundle; the API server calls it over HTTPS.
// - kubectl apply of an invalid VirtualService is refused with our field-path message, a valid
//   one lands;
// - a pod created in a namespace labelled istio-injection=enabled is stored injected; one in an
//   unlabelled namespace is untouched unless it opts in; a pod label opts out; a bad injection
//   annotation refuses the pod with its name; excludeOutboundPorts, proxyCPU/Memory and
//   holdApplicationUntilProxyStarts land in the stored pod.
// No kubelet runs: pods are only stored (that is all admission is about).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { stringify } from "yaml";
import { webhookConfigurations } from "../../src/cli/install/manifests.ts";
import { CRDS_FILE } from "../../src/cli/install/options.ts";
import { KubeCluster, KubectlError } from "../support/kube-cluster.ts";
import { startControlPlane, type ControlPlaneProcess } from "./control-plane-process.ts";
import { tearDown } from "./teardown.ts";

let dir: string;
let cluster: KubeCluster;
let cp: ControlPlaneProcess;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "amime-k8s-webhooks-"));
  [cluster, cp] = await Promise.all([
    KubeCluster.start(),
    startControlPlane(["--port", "0", "--webhook-port", "0", "--state-dir", join(dir, "state"), "--sidecar-image", "registry.example/amime:test"]),
  ]);
  await cluster.kubectl(["apply", "--server-side", "-f", CRDS_FILE]);
  await cluster.kubectl(["wait", "--for", "condition=established", "--timeout", "60s", "crd/virtualservices.networking.istio.io"]);
  const configs = webhookConfigurations("istio-system", readFileSync(cp.ready.rootCertFile, "utf8"), { url: `https://127.0.0.1:${cp.ready.webhookPort}` });
  await cluster.apply(configs.map((c) => stringify(c)).join("---\n"));
  await cluster.apply(["injected", "plain"].map((n) => stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: n, labels: n === "injected" ? { "istio-injection": "enabled" } : {} } })).join("---\n"));
});

after(() => tearDown({ controlPlane: cp, cluster, dir }));

const vs = (name: string, weight: number): string => stringify({
  apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "default" },
  spec: { hosts: ["reviews"], http: [{ route: [{ destination: { host: "reviews", subset: "v1" }, weight }] }] },
});

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => null, (x: unknown) => x);
  assert.ok(e instanceof KubectlError, "kubectl should have failed");
  return e.stderr;
}

it("an invalid VirtualService is refused by the API server with our field-path message; a valid one lands", async () => {
  const stderr = await refusal(cluster.apply(vs("reviews-bad", -5)));
  assert.match(stderr, /admission webhook "validation\.istio\.io" denied the request: configuration is invalid: spec\.http\[0\]\.route\[0\]\.weight: weight -5 < 0 \[AMM0012\]/);
  await assert.rejects(cluster.kubectl(["get", "virtualservice", "reviews-bad"]), /NotFound/);
  assert.match(await cluster.apply(vs("reviews", 100)), /virtualservice\.networking\.istio\.io\/reviews created/);
  assert.equal(JSON.parse(await cluster.kubectl(["get", "virtualservice", "reviews", "-o", "json"])).spec.http[0].route[0].weight, 100);
});

const pod = (name: string, namespace: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): string => stringify({
  apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels: { app: "ratings", version: "v1", ...labels }, annotations },
  // The rig runs without the ServiceAccount admission plugin (no controller manager), which would set it.
  spec: { serviceAccountName: "bookinfo-ratings", containers: [{ name: "ratings", image: "ratings:1", ports: [{ containerPort: 9080 }] }] },
});

async function stored(name: string, namespace: string): Promise<{ init: string[]; containers: string[]; annotations: Record<string, string>; labels: Record<string, string> }> {
  const p = JSON.parse(await cluster.kubectl(["get", "pod", name, "-n", namespace, "-o", "json"]));
  return { init: (p.spec.initContainers ?? []).map((c: { name: string }) => c.name), containers: p.spec.containers.map((c: { name: string }) => c.name), annotations: p.metadata.annotations ?? {}, labels: p.metadata.labels ?? {} };
}

it("a pod in a namespace labelled istio-injection=enabled is stored with istio-init, istio-proxy and Istio's status annotation", async () => {
  await cluster.apply(pod("ratings", "injected"));
  const p = await stored("ratings", "injected");
  assert.deepEqual(p.init, ["istio-init"]);
  assert.deepEqual(p.containers, ["ratings", "istio-proxy"]);
  assert.equal(p.annotations["sidecar.istio.io/status"], '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}');
  assert.equal(p.labels["security.istio.io/tlsMode"], "istio");
  const full = JSON.parse(await cluster.kubectl(["get", "pod", "ratings", "-n", "injected", "-o", "json"]));
  assert.deepEqual(full.spec.initContainers[0].args, ["capture", "--pod-ip", "$(POD_IP)", "--node-ip", "$(HOST_IP)", "--inbound-ports", "9080:15006"]);
  assert.equal(full.spec.containers[1].image, "registry.example/amime:test");
});

it("an unlabelled namespace is untouched, unless the pod opts in; a pod label opts out of a labelled namespace", async () => {
  await cluster.apply(pod("plain", "plain"));
  assert.deepEqual((await stored("plain", "plain")).containers, ["ratings"]);
  await cluster.apply(pod("asks", "plain", { "sidecar.istio.io/inject": "true" }));
  assert.deepEqual((await stored("asks", "plain")).containers, ["ratings", "istio-proxy"]);
  await cluster.apply(pod("declines", "injected", { "sidecar.istio.io/inject": "false" }));
  const p = await stored("declines", "injected");
  assert.deepEqual([p.init, p.containers, p.annotations["sidecar.istio.io/status"]], [[], ["ratings"], undefined]);
});

it("holdApplicationUntilProxyStarts puts the sidecar first with its postStart wait; a bad injection annotation refuses the pod, naming it", async () => {
  await cluster.apply(pod("held", "injected", {}, { "proxy.istio.io/config": "holdApplicationUntilProxyStarts: true" }));
  assert.deepEqual((await stored("held", "injected")).containers, ["istio-proxy", "ratings"]);
  const held = JSON.parse(await cluster.kubectl(["get", "pod", "held", "-n", "injected", "-o", "json"]));
  assert.deepEqual(held.spec.containers[0].lifecycle, { postStart: { exec: { command: ["amime", "wait"] } } });
  assert.equal(held.spec.containers[1].lifecycle, undefined);
  const stderr = await refusal(cluster.apply(pod("greedy", "injected", {}, { "sidecar.istio.io/proxyCPU": "lots" })));
  assert.match(stderr, /admission webhook "namespace\.sidecar-injector\.istio\.io" denied the request: sidecar injection refused: Pod injected\/greedy: metadata\.annotations\["sidecar\.istio\.io\/proxyCPU"\]: "lots" is not a Kubernetes quantity/);
});

it("Istio's injection annotations land in the stored pod: excludeOutboundPorts in istio-init's capture, proxyCPU/Memory(Limit) as the sidecar's resources", async () => {
  await cluster.apply(pod("annotated", "injected", {}, {
    "traffic.sidecar.istio.io/excludeOutboundPorts": "3306,6379",
    "sidecar.istio.io/proxyCPU": "250m", "sidecar.istio.io/proxyMemory": "256Mi",
    "sidecar.istio.io/proxyCPULimit": "1", "sidecar.istio.io/proxyMemoryLimit": "512Mi",
  }));
  const p = JSON.parse(await cluster.kubectl(["get", "pod", "annotated", "-n", "injected", "-o", "json"]));
  assert.deepEqual(p.spec.initContainers[0].args, ["capture", "--pod-ip", "$(POD_IP)", "--node-ip", "$(HOST_IP)", "--inbound-ports", "9080:15006", "--exclude-outbound-ports", "3306,6379"]);
  const proxy = p.spec.containers.find((c: { name: string }) => c.name === "istio-proxy");
  assert.deepEqual(proxy.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
  // Without annotations: Istio's defaults (the first test's pod).
  const plain = JSON.parse(await cluster.kubectl(["get", "pod", "ratings", "-n", "injected", "-o", "json"]));
  assert.deepEqual(plain.spec.containers.find((c: { name: string }) => c.name === "istio-proxy").resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } });
});
