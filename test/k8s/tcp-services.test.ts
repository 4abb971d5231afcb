// TCP services captured in injected pods, on the rig's kube-apiserver and kube-controller-manager:
// `amime node-agent` keeps each injected pod's AMIME_SERVICES chain equal to its sidecar's outbound
// TCP listeners, so a client's connection to a Service's cluster IP and port goes through its
// sidecar's listener for that service (not 15001, HTTP by Host) to the server's sidecar and app.
//
// Istio's samples/tcp-echo/tcp-echo.yaml (unchanged) in a namespace labelled
// istio-injection=enabled, and a busybox client pod; the test node agent runs them
// (tcp-echo-server is samples/tcp-echo/tcp-echo-server.ts). `amime node-agent` runs on the host as
// the DaemonSet's process would (host network and PID namespace, root): the test node agent runs
// pods, not DaemonSets on the host network, so the test starts it as a process with the cluster's
// kubeconfig and the test node's name. The client's connections are made in its pod's network
// namespace with nc (as root: only the sidecar's UID 1337 is exempt from capture).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { stringify } from "yaml";
import { webhookConfigurations } from "../../src/cli/install/manifests.ts";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { BIN, NODE, runTool, startControlPlane, type ControlPlaneProcess } from "./control-plane-process.ts";
import { NodeAgent } from "./node-agent/node-agent.ts";
import { tearDown } from "./teardown.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const TCP_ECHO = join(ROOT, "test", "fixtures", "istio", "samples", "tcp-echo", "tcp-echo.yaml");
const NS = "tcp";
const IMAGE = "docker.io/amime/amime:0.1.0";
const XDS_NAME = "amime.istio-system.svc";
const HOST = `tcp-echo.${NS}.svc.cluster.local`;

let dir: string;
let cluster: KubeCluster;
let agent: NodeAgent;
let cp: ControlPlaneProcess;
let nodeAgent: ChildProcess | null = null;
let nodeAgentLog = "";
const agentLog: string[] = [];
let clientNetns: string;
let clientIp: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "amime-k8s-tcp-"));
  cluster = await KubeCluster.start({ controllerManager: true });
  agent = await NodeAgent.start({ server: cluster.server, token: cluster.token, caFile: cluster.caFile, amimeImages: [IMAGE], log: (l) => agentLog.push(l) });
  agent.setExtraHost(XDS_NAME, agent.hostIp);
  cp = await startControlPlane([
    "--platform", "kubernetes", "--kubeconfig", cluster.kubeconfig, "--state-dir", join(dir, "state"),
    "--host", agent.hostIp, "--port", "15012", "--webhook-port", "15017", "--allowed-host", XDS_NAME,
    "--sidecar-image", IMAGE, "--sidecar-xds", `https://${XDS_NAME}:15012`,
  ]);
  const hooks = webhookConfigurations("istio-system", readFileSync(cp.ready.rootCertFile, "utf8"), { url: `https://${agent.hostIp}:15017` });
  await cluster.apply(hooks.map((h) => stringify(h)).join("---\n"));
  await cluster.apply(stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: { "istio-injection": "enabled" } } }));
});

after(() => tearDown({ processes: [nodeAgent], agent, controlPlane: cp, cluster, dir }));

function until<T>(check: () => Promise<T | null | false>, what: string, timeoutMs = 120_000): Promise<T> {
  return waitFor(check, { what, timeoutMs, everyMs: 250 }).catch((e: Error) => {
    throw new Error(`${e.message}\nnode-agent:\n${nodeAgentLog.slice(-3000)}\ntest node agent:\n${agentLog.slice(-20).join("\n")}\n${agent.logs().slice(-4000)}\ncontrol plane:\n${cp.stderr().slice(-2000)}`);
  });
}

interface PodView {
  metadata: { name: string; labels?: Record<string, string> };
  status: { podIP?: string; conditions?: { type: string; status: string }[] };
}

async function readyPods(): Promise<PodView[]> {
  const ps = (JSON.parse(await cluster.kubectl(["get", "pods", "-n", NS, "-o", "json"])) as { items: PodView[] }).items;
  return ps.filter((p) => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
}

async function clusterIp(service: string): Promise<string> {
  return (await cluster.kubectl(["get", "service", "-n", NS, service, "-o", "jsonpath={.spec.clusterIP}"])).trim();
}

/** The client pod's AMIME_SERVICES chain, as `iptables -S` prints it. */
async function chain(): Promise<string> {
  const r = await runTool("ip", ["netns", "exec", clientNetns, "iptables", "-t", "nat", "-S", "AMIME_SERVICES"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** One line to `ip:port` from the client pod; what came back. */
async function say(ip: string, port: number, line: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runTool("ip", ["netns", "exec", clientNetns, "nc", "-N", "-w", "5", ip, String(port)], { stdin: `${line}\n` });
}

/** The client sidecar's samples of `metric` for tcp-echo, as the source reporter. */
async function clientStats(metric: string): Promise<Sample[]> {
  const r = await runTool("curl", ["-sS", "--max-time", "5", `http://${clientIp}:15090/stats/prometheus`]);
  assert.equal(r.code, 0, r.stderr);
  const samples = parsePrometheusText(r.stdout).get(metric)?.samples ?? [];
  return samples.filter((x) => x.labels.destination_service === HOST && x.labels.reporter === "source");
}

const total = (samples: readonly Sample[]): number => samples.reduce((n, x) => n + x.value, 0);

const redirect = (vip: string, port: number): RegExp => new RegExp(`^-A AMIME_SERVICES -d ${vip.replaceAll(".", "\\.")}/32 -p tcp -m tcp --dport ${port} -j REDIRECT --to-ports 15[23]\\d\\d$`, "m");

it("Istio's tcp-echo and a client pod, injected: istio-init leaves AMIME_SERVICES empty, so the Service VIP:port is not captured yet", { timeout: 240_000 }, async () => {
  await cluster.kubectl(["apply", "-n", NS, "-f", TCP_ECHO]);
  await cluster.apply(stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "client", namespace: NS }, spec: { containers: [{ name: "client", image: "busybox", command: ["sleep", "3600"] }] } }));
  const pods = await until(async () => {
    const ps = await readyPods();
    return ps.length === 2 ? ps : null;
  }, "tcp-echo and the client to be Ready", 180_000);
  clientIp = pods.find((p) => p.metadata.name === "client")!.status.podIP!;
  clientNetns = agent.podNetns(NS, "client")!;
  assert.ok(clientNetns, "the client pod's network namespace");
  // Istio's ports: from the host, the admin is not there (loopback only: nothing to drain, no
  // config to read) while the kubelet-style probe on 15021 and a Prometheus scrape of 15090 answer.
  const drain = await runTool("curl", ["-sS", "--max-time", "5", "-X", "POST", `http://${clientIp}:15000/drain`]);
  assert.equal(drain.code, 7, `connection refused, got exit ${drain.code}: ${drain.stdout}${drain.stderr}`);
  const probe = await runTool("curl", ["-sS", "--max-time", "5", "-w", "\n%{http_code}", `http://${clientIp}:15021/healthz/ready`]);
  assert.equal(probe.stdout, "LIVE\n\n200", probe.stderr);
  assert.equal((await runTool("curl", ["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", `http://${clientIp}:15021/healthz/ready`])).stdout, "405");
  const scrape = await runTool("curl", ["-sS", "--max-time", "5", `http://${clientIp}:15090/stats/prometheus`]);
  assert.match(scrape.stdout, /^envoy_server_live 1$/m, scrape.stderr);
  // Another pod (as a scraper its own capture lets out: UID 1337) reaches tcp-echo's 15021 and
  // 15090, while its 15000 is refused by tcp-echo's capture rules.
  const echoIp = pods.find((p) => p.metadata.name !== "client")!.status.podIP!;
  const fromPod = (url: string) => runTool("ip", ["netns", "exec", clientNetns, "setpriv", "--reuid=1337", "--regid=1337", "--clear-groups", "curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", url]);
  assert.equal((await fromPod(`http://${echoIp}:15021/healthz/ready`)).stdout, "200");
  assert.equal((await fromPod(`http://${echoIp}:15090/stats/prometheus`)).stdout, "200");
  const refused = await fromPod(`http://${echoIp}:15000/config_dump`);
  assert.equal(refused.code, 7, `connection refused, got exit ${refused.code}: ${refused.stdout}${refused.stderr}`);
  // Inside the pod the admin answers on loopback (`amime wait` polls it there).
  const inside = await runTool("ip", ["netns", "exec", clientNetns, "curl", "-sS", "--max-time", "5", "http://127.0.0.1:15000/ready"]);
  assert.equal(inside.stdout, "LIVE\n", inside.stderr);
  // The static rules jump to the (empty) chain before 15001.
  const nat = await runTool("ip", ["netns", "exec", clientNetns, "iptables", "-t", "nat", "-S", "AMIME_OUTPUT"]);
  assert.match(nat.stdout, /^-A AMIME_OUTPUT -j AMIME_SERVICES\n-A AMIME_OUTPUT -p tcp -j REDIRECT --to-ports 15001$/m);
  assert.equal(await chain(), "-N AMIME_SERVICES\n");
  // The client sidecar has its listener for tcp-echo:9000 (a port of its TCP pool), but nothing leads there.
  const vip = await clusterIp("tcp-echo");
  const r = await say(vip, 9000, "before");
  assert.doesNotMatch(r.stdout, /hello before/, "without the node agent the connection lands on 15001 (HTTP)");
});

it("amime node-agent: the chain gets tcp-echo's VIP:ports, and bytes echo back through the client's sidecar", { timeout: 120_000 }, async () => {
  nodeAgent = spawn(NODE, [BIN, "node-agent", "--kubeconfig", cluster.kubeconfig, "--node", agent.nodeName, "--interval-ms", "500"], { stdio: ["ignore", "pipe", "pipe"] });
  nodeAgent.stdout!.setEncoding("utf8").on("data", (d: string) => (nodeAgentLog += d));
  nodeAgent.stderr!.setEncoding("utf8").on("data", (d: string) => (nodeAgentLog += d));
  const vip = await clusterIp("tcp-echo");
  await until(async () => redirect(vip, 9000).test(await chain()) && redirect(vip, 9001).test(await chain()), `AMIME_SERVICES to redirect ${vip}:9000 and :9001`);
  const r = await say(vip, 9000, "world");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello world\n");
  assert.equal((await say(vip, 9001, "other")).stdout, "hello other\n");
  // Through the sidecar: its TCP counters for the service, as the source reporter.
  await until(async () => total(await clientStats("istio_tcp_connections_opened_total")) >= 2, "the client sidecar to count its 2 connections to tcp-echo");
  // Envoy's sent bytes are what went downstream: the two answers.
  await until(async () => total(await clientStats("istio_tcp_sent_bytes_total")) >= "hello world\n".length + "hello other\n".length, `istio_tcp_sent_bytes_total for ${HOST} to count the answers`);
});

it("a TCP Service created after the client started is captured too; deleted, its rule leaves the chain", { timeout: 120_000 }, async () => {
  await cluster.apply(stringify({ apiVersion: "v1", kind: "Service", metadata: { name: "tcp-echo-late", namespace: NS }, spec: { selector: { app: "tcp-echo" }, ports: [{ name: "tcp-echo", port: 9100, targetPort: 9001 }] } }));
  const vip = await clusterIp("tcp-echo-late");
  await until(async () => redirect(vip, 9100).test(await chain()), `AMIME_SERVICES to redirect ${vip}:9100`);
  const r = await say(vip, 9100, "late");
  assert.equal(r.stdout, "hello late\n", r.stderr);
  await cluster.kubectl(["delete", "service", "-n", NS, "tcp-echo-late"]);
  await until(async () => !(await chain()).includes(`-d ${vip}/32`), `the rule for ${vip} to leave AMIME_SERVICES`);
  assert.ok(redirect(await clusterIp("tcp-echo"), 9000).test(await chain()), "tcp-echo's rule stays");
});
