// The test node agent (test/k8s/node-agent/) on the rig's real kube-apiserver and
// kube-controller-manager: a Deployment's pods are bound to the agent's Node and run as processes
// in network namespaces; their status (IP, Ready) makes the EndpointSlice controller list them; an
// HTTP request from the host reaches a pod's IP; a deleted pod's processes stop and it leaves the
// EndpointSlice. Also: a pod's env (fieldRef), ConfigMap and projected-token volumes, runAsUser,
// and an unknown image failing with ErrImagePull.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { stringify } from "yaml";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { NODE, runTool } from "./control-plane-process.ts";
import { ip } from "../../src/runtime/netns/commands.ts";
import { NodeAgent } from "./node-agent/node-agent.ts";
import { tearDown } from "./teardown.ts";

let cluster: KubeCluster;
let agent: NodeAgent;
const agentLog: string[] = [];

before(async () => {
  cluster = await KubeCluster.start({ controllerManager: true });
  agent = await NodeAgent.start({ server: cluster.server, token: cluster.token, caFile: cluster.caFile, log: (l) => agentLog.push(l) });
});

after(() => tearDown({ agent, cluster }));

interface PodView {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; hostIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { name: string; ready: boolean; state: Record<string, { reason?: string; message?: string }> }[] };
}

async function pods(selector: string, ns = "default"): Promise<PodView[]> {
  return (JSON.parse(await cluster.kubectl(["get", "pods", "-n", ns, "-l", selector, "-o", "json"])) as { items: PodView[] }).items;
}

async function sliceIps(service: string): Promise<string[]> {
  const list = JSON.parse(await cluster.kubectl(["get", "endpointslices", "-l", `kubernetes.io/service-name=${service}`, "-o", "json"])) as { items: { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[] };
  return list.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready === true).flatMap((e) => e.addresses)).sort();
}

/** waitFor, with the agent's log and the pods' output in the error. */
function until<T>(check: () => Promise<T | null | false>, what: string, timeoutMs = 60_000): Promise<T> {
  return waitFor(check, { what, timeoutMs }).catch((e: Error) => {
    throw new Error(`${e.message}\nagent log:\n${agentLog.slice(-20).join("\n")}\n${agent.logs().slice(-4000)}`);
  });
}

it("a Deployment's pods run with their own IPs, the EndpointSlice lists them, the host reaches them; a deleted pod leaves the slice", async () => {
  await cluster.apply([
    { apiVersion: "v1", kind: "Service", metadata: { name: "ratings", labels: { app: "ratings" } }, spec: { ports: [{ port: 9080, name: "http" }], selector: { app: "ratings" } } },
    {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "ratings-v1" },
      spec: { replicas: 2, selector: { matchLabels: { app: "ratings" } }, template: { metadata: { labels: { app: "ratings", version: "v1" } }, spec: {
        containers: [{ name: "ratings", image: "registry.istio.io/release/examples-bookinfo-ratings-v1:1.20.3", ports: [{ containerPort: 9080 }], readinessProbe: { httpGet: { path: "/health", port: 9080 }, periodSeconds: 1 } }],
      } } },
    },
  ].map((o) => stringify(o)).join("---\n"));
  const running = await until(async () => {
    const ps = await pods("app=ratings");
    const ok = ps.filter((p) => p.status.phase === "Running" && p.status.podIP && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    return ok.length === 2 && ps.length === 2 ? ok : null;
  }, "2 ratings pods Running and Ready");
  const ips = running.map((p) => p.status.podIP!).sort();
  assert.notEqual(ips[0], ips[1]);
  for (const p of running) {
    assert.equal(p.spec.nodeName, agent.nodeName);
    assert.equal(p.status.hostIP, agent.hostIp);
  }
  await until(async () => JSON.stringify(await sliceIps("ratings")) === JSON.stringify(ips), `the EndpointSlice of ratings to list ${ips.join(", ")}`);

  const curl = await runTool("curl", ["-sS", "--max-time", "5", `http://${ips[0]}:9080/ratings/0`]);
  assert.equal(curl.code, 0, curl.stderr);
  assert.deepEqual(JSON.parse(curl.stdout), { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });

  const victim = running.find((p) => p.status.podIP === ips[0])!;
  await cluster.kubectl(["delete", "pod", victim.metadata.name, "--wait=false"]);
  await until(async () => !(await pods("app=ratings")).some((p) => p.metadata.uid === victim.metadata.uid), `pod ${victim.metadata.name} to be finalized by the agent`);
  await until(async () => !(await sliceIps("ratings")).includes(ips[0]!), `${ips[0]} to leave the EndpointSlice`);
  const after = await runTool("curl", ["-sS", "--max-time", "2", `http://${ips[0]}:9080/ratings/0`]);
  assert.notEqual(after.code, 0, "the deleted pod's process should be gone");
});

it("a pod gets its env (fieldRef, ConfigMap), its ConfigMap and projected-token volumes and runs as runAsUser; an unknown image fails with ErrImagePull", async () => {
  await cluster.apply([
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { greeting: "hello", "file.txt": "from a ConfigMap" } },
    {
      apiVersion: "v1", kind: "Pod", metadata: { name: "inspect", labels: { probe: "me" } },
      spec: {
        restartPolicy: "Never",
        securityContext: { runAsUser: 1337, runAsGroup: 1337 },
        containers: [{
          name: "sh", image: "busybox:1.36",
          command: ["sh", "-c", "echo ip=$POD_IP host=$HOST_IP name=$POD_NAME greeting=$GREETING uid=$(id -u) hostname=$(hostname); cat /var/run/settings/file.txt; echo; cat /var/run/secrets/tokens/t"],
          env: [
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
            { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "GREETING", valueFrom: { configMapKeyRef: { name: "settings", key: "greeting" } } },
          ],
          volumeMounts: [{ name: "settings", mountPath: "/var/run/settings" }, { name: "tokens", mountPath: "/var/run/secrets/tokens" }],
        }],
        volumes: [
          { name: "settings", configMap: { name: "settings" } },
          { name: "tokens", projected: { sources: [{ serviceAccountToken: { audience: "istio-ca", expirationSeconds: 43200, path: "t" } }] } },
        ],
      },
    },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "unknown-image" }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } },
  ].map((o) => stringify(o)).join("---\n"));
  const done = await until(async () => {
    const [p] = await pods("probe=me");
    return p?.status.phase === "Succeeded" ? p : null;
  }, "pod inspect to succeed");
  const out = agent.containerLog("default", "inspect", "sh") ?? "";
  assert.match(out, new RegExp(`^ip=${done.status.podIP!.replaceAll(".", "\\.")} host=${agent.hostIp.replaceAll(".", "\\.")} name=inspect greeting=hello uid=1337 hostname=inspect$`, "m"));
  assert.match(out, /^from a ConfigMap$/m);
  const token = out.trim().split("\n").pop()!;
  const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { aud: string[]; sub: string; exp: number; iat: number; "kubernetes.io": { pod: { name: string; uid: string } } };
  assert.deepEqual(claims.aud, ["istio-ca"]);
  assert.equal(claims.sub, "system:serviceaccount:default:default");
  assert.equal(claims.exp - claims.iat, 43200);
  assert.deepEqual(claims["kubernetes.io"].pod, { name: "inspect", uid: done.metadata.uid });

  const waiting = await until(async () => {
    const p = JSON.parse(await cluster.kubectl(["get", "pod", "unknown-image", "-o", "json"])) as PodView;
    return p.status.containerStatuses?.[0]?.state.waiting ?? null;
  }, "unknown-image's container to wait");
  assert.equal(waiting.reason, "ErrImagePull");
  assert.match(waiting.message ?? "", /no local command for image "nginx:1\.27"/);
});

it("a postStart exec hook runs to its end before the next container starts; an exec readiness probe makes the pod Ready; readOnlyRootFilesystem leaves only the volumes writable", async (t) => {
  const shared = [{ name: "shared", mountPath: "/var/run/shared" }];
  // Written to the host's / only if the root were left writable (the test then fails): removed whatever happens.
  const probe = `/amime-ro-check-${process.pid}`;
  t.after(() => rmSync(probe, { force: true }));
  await cluster.apply(stringify({
    apiVersion: "v1", kind: "Pod", metadata: { name: "hooked", labels: { hooked: "h1" } },
    spec: {
      volumes: [{ name: "shared", emptyDir: {} }],
      containers: [
        { name: "first", image: "busybox", command: ["sleep", "600"], volumeMounts: shared, lifecycle: { postStart: { exec: { command: ["sh", "-c", "echo hooked by $(hostname) > /var/run/shared/mark"] } } } },
        {
          name: "second", image: "busybox", volumeMounts: shared, readinessProbe: { exec: { command: ["cat", "/var/run/shared/mark"] }, periodSeconds: 1 },
          securityContext: { readOnlyRootFilesystem: true },
          command: ["sh", "-c", `cat /var/run/shared/mark; touch ${probe} 2>/dev/null && echo root writable || echo root read-only; touch /var/run/shared/x && echo volume writable; exec sleep 600`],
        },
      ],
    },
  }));
  await until(async () => {
    const [p] = await pods("hooked=h1");
    return p !== undefined && p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;
  }, "pod hooked to be Ready");
  assert.equal(agent.containerLog("default", "hooked", "second"), "hooked by hooked\nroot read-only\nvolume writable\n");
});

/** Whether a process runs (a killed one may stay a zombie until something reaps it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
}

it("a test process that exits without stopping its agent leaves no pod process and no namespace behind", async (t) => {
  const child = spawn(NODE, [join(import.meta.dirname, "node-agent", "exit-fixture.ts"), cluster.server, cluster.token, cluster.caFile, "exit-node"], { stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => void (child.exitCode === null && child.signalCode === null && child.kill("SIGUSR2")));
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  const { runId } = await until(async () => {
    if (child.exitCode !== null) throw new Error(`exit-fixture exited ${child.exitCode}: ${err}`);
    return out.includes("\n") ? (JSON.parse(out.slice(0, out.indexOf("\n"))) as { runId: string }) : null;
  }, "the fixture's agent to start");
  await cluster.apply(stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "orphan", labels: { orphan: "o1" } }, spec: { nodeName: "exit-node", containers: [{ name: "sh", image: "busybox", command: ["sleep", "600"] }] } }));
  const pid = await until(async () => {
    const [p] = await pods("orphan=o1");
    const id = (p?.status.containerStatuses?.[0] as { containerID?: string } | undefined)?.containerID;
    return p?.status.phase === "Running" && id ? Number(id.split("//")[1]) : null;
  }, "the orphan pod to run on the fixture's agent");
  assert.ok(running(pid), `pod process ${pid} should run`);
  assert.match(await ip("netns", "list"), new RegExp(`amime-${runId}-`));
  child.kill("SIGUSR2");
  assert.equal(await exited, 3);
  await until(async () => !running(pid), `pod process ${pid} to be killed`);
  assert.doesNotMatch(await ip("netns", "list"), new RegExp(`amime-${runId}-`));
});
