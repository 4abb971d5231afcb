// `--platform kubernetes` against a real kube-apiserver: Istio config and Services applied with the
// rig's kubectl and pods (their status written as a kubelet writes it: IP, Ready) reach a connected
// sidecar (`amime proxy --xds`, its admin /config_dump); a deleted pod leaves its endpoints; a
// VirtualService the CRD schema lets through but Amime's validator refuses is logged with its field
// path and the last good one stays; a restarted control plane lists the cluster again and serves
// the same config.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { configCollections } from "../../src/control-plane/kubernetes/kubernetes-source.ts";
import { ControlPlane } from "../../src/control-plane/server.ts";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import { BIN, meshProxy, NODE, register, reviewsTo, SERVICES_YAML, spawnProxy, stopProxy, type MeshProxy } from "../control-plane/mesh-harness.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { tearDown } from "./teardown.ts";

const REVIEWS = "reviews.default.svc.cluster.local";
const cluster = (subset: string): string => `outbound|9080|${subset}|${REVIEWS}`;

function pod(name: string, version: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: reviews, version: ${version}}}
spec:
  serviceAccountName: bookinfo-reviews
  containers: [{name: reviews, image: docker.io/istio/examples-bookinfo-reviews-${version}:1.20.3, ports: [{containerPort: 9080}]}]
`;
}

describe("control plane --platform kubernetes on a real kube-apiserver", () => {
  let kube: KubeCluster;
  let cp: ControlPlane;
  let client: MeshProxy;
  let admin = 0;
  const log: string[] = [];

  /** What a kubelet does once a pod runs: its IP and the Ready condition, on the status subresource. */
  async function running(name: string, ip: string): Promise<void> {
    const status = { status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: "True" }] } };
    await kube.kubectl(["patch", "pod", name, "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
  }

  async function dump(): Promise<ProxyConfig> {
    const res = await fetch(`http://127.0.0.1:${admin}/config_dump`);
    return ((await res.json()) as { config: ProxyConfig }).config;
  }

  function routedTo(cfg: ProxyConfig): string[] {
    return [...JSON.stringify(cfg.routes).matchAll(/"cluster":"(outbound\|9080\|[^"]*reviews[^"]*)"/g)].map((m) => m[1]!);
  }

  function start(): Promise<ControlPlane> {
    return ControlPlane.start({ port: 0, debounceMs: 10, kubernetes: { kubeconfig: kube.kubeconfig }, log: (l) => log.push(l) });
  }

  before(async () => {
    kube = await KubeCluster.start();
    await kube.installIstioCrds();
    await kube.apply(SERVICES_YAML + "---" + pod("reviews-v1-a", "v1") + "---" + pod("reviews-v2-a", "v2") + "---\n" + reviewsTo("v2"));
    await running("reviews-v1-a", "10.20.0.11");
    await running("reviews-v2-a", "10.20.0.12");
    cp = await start();
    client = await meshProxy("productpage", "v1");
    await register(cp, client);
    admin = (await spawnProxy(cp, client, {}, [cp], 0)).admin!;
  });
  after(() => tearDown({ processes: [client?.child], controlPlane: cp, cluster: kube }));

  it("serves what the cluster holds to a connected sidecar: the VirtualService's route and the pods as endpoints", async () => {
    const cfg = await dump();
    assert.deepEqual(routedTo(cfg), [cluster("v2")]);
    assert.deepEqual(cfg.endpoints[cluster("v2")]!.map((e) => ({ address: e.address, port: e.port, healthy: e.healthy, serviceAccount: e.serviceAccount })), [
      { address: "10.20.0.12", port: 9080, healthy: true, serviceAccount: "spiffe://cluster.local/ns/default/sa/bookinfo-reviews" },
    ]);
    assert.deepEqual(cfg.endpoints[cluster("v1")]!.map((e) => e.address), ["10.20.0.11"]);
  });

  it("watches every Istio kind Amime knows: one of each applied with kubectl reaches the control plane, and so does its deletion", async () => {
    assert.deepEqual(log.filter((l) => l.includes("not served")), [], "Istio's CRDs serve each kind at the version Amime lists");
    const file = join(import.meta.dirname, "fixtures", "istio-kinds.yaml");
    const applied = [...readFileSync(file, "utf8").matchAll(/^kind: (\w+)\nmetadata: \{name: ([\w-]+),/gm)].map((m) => `${m[1]} kinds/${m[2]}`).sort();
    const istioKinds = configCollections().filter((c) => c.apiVersion.includes("istio.io")).map((c) => c.kind);
    assert.deepEqual([...new Set([...applied.map((a) => a.split(" ")[0]), "VirtualService", "DestinationRule"])].sort(), istioKinds.sort(), "the fixture covers every kind");
    const held = (): string[] => cp.resources({ namespace: "kinds" }).items.map((r) => `${r.kind} kinds/${r.name}`).sort();
    await kube.kubectl(["create", "namespace", "kinds"]);
    await kube.kubectl(["apply", "-f", file]);
    await waitFor(() => held().join() === applied.join(), { what: `the control plane to hold ${applied.join(", ")}`, timeoutMs: 30_000 });
    assert.deepEqual(log.filter((l) => l.includes("kinds/") && l.includes("refused")), []);
    await kube.kubectl(["delete", "-f", file]);
    await waitFor(() => held().length === 0, { what: "every deletion to reach the control plane", timeoutMs: 30_000 });
  });

  it("pushes a VirtualService changed with kubectl apply", async () => {
    await kube.apply(reviewsTo("v1"));
    await waitFor(async () => routedTo(await dump()).join() === cluster("v1"), { what: "the sidecar to route reviews to v1" });
  });

  it("refuses a VirtualService the CRD schema admits but Amime's validation does not, with its field path in the log and a Warning Event, keeping the last good one", async () => {
    await kube.apply(reviewsTo("v2", '    match: [{uri: {regex: "("}}]\n'));
    const line = await waitFor(() => log.find((l) => l.includes("VirtualService default/reviews: refused")), { what: "the refusal to be logged" });
    assert.match(line, /spec\.http\[0\]\.match\[0\]\.uri\.regex/);
    assert.deepEqual(routedTo(await dump()), [cluster("v1")]);
    const event = await waitFor(async () => {
      const list = JSON.parse(await kube.kubectl(["get", "events", "--field-selector", "involvedObject.kind=VirtualService,involvedObject.name=reviews,reason=ConfigRefused", "-o", "json"])) as { items: { type: string; message: string }[] };
      return list.items[0];
    }, { what: "a ConfigRefused Event on the VirtualService" });
    assert.equal(event.type, "Warning");
    assert.match(event.message, /spec\.http\[0\]\.match\[0\]\.uri\.regex/);
    await kube.apply(reviewsTo("v1"));
  });

  it("removes a deleted pod's endpoint from the sidecar", async () => {
    assert.deepEqual((await dump()).endpoints[cluster("v1")]?.map((e) => e.address), ["10.20.0.11"]);
    await kube.kubectl(["delete", "pod", "reviews-v1-a", "--wait=false"]);
    await waitFor(async () => ((await dump()).endpoints[cluster("v1")] ?? []).length === 0, { what: "the v1 endpoint to leave the sidecar's config" });
    assert.deepEqual((await dump()).endpoints[cluster("v2")]?.map((e) => e.address), ["10.20.0.12"]);
  });

  it("marks a pod that is no longer Ready unhealthy", async () => {
    const status = { status: { conditions: [{ type: "Ready", status: "False" }] } };
    await kube.kubectl(["patch", "pod", "reviews-v2-a", "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    await waitFor(async () => (await dump()).endpoints[cluster("v2")]?.[0]?.healthy === false, { what: "the v2 endpoint to turn unhealthy" });
  });

  it("after a restart, lists the cluster again and serves the same config, changes made meanwhile included", async () => {
    const beforeRestart = cp.configFor(client.nodeId)!;
    await stopProxy(client);
    await cp.close();
    await kube.apply(pod("reviews-v1-b", "v1"));
    await running("reviews-v1-b", "10.20.0.13");
    cp = await start();
    await register(cp, client);
    const now = cp.configFor(client.nodeId)!;
    assert.deepEqual(routedTo(now), routedTo(beforeRestart));
    assert.deepEqual(now.endpoints[cluster("v2")], beforeRestart.endpoints[cluster("v2")]);
    assert.deepEqual(now.endpoints[cluster("v1")]?.map((e) => e.address), ["10.20.0.13"]);
    assert.deepEqual(now.clusters.map((c) => c.name).sort(), beforeRestart.clusters.map((c) => c.name).sort());
  });

  it("runs from the CLI: `amime control-plane --platform kubernetes --kubeconfig FILE`, and `amime get` lists the cluster's config", async () => {
    const state = mkdtempSync(join(tmpdir(), "amime-k8s-cp-"));
    const child = spawn(NODE, [BIN, "control-plane", "--platform", "kubernetes", "--kubeconfig", kube.kubeconfig, "--port", "0", "--state-dir", state], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      const ready = await new Promise<{ url: string; tokenFile: string; rootCertFile: string }>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("\n")) resolve(JSON.parse(out.slice(0, out.indexOf("\n"))));
        });
        child.on("exit", (c) => reject(new Error(`exited ${c}: ${err}`)));
      });
      assert.match(err, new RegExp(`reading config and pods from ${kube.server.replace(/\./g, "\\.")}`));
      const listed = await new Promise<string>((resolve, reject) => {
        execFile(NODE, [BIN, "get", "virtualservices", "--control-plane", ready.url, "--token-file", ready.tokenFile], { env: { ...process.env, AMIME_ROOT_CERT: ready.rootCertFile } }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}: ${stderr}`)) : resolve(stdout)));
      });
      assert.match(listed, /^reviews\b/m);
    } finally {
      child.kill("SIGTERM");
      rmSync(state, { recursive: true, force: true });
    }
  });

  it("`amime analyze --kubeconfig` analyzes the cluster's config, with local files replacing cluster objects", async () => {
    const ratings = (subset: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: default}
spec:
  hosts: [ratings]
  http:
  - route: [{destination: {host: reviews, subset: ${subset}}}]
`;
    await kube.apply(ratings("v3"));
    const dir = mkdtempSync(join(tmpdir(), "amime-k8s-analyze-"));
    try {
      const analyze = (args: string[]): Promise<{ code: number; out: string }> => new Promise((resolve) => {
        execFile(NODE, [BIN, "analyze", ...args], (e, stdout, stderr) => resolve({ code: e ? Number(e.code) : 0, out: stdout + stderr }));
      });
      const bad = await analyze(["--kubeconfig", kube.kubeconfig]);
      assert.equal(bad.code, 1, bad.out);
      assert.match(bad.out, /^Error \[IST0101\] \(VirtualService default\/ratings kubernetes:VirtualService default\/ratings(?::\d+)?\) Referenced host\+subset in destinationrule not found: "reviews\+v3"/m);
      // No node agent in this cluster: the kubernetes Service's https 443 is a TCP port injected pods cannot reach (AMM1024).
      assert.match(bad.out, /^Warning \[AMM1024\] \(Service default\/kubernetes kubernetes:Service default\/kubernetes(?::\d+)?\) port 443 \(https\) is a TCP service port, but no amime-node-agent DaemonSet runs in the cluster/m);
      writeFileSync(join(dir, "ratings.yaml"), ratings("v1"));
      // With a DaemonSet of the node agent (as amime install makes it; only stored here), no AMM1024.
      await kube.apply(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: amime-node-agent, namespace: default, labels: {app: amime-node-agent}}
spec:
  selector: {matchLabels: {app: amime-node-agent}}
  template:
    metadata: {labels: {app: amime-node-agent}}
    spec: {containers: [{name: node-agent, image: amime:test, args: [node-agent]}]}
`);
      const fixed = await analyze(["--kubeconfig", kube.kubeconfig, "-f", join(dir, "ratings.yaml")]);
      assert.equal(fixed.code, 0, fixed.out);
      assert.doesNotMatch(fixed.out, /Error|AMM1024/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await kube.kubectl(["delete", "virtualservice", "ratings"]);
      await kube.kubectl(["delete", "daemonset", "amime-node-agent", "--ignore-not-found"]);
    }
  });
});
