// Istio's bookinfo on the rig's real kube-apiserver, as a user runs it on a cluster: a namespace
// labelled istio-injection=enabled, `amime control-plane --platform kubernetes` serving the
// injection and validation webhooks, Istio's bookinfo.yaml applied unchanged with kubectl → the
// injected pods run by the test node agent (istio-init runs `amime capture`, istio-proxy runs
// `amime proxy` with its projected service-account token), then Istio's routing samples applied
// with kubectl give the same results as in the local mesh (test/e2e/bookinfo.test.ts,
// test/netns/netns-mesh.test.ts): all v1, jason → v2, 50/50 v1/v3. A deleted pod's endpoint leaves
// every sidecar's config. A restarted control plane lists the cluster again: every sidecar
// reconnects, a change made while it was down arrives, no endpoint is lost.
//
// The sidecars reach the control plane as https://amime.istio-system.svc:15012 (what `amime
// install` names): there is no cluster DNS, so the agent writes that name into every pod's
// /etc/hosts, pointing at the host's address on the pods' network, where the control plane listens.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { stringify } from "yaml";
import { webhookConfigurations } from "../../src/cli/install/manifests.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { runTool, startControlPlane, type ControlPlaneProcess } from "./control-plane-process.ts";
import { NodeAgent } from "./node-agent/node-agent.ts";
import { tearDown } from "./teardown.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BOOKINFO = join(ROOT, "test", "fixtures", "istio", "samples", "bookinfo");
const NS = "bookinfo";
const IMAGE = "docker.io/amime/amime:0.1.0";
const XDS_NAME = "amime.istio-system.svc";

let dir: string;
let cluster: KubeCluster;
let agent: NodeAgent;
let cp: ControlPlaneProcess;
const agentLog: string[] = [];
let productpage: string;

/** The same flags at every start: the state dir keeps the mesh CA, so the sidecars' root stays valid. */
function controlPlaneArgs(): string[] {
  return [
    "--platform", "kubernetes", "--kubeconfig", cluster.kubeconfig, "--state-dir", join(dir, "state"),
    "--host", agent.hostIp, "--port", "15012", "--webhook-port", "15017", "--allowed-host", XDS_NAME,
    "--sidecar-image", IMAGE, "--sidecar-xds", `https://${XDS_NAME}:15012`,
  ];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "amime-k8s-bookinfo-"));
  cluster = await KubeCluster.start({ controllerManager: true });
  await cluster.installIstioCrds();
  agent = await NodeAgent.start({ server: cluster.server, token: cluster.token, caFile: cluster.caFile, amimeImages: [IMAGE], log: (l) => agentLog.push(l) });
  agent.setExtraHost(XDS_NAME, agent.hostIp);
  cp = await startControlPlane(controlPlaneArgs());
  const hooks = webhookConfigurations("istio-system", readFileSync(cp.ready.rootCertFile, "utf8"), { url: `https://${agent.hostIp}:15017` });
  await cluster.apply(hooks.map((h) => stringify(h)).join("---\n"));
  await cluster.apply(stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { "istio-injection": "enabled" } } }));
});

after(() => tearDown({ agent, controlPlane: cp, cluster, dir }));

interface PodView {
  metadata: { name: string; uid: string; labels: Record<string, string> };
  spec: { initContainers?: { name: string }[]; containers: { name: string }[] };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string }[] };
}

async function pods(selector = ""): Promise<PodView[]> {
  return (JSON.parse(await cluster.kubectl(["get", "pods", "-n", NS, ...(selector ? ["-l", selector] : []), "-o", "json"])) as { items: PodView[] }).items;
}

const ready = (p: PodView): boolean => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

function until<T>(check: () => Promise<T | null | false>, what: string, timeoutMs = 120_000): Promise<T> {
  return waitFor(check, { what, timeoutMs, everyMs: 250 }).catch((e: Error) => {
    throw new Error(`${e.message}\nagent log:\n${agentLog.slice(-30).join("\n")}\n${agent.logs().slice(-6000)}\ncontrol plane:\n${cp.stderr().slice(-3000)}`);
  });
}

/** Which reviews version rendered the page: v1 no stars, v2 black stars, v3 red stars. */
function reviewsVersion(page: string): "v1" | "v2" | "v3" | "none" {
  if (!/Book Reviews/i.test(page) || /product reviews are currently unavailable/i.test(page)) return "none";
  if (/color="red"|color:\s*red|stars-red/i.test(page)) return "v3";
  if (/color="black"|color:\s*black|stars-black/i.test(page)) return "v2";
  return "v1";
}

async function page(user?: string): Promise<string> {
  const r = await runTool("curl", ["-sS", "--max-time", "10", ...(user ? ["-H", `cookie: session=${user}`] : []), `http://${productpage}:9080/productpage`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function versions(n: number, user?: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = reviewsVersion(await page(user));
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

interface SidecarView {
  endpoints: Record<string, { address: string; port: number; healthy: boolean }[]>;
  routes: unknown;
}

/** A pod's sidecar's config, from its admin /config_dump (127.0.0.1:15000 inside the pod: the admin is on loopback only). */
async function sidecarConfig(p: PodView): Promise<SidecarView> {
  const netns = agent.podNetns(NS, p.metadata.name);
  assert.ok(netns, `${p.metadata.name}'s network namespace`);
  const r = await runTool("ip", ["netns", "exec", netns, "curl", "-sS", "--max-time", "5", "http://127.0.0.1:15000/config_dump"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { config: SidecarView }).config;
}

/** A sidecar's endpoints as comparable text: cluster → sorted address:port/health. */
function endpointsOf(c: SidecarView): Record<string, string[]> {
  return Object.fromEntries(Object.entries(c.endpoints).sort(([a], [b]) => a.localeCompare(b)).map(([k, eps]) => [k, eps.map((e) => `${e.address}:${e.port}/${e.healthy}`).sort()]));
}

const sample = (name: string): Promise<string> => cluster.kubectl(["apply", "-n", NS, "-f", join(BOOKINFO, "networking", name)]);

it("kubectl apply of Istio's bookinfo.yaml in an injected namespace: every pod runs with istio-init and istio-proxy, and the page is served through the mesh", { timeout: 300_000 }, async () => {
  await cluster.kubectl(["apply", "-n", NS, "-f", join(BOOKINFO, "platform", "kube", "bookinfo.yaml")]);
  const all = await until(async () => {
    const ps = await pods();
    return ps.length === 6 && ps.every(ready) ? ps : null;
  }, "the 6 bookinfo pods to be Ready", 240_000);
  for (const p of all) {
    assert.deepEqual(p.spec.initContainers?.map((c) => c.name), ["istio-init"], p.metadata.name);
    assert.deepEqual(p.spec.containers.map((c) => c.name).at(-1), "istio-proxy", p.metadata.name);
  }
  productpage = all.find((p) => p.metadata.labels.app === "productpage")!.status.podIP!;
  const body = await until(async () => {
    const b = await page();
    return /William Shakespeare/.test(b) && reviewsVersion(b) !== "none" ? b : null;
  }, "the product page with details and reviews");
  assert.match(body, /Book Details/);
});

it("Istio's routing samples via kubectl: all v1, then jason → v2, then 50/50 v1/v3, as in the local mesh", { timeout: 240_000 }, async () => {
  await sample("destination-rule-all.yaml");
  await sample("virtual-service-all-v1.yaml");
  await until(async () => JSON.stringify(await versions(3)) === JSON.stringify({ v1: 3 }), "every page to show reviews v1");
  assert.deepEqual(await versions(10), { v1: 10 });

  await sample("virtual-service-reviews-test-v2.yaml");
  await until(async () => reviewsVersion(await page("jason")) === "v2", "jason to get reviews v2");
  assert.deepEqual(await versions(5, "jason"), { v2: 5 });
  assert.deepEqual(await versions(5), { v1: 5 });

  await sample("virtual-service-reviews-50-v3.yaml");
  await until(async () => (await versions(4)).v3 !== undefined, "reviews v3 to appear");
  const counts = await versions(40);
  assert.deepEqual(Object.keys(counts).sort(), ["v1", "v3"], JSON.stringify(counts));
  assert.ok(counts.v1! >= 8 && counts.v3! >= 8, `50/50 over 40 pages: ${JSON.stringify(counts)}`);
});

it("a deleted pod's endpoint leaves every sidecar's config", { timeout: 120_000 }, async () => {
  const all = await pods();
  const [v3] = all.filter((p) => p.metadata.labels.app === "reviews" && p.metadata.labels.version === "v3");
  const gone = v3!.status.podIP!;
  const hasIt = async (p: PodView): Promise<boolean> => Object.values((await sidecarConfig(p)).endpoints).some((eps) => eps.some((e) => e.address === gone));
  const others = all.filter((p) => p.metadata.uid !== v3!.metadata.uid);
  for (const p of others) assert.ok(await hasIt(p), `${p.metadata.name} should know ${gone} first`);
  const started = performance.now();
  await cluster.kubectl(["delete", "pod", "-n", NS, v3!.metadata.name, "--wait=false"]);
  await until(async () => {
    for (const p of others) if (await hasIt(p)) return false;
    return true;
  }, `${gone} to leave every sidecar's endpoints`);
  process.stdout.write(`# ${gone} left ${others.length} sidecars' endpoints ${Math.round(performance.now() - started)} ms after kubectl delete was started\n`);
});

it("a restarted control plane lists the cluster again: every sidecar reconnects, a change made while it was down arrives, no endpoint is lost", { timeout: 240_000 }, async () => {
  // The ReplicaSet replaced the deleted pod: wait until all 6 run and every sidecar knows every pod.
  const all = await until(async () => {
    const ps = await pods();
    if (ps.length !== 6 || !ps.every(ready)) return null;
    for (const p of ps) {
      const known = new Set(Object.values((await sidecarConfig(p)).endpoints).flatMap((eps) => eps.map((e) => e.address)));
      if (!ps.every((q) => known.has(q.status.podIP!))) return null;
    }
    return ps;
  }, "every sidecar to know all 6 pods");
  const before = new Map<string, Record<string, string[]>>();
  for (const p of all) {
    const c = await sidecarConfig(p);
    before.set(p.metadata.name, endpointsOf(c));
    assert.ok(JSON.stringify(c.routes).includes("|v3|reviews."), `${p.metadata.name} routes reviews by the 50/50 v1/v3 VirtualService first`);
  }
  assert.equal(await cp.close(), 0, cp.stderr());
  // Made while no control plane runs (a deletion is not sent to the validation webhook): the 50/50
  // v1/v3 VirtualService goes, so reviews is routed to all three versions again.
  await cluster.kubectl(["delete", "virtualservice", "reviews", "-n", NS]);
  cp = await startControlPlane(controlPlaneArgs());
  await until(async () => {
    for (const p of all) if (JSON.stringify((await sidecarConfig(p)).routes).includes("|v3|reviews.")) return false;
    return true;
  }, "every sidecar to get the restarted control plane's routes (no reviews subsets)");
  for (const p of all) assert.deepEqual(endpointsOf(await sidecarConfig(p)), before.get(p.metadata.name), `${p.metadata.name}'s endpoints after the restart`);
  await until(async () => (await versions(6)).v2 !== undefined, "reviews v2 to be served again (no VirtualService)");
});
