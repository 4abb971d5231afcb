// `amime node-agent`: keeps each injected pod's AMIME_SERVICES chain (capture-rules.ts) equal to
// its sidecar's outbound TCP listeners, on one node, as the netns runtime does for its own pods
// (netns-mesh.ts reconcilePod) and as Istio CNI's node agent follows pods from outside them. The
// one-shot istio-init installs the static rules with an empty AMIME_SERVICES chain; this agent
// fills it as services come and go, so outbound TCP to a service VIP:port reaches the sidecar's
// listener for that service instead of 15001 (HTTP, by Host).
//
// - Pods: the ones bound to this node (list/watch, fieldSelector spec.nodeName), kept when
//   injected (`sidecar.istio.io/status`), Running, with a pod IP, not hostNetwork.
// - Listeners: each such pod's sidecar `/listeners` on its read-only status port (http://<pod
//   IP>:15021, where the kubelet probes it; the admin stays on the pod's loopback), every
//   `interval` and at once when the pod changes. The
//   chain follows what the sidecar has bound: a redirect is never added before its listener exists.
// - VIPs: Services (list/watch, all namespaces), `<name>.<namespace>.svc.<suffix>` → cluster IPs.
// - Rules: entered through the pod's network namespace (pod-netns.ts) with
//   `nsenter --net=… iptables-restore --noflush` of that chain alone: nothing outside it changes.
//   Applied only when the text differs from what was last written; a failure is logged and tried
//   again on the next round. A pod gone is forgotten (its namespace went with it).
import { spawn } from "node:child_process";
import { request } from "node:http";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { KubeConnection } from "../../control-plane/kubernetes/kube-config.ts";
import { Reflector, type KubeObject } from "../../control-plane/kubernetes/reflector.ts";
import { STATUS_ANNOTATION } from "../../control-plane/webhook/inject/policy.ts";
import { serviceRules, STATUS_PORT } from "../netns/capture-rules.ts";
import { openNetns, scanNetns, type NetnsRef } from "./pod-netns.ts";
import { clusterIPv4s, sidecarRedirects, type ListenerRow } from "./sidecar-redirects.ts";

export interface ServiceCaptureAgentOptions {
  conn: KubeConnection;
  /** This node's name (the DaemonSet's NODE_NAME from the downward API). */
  node: string;
  /** The cluster's DNS domain, as in service hosts (`<name>.<namespace>.svc.<suffix>`): `cluster.local`. */
  domainSuffix: string;
  /** How often every pod's sidecar listeners are read (ms). */
  intervalMs: number;
  clock: Clock;
  log: (line: string) => void;
  /** Where the host's processes are (tests may point elsewhere). */
  proc?: string;
}

interface TrackedPod {
  key: string;
  ip: string;
  netns: NetnsRef | null;
  /** The AMIME_SERVICES text last written into the pod (null: nothing yet). */
  rules: string | null;
  unmatched: string;
  /** Said once that no namespace holds its IP (it is looked for again every round). */
  missingSaid: boolean;
}

const STATUS_TIMEOUT_MS = 2000;

export class ServiceCaptureAgent {
  private readonly pods = new Map<string, TrackedPod>();
  private readonly vips = new Map<string, string[]>();
  private readonly reflectors: Reflector[] = [];
  private timer: TimerHandle | null = null;
  private round: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Rule sets written (for status and tests). */
  applied = 0;

  private readonly o: ServiceCaptureAgentOptions;

  private constructor(o: ServiceCaptureAgentOptions) {
    this.o = o;
  }

  /** Lists pods and Services (rejects when the API server refuses), then keeps them in step. */
  static async start(o: ServiceCaptureAgentOptions): Promise<ServiceCaptureAgent> {
    const agent = new ServiceCaptureAgent(o);
    const pods = new Reflector(o.conn, `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${o.node}`)}`, { upsert: (p) => agent.pod(p), remove: (p) => agent.forget(keyOf(p)) }, o.clock, o.log);
    const services = new Reflector(o.conn, "/api/v1/services", { upsert: (s) => agent.service(s, true), remove: (s) => agent.service(s, false) }, o.clock, o.log);
    agent.reflectors.push(services, pods);
    try {
      await services.start();
      await pods.start();
    } catch (e) {
      agent.close();
      throw e;
    }
    agent.schedule(0);
    return agent;
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    for (const r of this.reflectors) r.close();
  }

  /** Resolves once the round running now (if any) is done. */
  async settled(): Promise<void> {
    await this.round;
  }

  private service(s: KubeObject, present: boolean): void {
    const key = `${s.metadata.name}.${s.metadata.namespace ?? "default"}`;
    const ips = present ? clusterIPv4s(s.spec as { clusterIP?: unknown; clusterIPs?: unknown } | undefined) : [];
    if (ips.length > 0) this.vips.set(key, ips);
    else this.vips.delete(key);
  }

  private pod(p: KubeObject): void {
    const key = keyOf(p);
    const spec = (p.spec ?? {}) as { hostNetwork?: boolean };
    const status = (p.status ?? {}) as { phase?: string; podIP?: string };
    const annotations = (p.metadata.annotations ?? {}) as Record<string, string>;
    const wanted = typeof annotations[STATUS_ANNOTATION] === "string" && spec.hostNetwork !== true && status.phase === "Running" && typeof status.podIP === "string" && status.podIP !== "";
    if (!wanted) return this.forget(key);
    const known = this.pods.get(key);
    if (known !== undefined && known.ip === status.podIP) return;
    this.pods.set(key, { key, ip: status.podIP as string, netns: null, rules: null, unmatched: "", missingSaid: false });
    this.schedule(0);
  }

  private forget(key: string): void {
    if (this.pods.delete(key)) this.o.log(`node-agent: ${key}: gone, forgotten`);
  }

  /** The next round after `ms`; a round already running runs once more when it ends. */
  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.round !== null) {
      this.again = true;
      return;
    }
    this.timer?.cancel();
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      this.round = this.reconcileAll().finally(() => {
        this.round = null;
        const again = this.again;
        this.again = false;
        this.schedule(again ? 0 : this.o.intervalMs);
      });
    }, ms);
  }

  private async reconcileAll(): Promise<void> {
    const pods = [...this.pods.values()];
    const wanted = await Promise.all(pods.map(async (pod) => ({ pod, listeners: await statusListeners(pod.ip).catch(() => null) })));
    let scan: Map<string, NetnsRef> | null = null;
    for (const { pod, listeners } of wanted) {
      // The sidecar not (yet) answering: keep what the chain has.
      if (listeners === null || this.closed || this.pods.get(pod.key) !== pod) continue;
      const { redirects, unmatched } = sidecarRedirects(listeners, this.vips, this.o.domainSuffix);
      const note = unmatched.join(", ");
      if (note !== pod.unmatched && note !== "") this.o.log(`node-agent: ${pod.key}: no cluster IP to capture for ${note} (only Kubernetes Services' cluster IPs are redirected)`);
      pod.unmatched = note;
      const rules = serviceRules(redirects);
      if (rules === pod.rules) continue;
      let fh = pod.netns === null ? null : await openNetns(pod.netns, this.o.proc);
      if (fh === null) {
        scan ??= await scanNetns(this.o.proc);
        pod.netns = scan.get(pod.ip) ?? null;
        fh = pod.netns === null ? null : await openNetns(pod.netns, this.o.proc);
      }
      if (fh === null) {
        if (!pod.missingSaid) this.o.log(`node-agent: ${pod.key}: no network namespace of the node's processes holds ${pod.ip} (yet); looking again every round`);
        pod.missingSaid = true;
        continue;
      }
      try {
        await restoreIn(fh.fd, rules);
        pod.rules = rules;
        this.applied++;
        this.o.log(`node-agent: ${pod.key}: AMIME_SERVICES ← ${redirects.length === 0 ? "nothing" : redirects.map((r) => `${r.vip}:${r.port}→${r.localPort}`).join(" ")}`);
      } catch (e) {
        this.o.log(`node-agent: ${pod.key}: ${(e as Error).message}`);
      } finally {
        await fh.close();
      }
    }
  }
}

/** By uid too: a pod of the same name made again (a StatefulSet's) has another namespace. */
function keyOf(p: KubeObject): string {
  return `${p.metadata.namespace ?? "default"}/${p.metadata.name} (${p.metadata.uid ?? ""})`;
}

/** The sidecar's `/listeners` on a pod's status port (rejects when it does not answer 200 with a list). */
function statusListeners(ip: string): Promise<ListenerRow[]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port: STATUS_PORT, path: "/listeners", timeout: STATUS_TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => {
        try {
          const rows = JSON.parse(body) as unknown;
          if (res.statusCode !== 200 || !Array.isArray(rows)) throw new Error(`${ip}:${STATUS_PORT}/listeners answered ${res.statusCode}`);
          resolve(rows.filter((r): r is ListenerRow => typeof r?.name === "string" && typeof r?.port === "number"));
        } catch (e) {
          reject(e as Error);
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${ip}:${STATUS_PORT}/listeners: no answer in ${STATUS_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** `nsenter --net=<fd> iptables-restore --noflush` with `rules` on stdin; rejects with its stderr. */
function restoreIn(fd: number, rules: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", ["--net=/proc/self/fd/3", "iptables-restore", "--noflush"], { stdio: ["pipe", "ignore", "pipe", fd] });
    let err = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.once("error", (e) => reject(new Error(`nsenter iptables-restore: ${e.message}`)));
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`nsenter iptables-restore --noflush: exit ${code}: ${err.trim()}`))));
    child.stdin?.on("error", () => {});
    child.stdin?.end(rules);
  });
}
