// What `amime install` installs, run on the rig as a cluster runs it: `amime install --apply`
// (the rig's kubectl) → kube-controller-manager makes the control plane's pod from the installed
// Deployment, the test node agent runs it as the Amime image would (its entrypoint `amime` and the
// Deployment's args, the image's /amime being this checkout) with the ServiceAccount's projected
// token (the ServiceAccount admission plugin's kube-api-access volume, in-cluster config through
// the `kubernetes` Service: nothing of the rig's admin credential), so the installed RBAC decides
// what it may do → the API server calls the installed webhooks through Service amime (its
// endpoint: the pod) with the mesh CA's caBundle → a namespace labelled istio-injection=enabled
// and two of Istio's bookinfo apps, injected; their sidecars reach the control plane through
// `amime.istio-system.svc:15012`, the name the injection template writes (the agent's /etc/hosts
// gives the Service's ClusterIP; the node's kube-proxy, service-proxy.ts, takes it to the pod) →
// the product page shows the details service's answer through the mesh, and the DaemonSet's
// `amime node-agent` (host network, its own ServiceAccount) writes the pods' TCP capture; an invalid
// VirtualService is refused by the installed webhook; `amime uninstall --apply --purge` leaves
// the cluster holding exactly what it held before the install.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { KubeCluster, KubectlError, rigBinary } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { BIN, NODE, runTool } from "./control-plane-process.ts";
import { NodeAgent } from "./node-agent/node-agent.ts";
import { tearDown } from "./teardown.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BOOKINFO_YAML = join(ROOT, "test", "fixtures", "istio", "samples", "bookinfo", "platform", "kube", "bookinfo.yaml");
const IMAGE = "registry.example/amime:installed";
const NS = "shop";

let dir: string;
let cluster: KubeCluster;
let agent: NodeAgent;
const agentLog: string[] = [];
let before_: Set<string>;
let target: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "amime-k8s-installed-"));
  cluster = await KubeCluster.start({ controllerManager: true, podNetwork: true });
  agent = await NodeAgent.start({ server: cluster.server, token: cluster.token, caFile: cluster.caFile, amimeImages: [IMAGE], serviceProxy: true, log: (l) => agentLog.push(l) });
  target = ["--image", IMAGE, "--state-dir", join(dir, "state"), "--kubectl", rigBinary("kubectl"), "--kubeconfig", cluster.kubeconfig];
  before_ = await everything();
});

after(() => tearDown({ agent, cluster, dir }));

const amime = (...args: string[]) => runTool(NODE, [BIN, ...args], { env: { ...process.env, AMIME_CONTROL_PLANE: "", AMIME_TOKEN: "" } });

interface PodView {
  metadata: { name: string; labels: Record<string, string> };
  spec: { serviceAccountName?: string; containers: { name: string; args?: string[] }[]; volumes?: { name: string; projected?: unknown }[] };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

async function pods(namespace: string, selector?: string): Promise<PodView[]> {
  return (JSON.parse(await cluster.kubectl(["get", "pods", "-n", namespace, ...(selector !== undefined ? ["-l", selector] : []), "-o", "json"])) as { items: PodView[] }).items;
}

const ready = (p: PodView): boolean => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

function until<T>(check: () => Promise<T | null | false>, what: string, timeoutMs = 120_000): Promise<T> {
  return waitFor(check, { what, timeoutMs, everyMs: 250 }).catch((e: Error) => {
    throw new Error(`${e.message}\nagent log:\n${agentLog.slice(-30).join("\n")}\n${agent.logs().slice(-8000)}`);
  });
}

/** Every object the API server lists (kind namespace/name), but Events and Leases (they come and go on their own). */
async function everything(): Promise<Set<string>> {
  const kinds = (await cluster.kubectl(["api-resources", "--verbs=list", "-o", "name"])).split("\n").filter((k) => k !== "" && !/^(events|leases)(\.|$)/.test(k));
  const list = JSON.parse(await cluster.kubectl(["get", kinds.join(","), "-A", "-o", "json"])) as { items: { kind: string; metadata: { namespace?: string; name: string } }[] };
  return new Set(list.items.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`));
}

let controlPlane: PodView;
let nodeAgent: PodView;

it("amime install --apply: the control plane runs from the installed Deployment, with its ServiceAccount's token and the installed RBAC", { timeout: 240_000 }, async () => {
  const r = await amime("install", "--apply", ...target);
  assert.equal(r.code, 0, r.stderr);
  controlPlane = await until(async () => {
    const ps = await pods("istio-system", "app=amime");
    return ps.length === 1 && ready(ps[0]!) ? ps[0]! : null;
  }, "the control plane's pod to be Ready (its readiness probe: HTTPS /ready on the webhook port)", 180_000);
  nodeAgent = await until(async () => {
    const ps = await pods("istio-system", "app=amime-node-agent");
    return ps.length === 1 && ready(ps[0]!) ? ps[0]! : null;
  }, "the DaemonSet's node-agent pod to run on the node");
  const deploy = JSON.parse(await cluster.kubectl(["get", "deployment", "amime", "-n", "istio-system", "-o", "json"])) as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
  assert.deepEqual(controlPlane.spec.containers[0]!.args, deploy.spec.template.spec.containers[0]!.args);
  assert.equal(controlPlane.spec.serviceAccountName, "amime");
  assert.ok(controlPlane.spec.volumes?.some((v) => v.name.startsWith("kube-api-access-") && v.projected !== undefined), "the ServiceAccount admission plugin's token volume");
  // What it did with that credential: its admin Secret (the Role) and the mesh root in every namespace (the ClusterRole).
  const root = readFileSync(join(dir, "state", "cluster-ca", "root-cert.pem"), "utf8");
  await until(async () => {
    const cm = await cluster.kubectl(["get", "configmap", "istio-ca-root-cert", "-n", "default", "-o", "jsonpath={.data.root-cert\\.pem}"]).catch(() => "");
    return cm === root;
  }, "ConfigMap default/istio-ca-root-cert with the installed CA's root");
  await cluster.kubectl(["get", "secret", "amime-admin-token", "-n", "istio-system"]);
});

it("an injected namespace: two bookinfo apps get their sidecars from the installed webhook, reach the control plane through its Service, and serve the page through the mesh", { timeout: 240_000 }, async () => {
  await cluster.kubectl(["create", "namespace", NS]);
  await cluster.kubectl(["label", "namespace", NS, "istio-injection=enabled"]);
  await cluster.kubectl(["apply", "-n", NS, "-f", BOOKINFO_YAML, "-l", "app in (details,productpage)"]);
  await cluster.kubectl(["apply", "-n", NS, "-f", BOOKINFO_YAML, "-l", "account in (details,productpage)"]);
  const all = await until(async () => {
    const ps = await pods(NS);
    return ps.length === 2 && ps.every(ready) ? ps : null;
  }, "details and productpage to be Ready", 180_000);
  for (const p of all) assert.equal(p.spec.containers.at(-1)!.name, "istio-proxy", p.metadata.name);
  const productpage = all.find((p) => p.metadata.labels.app === "productpage")!.status.podIP!;
  const page = await until(async () => {
    const c = await runTool("curl", ["-sS", "--max-time", "10", `http://${productpage}:9080/productpage`]);
    return c.code === 0 && /William Shakespeare/.test(c.stdout) ? c.stdout : null;
  }, "the product page with the details service's answer");
  assert.match(page, /Book Details/);
  // The DaemonSet's amime node-agent (host network: the node's namespace; its ServiceAccount's RBAC) programs the pods' TCP capture.
  const pp = all.find((p) => p.metadata.labels.app === "productpage")!.metadata.name;
  await until(async () => new RegExp(`node-agent: ${NS}/${pp} \\([^)]*\\): AMIME_SERVICES ← \\S`).test(agent.containerLog("istio-system", nodeAgent.metadata.name, "node-agent") ?? ""), "the node agent to write productpage's AMIME_SERVICES chain");
  const status = await amime("proxy-status", "--kubeconfig", cluster.kubeconfig);
  assert.equal(status.code, 0, status.stderr);
  for (const p of all) assert.match(status.stdout, new RegExp(`^sidecar~${p.metadata.name}\\.${NS}\\s.*SYNCED`, "m"), status.stdout);
});

it("kubectl apply of an invalid VirtualService is refused by the installed webhook, a valid one lands", async () => {
  const bad = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: details}\nspec:\n  hosts: [details]\n  http:\n  - route:\n    - destination: {host: details}\n      weight: -5\n";
  const e = await cluster.apply(bad, NS).then(() => null, (x: unknown) => x);
  assert.ok(e instanceof KubectlError, "the invalid VirtualService must be refused");
  assert.match(e.stderr, /admission webhook "validation\.istio\.io" denied the request: configuration is invalid: spec\.http\[0\]\.route\[0\]\.weight: weight -5 < 0/);
  await cluster.apply(bad.replace("weight: -5", "weight: 100"), NS);
});

it("a permission the installed ClusterRole lacks fails the control plane: it runs as its ServiceAccount, not as the rig's admin", async () => {
  const role = JSON.parse(await cluster.kubectl(["get", "clusterrole", "amime", "-o", "json"])) as { rules: { resources: string[] }[] };
  const i = role.rules.findIndex((r) => r.resources.includes("configmaps"));
  assert.ok(i >= 0);
  await cluster.kubectl(["patch", "clusterrole", "amime", "--type", "json", "-p", JSON.stringify([{ op: "remove", path: `/rules/${i}` }])]);
  await cluster.kubectl(["create", "namespace", "later"]);
  await until(async () => /configmaps is forbidden: User "system:serviceaccount:istio-system:amime" cannot create resource "configmaps"[^\n]* in the namespace "later"/.test(agent.containerLog("istio-system", controlPlane.metadata.name, "amime") ?? ""), "the control plane to log RBAC's refusal");
  await assert.rejects(cluster.kubectl(["get", "configmap", "istio-ca-root-cert", "-n", "later"]), /NotFound/);
  await cluster.kubectl(["delete", "namespace", "later", "--wait=false"]);
});

it("amime uninstall --apply --purge: nothing Amime made is left (every object the API server lists is one it held before the install)", { timeout: 180_000 }, async () => {
  await cluster.kubectl(["delete", "namespace", NS, "--wait=false"]);
  const r = await amime("uninstall", "--apply", "--purge", ...target);
  assert.equal(r.code, 0, r.stderr);
  await cluster.kubectl(["wait", "--for=delete", `namespace/${NS}`, "namespace/istio-system", "namespace/later", "--timeout=150s"]).catch((e: Error) => {
    throw new Error(`${e.message}\n${agent.logs().slice(-4000)}`);
  });
  await cluster.kubectl(["wait", "--for=delete", "crd", "--all", "--timeout=60s"]);
  const left = [...(await everything())].filter((o) => !before_.has(o));
  assert.deepEqual(left, []);
});
