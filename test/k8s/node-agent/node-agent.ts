// The test node agent: a test-only stand-in for a kubelet (like kwok, but pods really run), for the
// rig's real kube-apiserver (test/support/kube-cluster.ts). It
// - registers a Node (Ready, InternalIP = the host's address on the pods' network) and renews its
//   Lease in kube-node-lease every 10 s, as a kubelet's heartbeat;
// - binds every unscheduled pod to itself (`pods/binding`: there is no scheduler in the rig);
// - runs each pod bound to it (pod-runner.ts) and writes its status back (`pods/status`), so
//   kube-controller-manager's EndpointSlice controller lists real pod IPs;
// - finalizes a pod being deleted: processes stopped (SIGTERM, SIGKILL after the grace period),
//   namespace removed, then the pod deleted with grace 0 and its UID as precondition;
// - keeps every pod's /etc/hosts naming every Service's ClusterIP as cluster DNS would (`<svc>`,
//   `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.cluster.local`), plus `extraHosts`.
// stop() kills every process it started and removes every namespace. What it does not do (no
// image, no kube-proxy, no kubelet API…): docs/kubernetes.md, "The test node agent".
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join } from "node:path";
import { systemClock } from "../../../src/core/clock.ts";
import { Reflector, type KubeConnection, type KubeObject } from "../../../src/control-plane/kubernetes/index.ts";
import { pickSubnet, usedSecondOctets } from "../../../src/runtime/netns/addresses.ts";
import { ip } from "../../../src/runtime/netns/commands.ts";
import { sidecarLaunch } from "../../../src/runtime/js-build/sidecar-launch.ts";
import { NetnsNetwork } from "../../../src/runtime/netns/network.ts";
import { hostsFile, resolvConf, type ServiceVip } from "../../../src/runtime/netns/pod-dns.ts";
import { CHECKOUT } from "./images.ts";
import { KubeApi } from "./kube-api.ts";
import type { DataLookup } from "./pod-env.ts";
import type { Pod } from "./pod-types.ts";
import { PodRunner } from "./pod-runner.ts";
import { ServiceProxy } from "./service-proxy.ts";

export interface NodeAgentOptions {
  /** The API server and the credential the agent uses (a cluster admin's, in tests). */
  server: string;
  token: string;
  caFile: string;
  nodeName?: string;
  /** Images that run `bin/amime.js` (the control plane's --sidecar-image). */
  amimeImages?: readonly string[];
  /** Run the node's kube-proxy (service-proxy.ts): pods reach Services at their ClusterIPs. */
  serviceProxy?: boolean;
  /** More /etc/hosts entries for every pod: name → IP (setExtraHost adds more later). */
  extraHosts?: Readonly<Record<string, string>>;
  log?: (line: string) => void;
}

const LEASE_RENEW_MS = 10_000;
const DOMAIN = "cluster.local";

export class NodeAgent {
  readonly nodeName: string;
  readonly network: NetnsNetwork;
  private readonly api: KubeApi;
  private readonly opts: NodeAgentOptions;
  private readonly podsDir: string;
  private readonly runners = new Map<string, PodRunner>();
  private readonly binding = new Set<string>();
  private readonly finalizing = new Set<string>();
  private readonly services = new Map<string, ServiceVip>();
  /** The `kubernetes` Service of namespace default: every container's KUBERNETES_SERVICE_* variables, as the kubelet sets them. */
  private master: { vip: string; port: number } | null = null;
  private serviceProxy: ServiceProxy | null = null;
  private readonly writes = new Map<string, "busy" | "again">();
  private readonly reflectors: Reflector[] = [];
  private readonly extraHosts: Map<string, string>;
  private lease: NodeJS.Timeout | null = null;
  /** If the test process exits without stop() (a crash, the watchdog): kill what runs, remove the namespaces. */
  private readonly onExit = (): void => {
    for (const r of this.runners.values()) r.killNow();
    for (const ns of [...this.network.resources.pods, ...this.network.resources.nodes, this.network.resources.wireNetns]) spawnSync("ip", ["netns", "del", ns]);
    spawnSync("ip", ["link", "del", this.network.resources.hostLink]);
    rmSync(this.podsDir, { recursive: true, force: true });
  };
  /** SIGTERM / SIGINT (e.g. `timeout`) end a process without its exit event: clean up, then die of the signal. */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.onExit();
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
    process.kill(process.pid, signal);
  };
  private stopped = false;
  private readonly log: (line: string) => void;

  private constructor(opts: NodeAgentOptions, network: NetnsNetwork, podsDir: string) {
    this.opts = opts;
    this.nodeName = opts.nodeName ?? "amime-test-node";
    this.network = network;
    this.podsDir = podsDir;
    const conn: KubeConnection = { server: opts.server, ca: readFileSync(opts.caFile, "utf8"), insecure: false, token: () => opts.token, origin: "test node agent" };
    this.api = new KubeApi(conn);
    this.log = opts.log ?? (() => {});
    this.extraHosts = new Map(Object.entries(opts.extraHosts ?? {}));
  }

  /** Name `name` as `address` in every pod's /etc/hosts (e.g. a control plane on the host, known once hostIp is). */
  setExtraHost(name: string, address: string): void {
    this.extraHosts.set(name, address);
    this.refreshNames();
  }

  private refreshNames(): void {
    for (const r of this.runners.values()) void r.refreshNames().catch((e: Error) => this.log(`pod ${r.key}: /etc/hosts: ${e.message}`));
  }

  /** The address pods see the host (and the node) as: their hostIP, probes' source. */
  get hostIp(): string {
    return this.network.hostIp;
  }

  static async start(opts: NodeAgentOptions): Promise<NodeAgent> {
    // The Amime image carries the built JavaScript tree its sidecar runs (/amime/dist): build it, as `amime up` does.
    if ((opts.amimeImages ?? []).length > 0) await sidecarLaunch(CHECKOUT);
    const runId = randomBytes(3).toString("hex");
    const used = usedSecondOctets(`${await ip("-4", "route", "show", "table", "all")}\n${await ip("-4", "-o", "addr", "show")}`);
    const subnet = pickSubnet(used, 200 + (randomBytes(1)[0]! % 50));
    if (subnet === null) throw new Error("no free 10.X.0.0/16 for the test node's pods");
    const network = await NetnsNetwork.create(runId, subnet, 1, () => {});
    const podsDir = `/run/amime-k8s-node-${runId}`;
    mkdirSync(podsDir, { recursive: true, mode: 0o755 });
    const agent = new NodeAgent(opts, network, podsDir);
    process.once("exit", agent.onExit);
    process.once("SIGTERM", agent.onSignal);
    process.once("SIGINT", agent.onSignal);
    try {
      await agent.register();
      await agent.watch();
    } catch (e) {
      await agent.stop();
      throw e;
    }
    return agent;
  }

  private async register(): Promise<void> {
    const name = this.nodeName;
    const api = this.api;
    await api.must(api.post("/api/v1/nodes", { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "amime-test-node" } } }), "register node");
    const now = new Date().toISOString();
    await api.must(api.patch(`/api/v1/nodes/${name}/status`, {
      status: {
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "amime test node agent is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now }],
        addresses: [{ type: "InternalIP", address: this.hostIp }, { type: "Hostname", address: name }],
        capacity: { cpu: "2", memory: "4Gi", pods: "110" },
        allocatable: { cpu: "2", memory: "4Gi", pods: "110" },
        nodeInfo: { kubeletVersion: "v1.37.2-amime-test-node", operatingSystem: "linux", architecture: "amd64", containerRuntimeVersion: "amime-test-node://processes", kernelVersion: "", osImage: "", kubeProxyVersion: "", machineID: "", systemUUID: "", bootID: "" },
      },
    }), "node status");
    const lease = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases`;
    const micro = (): string => new Date().toISOString().replace("Z", "000Z");
    await api.must(api.post(lease, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() } }), "node lease");
    this.lease = setInterval(() => {
      void api.patch(`${lease}/${name}`, { spec: { renewTime: micro() } }).then((a) => {
        if (a.status !== 200) this.log(`node lease renewal: ${a.status} ${a.body.message ?? ""}`);
      }, (e: Error) => this.log(`node lease renewal: ${e.message}`));
    }, LEASE_RENEW_MS);
    this.lease.unref();
  }

  private async watch(): Promise<void> {
    const services = new Reflector(this.api.conn, "/api/v1/services", {
      upsert: (o) => this.service(o, true),
      remove: (o) => this.service(o, false),
    }, systemClock, this.log);
    const pods = new Reflector(this.api.conn, "/api/v1/pods", {
      upsert: (o) => this.pod(o as unknown as Pod),
      remove: (o) => this.gone(o as unknown as Pod),
    }, systemClock, this.log);
    this.reflectors.push(services, pods);
    await services.start();
    if (this.opts.serviceProxy === true) this.serviceProxy = await ServiceProxy.start(this.api.conn, this.network.resources.nodes[0]!, this.log);
    await pods.start();
  }

  private service(o: KubeObject, present: boolean): void {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const { clusterIP, ports } = (o.spec ?? {}) as { clusterIP?: string; ports?: { name?: string; port: number }[] };
    if (key === "default/kubernetes") {
      const https = ports?.find((p) => p.name === "https") ?? ports?.[0];
      this.master = present && clusterIP && https ? { vip: clusterIP, port: https.port } : null;
    }
    if (present && clusterIP && clusterIP !== "None") this.services.set(key, { host: `${o.metadata.name}.${o.metadata.namespace}.svc.${DOMAIN}`, vip: clusterIP });
    else if (!this.services.delete(key)) return;
    this.refreshNames();
  }

  private pod(p: Pod): void {
    if (this.stopped) return;
    const uid = p.metadata.uid ?? "";
    const ns = p.metadata.namespace ?? "default";
    if (p.spec.nodeName === undefined || p.spec.nodeName === "") {
      if (p.metadata.deletionTimestamp === undefined && !this.binding.has(uid)) this.bind(p, uid, ns);
      return;
    }
    if (p.spec.nodeName !== this.nodeName) return;
    let runner = this.runners.get(uid);
    if (p.metadata.deletionTimestamp !== undefined) {
      if (this.finalizing.has(uid)) return;
      this.finalizing.add(uid);
      if (runner !== undefined) runner.pod = p;
      void this.finalize(p, runner).finally(() => this.finalizing.delete(uid));
      return;
    }
    if (runner !== undefined) {
      runner.pod = p;
      return;
    }
    if (p.status?.phase === "Succeeded" || p.status?.phase === "Failed") return;
    runner = new PodRunner(p, {
      api: this.api,
      lookup: this.lookup,
      network: this.network,
      podsDir: this.podsDir,
      amimeImages: this.opts.amimeImages ?? [],
      keep: [CHECKOUT, realpathSync(join(CHECKOUT, "node_modules")), this.podsDir],
      nameFiles: (pod) => this.nameFiles(pod),
      serviceEnv: (hostNetwork) => this.serviceEnv(hostNetwork),
      log: this.log,
      changed: (r) => this.writeStatus(r),
    });
    this.runners.set(uid, runner);
    runner.start().catch((e: Error) => this.log(`pod ${runner.key}: ${e.stack ?? e.message}`));
  }

  private bind(p: Pod, uid: string, ns: string): void {
    this.binding.add(uid);
    const body = { apiVersion: "v1", kind: "Binding", metadata: { name: p.metadata.name, uid }, target: { apiVersion: "v1", kind: "Node", name: this.nodeName } };
    void this.api.post(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}/binding`, body).then((a) => {
      if (a.status !== 201) this.log(`bind ${ns}/${p.metadata.name}: ${a.status} ${a.body.message ?? ""}`);
    }, (e: Error) => this.log(`bind ${ns}/${p.metadata.name}: ${e.message}`));
  }

  /** A pod being deleted: stop it, then delete it for good (grace 0), as the kubelet confirms. */
  private async finalize(p: Pod, runner: PodRunner | undefined): Promise<void> {
    const uid = p.metadata.uid ?? "";
    const ns = p.metadata.namespace ?? "default";
    const grace = (p.metadata.deletionGracePeriodSeconds ?? p.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    await runner?.stop(grace);
    this.runners.delete(uid);
    const a = await this.api.delete(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}`, { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0, preconditions: { uid } }).catch((e: Error) => ({ status: 0, body: { message: e.message } }));
    if (a.status !== 200 && a.status !== 404 && a.status !== 409) this.log(`delete ${ns}/${p.metadata.name}: ${a.status} ${a.body.message ?? ""}`);
  }

  /** Deleted without us (force delete): stop what runs. */
  private gone(p: Pod): void {
    const uid = p.metadata.uid ?? "";
    this.binding.delete(uid);
    const runner = this.runners.get(uid);
    if (runner === undefined) return;
    this.runners.delete(uid);
    void runner.stop(0);
  }

  private readonly lookup: DataLookup = async (kind, namespace, name) => {
    const a = await this.api.get(`/api/v1/namespaces/${namespace}/${kind}/${name}`);
    if (a.status === 404) return null;
    if (a.status !== 200) throw new Error(`get ${kind} ${namespace}/${name}: ${a.status} ${a.body.message ?? ""}`);
    return (a.body.data as Record<string, string> | undefined) ?? {};
  };

  private nameFiles(pod: { name: string; ip: string; namespace: string }): { hosts: string; resolvConf: string } {
    const extra = [...this.extraHosts].map(([name, addr]) => `${addr}\t${name}\n`).join("");
    return { hosts: hostsFile(pod, [...this.services.values()], DOMAIN) + extra, resolvConf: resolvConf(pod.namespace, DOMAIN) };
  }

  /**
   * The kubelet's variables for the master Service (set even with enableServiceLinks: false). A
   * hostNetwork pod runs on this host, which has no kube-proxy (the rig changes nothing on the
   * host): it gets the API server's own address, where kube-proxy would take 10.96.0.1:443.
   */
  private serviceEnv(hostNetwork: boolean): Record<string, string> {
    const api = new URL(this.opts.server);
    const m = hostNetwork ? { vip: api.hostname, port: Number(api.port || 443) } : this.master;
    if (m === null) return {};
    const url = `tcp://${m.vip}:${m.port}`;
    const p = `KUBERNETES_PORT_${m.port}_TCP`;
    return { KUBERNETES_SERVICE_HOST: m.vip, KUBERNETES_SERVICE_PORT: String(m.port), KUBERNETES_SERVICE_PORT_HTTPS: String(m.port), KUBERNETES_PORT: url, [p]: url, [`${p}_PROTO`]: "tcp", [`${p}_PORT`]: String(m.port), [`${p}_ADDR`]: m.vip };
  }

  /** Write a pod's status; changes during a write are written once it ends (the latest wins). */
  private writeStatus(r: PodRunner): void {
    const key = r.key;
    if (this.writes.has(key)) {
      this.writes.set(key, "again");
      return;
    }
    this.writes.set(key, "busy");
    const ns = r.pod.metadata.namespace ?? "default";
    void this.api.patch(`/api/v1/namespaces/${ns}/pods/${r.pod.metadata.name}/status`, { status: r.status() }).then((a) => {
      if (a.status !== 200 && a.status !== 404) this.log(`pod ${key} status: ${a.status} ${a.body.message ?? ""}`);
    }, (e: Error) => this.log(`pod ${key} status: ${e.message}`)).finally(() => {
      const again = this.writes.get(key) === "again";
      this.writes.delete(key);
      if (again && !this.stopped) this.writeStatus(r);
    });
  }

  /** The last output of one container (there is no kubelet API for `kubectl logs`). */
  containerLog(namespace: string, pod: string, container: string): string | null {
    for (const r of this.runners.values()) if (r.key === `${namespace}/${pod}`) return r.containerLog(container);
    return null;
  }

  /** The `ip netns` name of a running pod's network namespace (tests run commands in it). */
  podNetns(namespace: string, pod: string): string | null {
    for (const r of this.runners.values()) if (r.key === `${namespace}/${pod}`) return r.netns;
    return null;
  }

  /** The last output of every container of every pod (for failure messages). */
  logs(): string {
    return [...this.runners.values()].map((r) => r.logs()).join("\n");
  }

  /** Kill every process, remove every namespace and file; the Node object stays (as a node that went away). */
  async stop(): Promise<void> {
    this.stopped = true;
    process.off("exit", this.onExit);
    process.off("SIGTERM", this.onSignal);
    process.off("SIGINT", this.onSignal);
    if (this.lease) clearInterval(this.lease);
    for (const r of this.reflectors) r.close();
    this.serviceProxy?.close();
    await Promise.all([...this.runners.values()].map((r) => r.stop(0)));
    this.runners.clear();
    await this.network.remove();
    rmSync(this.podsDir, { recursive: true, force: true });
  }
}
