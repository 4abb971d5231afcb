// NetnsMesh: `amime up --runtime netns`. The control plane and the ingress gateway run on the
// host as in the local runtime; every Workload replica runs in a pod (its own network namespace,
// network.ts) with its app as root without capabilities and its sidecar as UID/GID 1337, traffic
// captured by the pod's rules (capture-rules.ts), service names in the pod's hosts file
// (pod-dns.ts). A reconcile loop follows the control plane: new services get a VIP and a name in
// every pod, and each pod's per-VIP:port redirects follow the TCP listeners the control plane
// gives its sidecar. What the pod's processes run as and with: netns-env.ts. docs/netns.md.
import { randomBytes } from "node:crypto";
import { isIPv4 } from "node:net";
import { chmod, copyFile, mkdir, writeFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { meshSettingsOf } from "../../config/mesh-config/settings.ts";
import { ControlPlane } from "../../control-plane/server.ts";
import { createDashboardHandler } from "../../dashboard/server/handler.ts";
import { outboundTcpPorts } from "../../control-plane/translate/tcp-listeners.ts";
import { isHttpPort } from "../../control-plane/translate/virtual-hosts.ts";
import type { Service } from "../../model/registry.ts";
import { IngressGateway, ingressHint, ingressServerPorts } from "../local/gateway.ts";
import { InstanceSupervisor, type InstanceContext, type InstancePlacement } from "../local/instance.ts";
import { ConfigInvalid, loadAndValidate, localMeshTelemetry, prometheusTargetsPath, tcpPoolSize, type LocalMeshOptions } from "../local/local-mesh.ts";
import { REPO_ROOT } from "../paths.ts";
import { sidecarLaunch } from "../js-build/sidecar-launch.ts";
import { firstUnreachable } from "./proxy-access.ts";
import { nodeId, planInstances, type InstancePlan, type InstancePorts } from "../local/plan.ts";
import { PortAllocator } from "../local/ports.ts";
import { inProcessRegistrar } from "../local/registration.ts";
import { instanceState, StateWriter, waitUntilReady } from "../local/running-mesh.ts";
import { findStateFile, isAlive, removeState, writeState, type NetnsResources, type UpState } from "../local/state-file.ts";
import { pickSubnet, usedSecondOctets, VipAllocator } from "./addresses.ts";
import { ADMIN_PORT, captureAnnotations, CaptureAnnotationError, captureRules, inboundListenerPort, OUTBOUND_CAPTURE_PORT, PROXY_GID, PROXY_UID, RESERVED_PORTS, serviceRules, type CaptureAnnotations, type ServiceRedirect } from "./capture-rules.ts";
import { ip, iptablesRestore, isRoot } from "./commands.ts";
import { NetnsNetwork, removeNetns, runDirOf, writePodFiles } from "./network.ts";
import { APP_PRIVILEGES, inPod, kubeServiceEnv, podAppEnv, PROXY_PRIVILEGES } from "./netns-env.ts";
import { hostsFile, resolvConf, type ServiceVip } from "./pod-dns.ts";

/** `amime up --runtime netns` cannot run here (not root, no iproute2…). */
export class NetnsUnavailable extends Error {
  readonly code = "AMIME_NETNS_UNAVAILABLE";
}

/** As the local runtime's, without its store and replicas, plus the machines to spread pods over. */
export interface NetnsMeshOptions extends Omit<LocalMeshOptions, "store" | "controlPlanes"> {
  /** Node namespaces ("machines") the pods are spread over, round-robin (default 1). */
  nodes?: number;
}

const TCP_POOL_BASE = 15200;

/** A service's own address from the config (Kubernetes clusterIP, a ServiceEntry's plain IPv4 address). */
export function configuredVip(service: Service): string | undefined {
  return service.addresses.find((a) => isIPv4(a));
}

interface Pod {
  plan: InstancePlan;
  netns: string;
  /** The node namespace ("machine") it runs on. */
  node: string;
  ip: string;
  capture: CaptureAnnotations;
  hosts: string;
  redirects: string;
  supervisor: InstanceSupervisor;
}

export class NetnsMesh {
  readonly controlPlane: ControlPlane;
  readonly instances: InstanceSupervisor[];
  readonly gateway: IngressGateway | null;
  readonly dir: string;
  readonly ingress: string | null;
  readonly ingressPath: string;
  readonly network: NetnsNetwork;
  private readonly pods: Pod[];
  private readonly vips: VipAllocator;
  private readonly log: (line: string) => void;
  private stopping: Promise<void> | null = null;
  private readonly stateFile: StateWriter;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> = Promise.resolve();
  private seenVersion = "";

  private constructor(cp: ControlPlane, network: NetnsNetwork, pods: Pod[], gateway: IngressGateway | null, dir: string, ingressPath: string, vips: VipAllocator, log: (l: string) => void) {
    this.controlPlane = cp;
    this.network = network;
    this.pods = pods;
    this.instances = pods.map((p) => p.supervisor);
    this.gateway = gateway;
    this.dir = dir;
    const first = gateway ? [...gateway.portMap.values()][0] : undefined;
    this.ingress = first !== undefined ? `http://127.0.0.1:${first}` : null;
    this.ingressPath = ingressPath;
    this.vips = vips;
    this.log = log;
    this.stateFile = new StateWriter(dir, () => this.state());
  }

  static async start(opts: NetnsMeshOptions): Promise<NetnsMesh> {
    const log = opts.log ?? (() => {});
    if (!isRoot()) throw new NetnsUnavailable("--runtime netns needs root (network namespaces, veth pairs and iptables rules); run it as root, or use the local runtime (the default)");
    await ip("-V").catch(() => {
      throw new NetnsUnavailable("--runtime netns needs iproute2 (`ip`), iptables and util-linux's setpriv");
    });
    const sidecar = await sidecarLaunch(REPO_ROOT, log);
    const unreachable = await firstUnreachable([{ path: process.execPath, access: "x" }, { path: sidecar.args.at(-1) as string, access: "r" }], PROXY_UID, PROXY_GID);
    if (unreachable) throw new NetnsUnavailable(`sidecars in pods run as UID ${PROXY_UID} and cannot start from this installation: ${unreachable}. Run Amime from a directory other users can read (e.g. chmod o+x on that directory, or a checkout outside /root)`);
    const dir = resolve(opts.dir ?? process.cwd());
    const resources = await loadAndValidate(opts.paths);
    const plans = planInstances(resources);
    const captures = new Map<string, CaptureAnnotations>();
    for (const plan of plans) {
      if (!plan.sidecar) throw new NetnsUnavailable(`${plan.origin}: sidecar.istio.io/inject: "false" runs a workload without a sidecar in the local runtime (amime up) only; the netns runtime captures every pod's traffic into its sidecar`);
      for (const p of plan.spec.ports) {
        if (p.containerPort >= RESERVED_PORTS.first && p.containerPort <= RESERVED_PORTS.last) throw new NetnsUnavailable(`${plan.origin}: containerPort ${p.containerPort} is reserved for the sidecar in a pod (${RESERVED_PORTS.first}-${RESERVED_PORTS.last}, as Istio's 150xx ports)`);
      }
      try {
        captures.set(plan.name, captureAnnotations(plan.annotations, plan.origin));
      } catch (e) {
        if (e instanceof CaptureAnnotationError) throw new NetnsUnavailable(e.message);
        throw e;
      }
    }
    await cleanStale(dir, log);

    const runId = randomBytes(4).toString("hex").slice(0, 6);
    const used = usedSecondOctets(`${await ip("-4", "route", "show", "table", "all")}\n${await ip("-4", "-o", "addr", "show")}`);
    const subnet = pickSubnet(used, 200 + (randomBytes(1)[0]! % 50));
    if (subnet === null) throw new NetnsUnavailable("no free 10.X.0.0/16 (X 200-249) for the mesh network: every one is routed on this host");

    // The state file exists before the first namespace does, so `amime down` can always clean up.
    const early: UpState = { runtime: "netns", controlPlane: "", ingress: null, pid: process.pid, dir, gatewayPid: null, instances: [] };
    const record = (r: NetnsResources): void => void writeState(dir, { ...early, network: r }).catch(() => {});
    const network = await NetnsNetwork.create(runId, subnet, opts.nodes ?? 1, record);
    log(`network: ${network.nodeCount} node(s) (${network.resources.nodes.join(", ")}) on 10.${subnet.octet}.0.0/24 with the host (${network.hostIp}); node k's pods on 10.${subnet.octet}.(k+1).0/24`);
    let cp: ControlPlane | null = null;
    let mesh: NetnsMesh | null = null;
    try {
      const hostPorts = new PortAllocator(opts.portBase ?? 8080);
      const serverPorts = ingressServerPorts(resources);
      const portMap = new Map<number, number>();
      for (const p of serverPorts) portMap.set(p, await hostPorts.allocate());
      const logDir = join(dir, ".amime", "logs");
      await mkdir(logDir, { recursive: true });
      const cpPort = opts.controlPlanePort ?? (await new PortAllocator(15010, network.hostIp).allocate());
      cp = await ControlPlane.start({
        dashboard: createDashboardHandler,
        host: network.hostIp,
        port: cpPort,
        stateDir: join(dir, ".amime"),
        // Every instance is started (and registered) anew by this run: nothing of a last run is restored.
        restoreRegistrations: false,
        configPaths: opts.paths.map((p) => resolve(p)),
        log: (l) => log(`control plane: ${l}`),
        mesh: { ...(opts.meshConfig ? meshSettingsOf(opts.meshConfig) : {}), telemetry: localMeshTelemetry(`https://${network.hostIp}:${cpPort}`, opts.tracing) },
      });
      const controlPlane = cp;
      // Sidecars run as UID 1337: the mesh root must be readable where they look for it, whatever
      // the mode of the directory amime up runs in (a 0700 temp directory, a home directory).
      const runDir = runDirOf(runId);
      await mkdir(runDir, { recursive: true, mode: 0o755 });
      const rootCertFile = join(runDir, "root-cert.pem");
      await copyFile(cp.rootCertFile as string, rootCertFile);
      await chmod(rootCertFile, 0o644);
      const vips = new VipAllocator(subnet);
      const domainSuffix = cp.snapshot().mesh.domainSuffix;
      const serviceVips = (): ServiceVip[] => controlPlane.snapshot().services.filter((s) => !s.host.startsWith("*")).map((s) => ({ host: s.host, vip: vips.vip(s.host, configuredVip(s)) }));
      const ctx: InstanceContext = {
        controlPlaneUrl: cp.url,
        rootCertFile,
        registry: inProcessRegistrar(cp),
        credential: (p) => controlPlane.mintProxyToken(p),
        repoRoot: REPO_ROOT,
        sidecar,
        logDir,
        log,
        onChange: () => void mesh?.saveState(),
        serviceEnv: () => ({}),
      };
      const poolSize = tcpPoolSize(cp.snapshot().services);
      const pods: Pod[] = [];
      for (const [n, plan] of plans.entries()) {
        const ports: InstancePorts = { app: new Map(), inbound: new Map(), outbound: OUTBOUND_CAPTURE_PORT, admin: ADMIN_PORT, tcpPool: [] };
        plan.spec.ports.forEach((p, k) => {
          ports.app.set(p.containerPort, p.containerPort);
          ports.inbound.set(p.containerPort, inboundListenerPort(k));
        });
        for (let i = 0; i < poolSize; i++) ports.tcpPool.push(TCP_POOL_BASE + i);
        const capture = captures.get(plan.name)!;
        const hosts = hostsFile({ name: plan.name, ip: "127.0.1.1", namespace: plan.namespace }, serviceVips(), domainSuffix);
        const made = await network.addPod(
          plan.name,
          n % network.nodeCount,
          { hosts, resolvConf: resolvConf(plan.namespace, domainSuffix) },
          (address) => captureRules({ podIp: address, nodeIp: network.hostIp, inbound: ports.inbound, inboundListenerPorts: [...ports.inbound.values()], ...capture, services: [] }),
          record,
        );
        const pod = { plan, netns: made.netns, ip: made.ip, node: made.node, capture, hosts: "", redirects: "" } as Pod;
        const placement: InstancePlacement = {
          address: made.ip,
          wrap: (role, command, args) => inPod(made.netns, role === "app" ? APP_PRIVILEGES : PROXY_PRIVILEGES, command, args),
          sidecarArgs: ["--admin-address", made.ip],
          appEnv: (p, pp) => podAppEnv(p, pp, kubeServiceEnv(controlPlane.snapshot().services.filter((s) => s.namespace === p.namespace && s.kind === "kubernetes").map((s) => ({ name: s.name, host: configuredVip(s) ?? (s.ports.every((x) => x.protocol !== "" && !isHttpPort(x.protocol)) ? vips.vip(s.host) : s.name), ports: s.ports.map((x) => ({ name: x.name, port: x.port })) })))),
          // Registered: the control plane has assigned its TCP listeners' ports; redirect to them before anything runs.
          beforeStart: async () => {
            if (mesh) await mesh.reconcilePod(pod);
          },
        };
        pod.supervisor = new InstanceSupervisor(plan, ports, ctx, placement);
        pods.push(pod);
      }
      const gateway = serverPorts.length > 0 ? new IngressGateway(portMap, await hostPorts.allocate(), ctx) : null;
      const targets = pods.map((p) => ({ name: p.plan.name, url: `http://${p.ip}:${ADMIN_PORT}/stats/prometheus`, labels: { instance_name: p.plan.name, namespace: p.plan.namespace, workload: p.plan.workload } }));
      if (gateway) targets.push({ name: "istio-ingressgateway-0", url: `http://127.0.0.1:${gateway.adminPort}/stats/prometheus`, labels: { instance_name: "istio-ingressgateway-0", namespace: "istio-system", workload: "istio-ingressgateway" } });
      for (const t of targets) cp.telemetry.addTarget(t.name, t.url);
      await writeFile(prometheusTargetsPath(dir), `${JSON.stringify(targets.map((t) => ({ targets: [new URL(t.url).host], labels: { ...t.labels, __metrics_path__: "/stats/prometheus" } })), null, 2)}\n`);
      mesh = new NetnsMesh(cp, network, pods, gateway, dir, ingressHint(resources), vips, log);
      log(`control plane ${cp.url} (config ${cp.version}, ${resources.length} resources); starting ${plans.length} pod(s)${gateway ? " and the ingress gateway" : ""}`);
      await Promise.all([...pods.map((p) => p.supervisor.start()), gateway?.start()]);
      await mesh.saveState();
      mesh.startReconciling();
      return mesh;
    } catch (e) {
      if (mesh) await mesh.stop(0);
      else {
        await cp?.close();
        await network.remove();
        await removeState(dir);
      }
      throw e;
    }
  }

  /** Every pod's hosts file and service redirects, when the control plane's version moved. */
  private startReconciling(): void {
    const tick = (): void => {
      this.reconcileTimer = setTimeout(() => {
        if (this.stopping) return;
        if (this.controlPlane.version !== this.seenVersion) {
          this.seenVersion = this.controlPlane.version;
          this.reconciling = this.reconciling.then(() => Promise.all(this.pods.map((p) => this.reconcilePod(p)))).then(
            () => undefined,
            (e: Error) => this.log(`network: ${e.message}`),
          );
        }
        void this.reconciling.then(tick);
      }, 250);
    };
    tick();
  }

  /** Bring one pod's hosts file and AMIME_SERVICES chain up to date with the control plane. */
  async reconcilePod(pod: Pod): Promise<void> {
    const snap = this.controlPlane.snapshot();
    const services = snap.services.filter((s) => !s.host.startsWith("*")).map((s) => ({ host: s.host, vip: this.vips.vip(s.host, configuredVip(s)) }));
    const hosts = hostsFile({ name: pod.plan.name, ip: pod.ip, namespace: pod.plan.namespace }, services, snap.mesh.domainSuffix);
    if (hosts !== pod.hosts) {
      await writePodFiles(pod.netns, { hosts, resolvConf: resolvConf(pod.plan.namespace, snap.mesh.domainSuffix) });
      pod.hosts = hosts;
    }
    const config = this.controlPlane.configFor(nodeId("sidecar", pod.plan.name, pod.plan.namespace));
    const redirects: ServiceRedirect[] = [];
    for (const [key, localPort] of Object.entries(config ? outboundTcpPorts(config.listeners) : {})) {
      const colon = key.lastIndexOf(":");
      const host = key.slice(0, colon);
      redirects.push({ vip: this.vips.vip(host), port: Number(key.slice(colon + 1)), localPort });
    }
    const rules = serviceRules(redirects);
    if (rules !== pod.redirects) {
      await iptablesRestore(pod.netns, rules, true);
      pod.redirects = rules;
    }
  }

  /** Resolves when every instance is ready, or after timeoutMs; returns the ones still not ready. */
  waitReady(timeoutMs: number): Promise<InstanceSupervisor[]> {
    return waitUntilReady(this.instances, this.gateway, timeoutMs);
  }

  /** The pod (network namespace, IP) of an instance. */
  podOf(instance: string): { netns: string; ip: string } | undefined {
    const p = this.pods.find((x) => x.plan.name === instance);
    return p ? { netns: p.netns, ip: p.ip } : undefined;
  }

  state(): UpState {
    return {
      runtime: "netns",
      network: this.network.resources,
      controlPlane: this.controlPlane.url,
      ingress: this.ingress,
      pid: process.pid,
      dir: this.dir,
      gatewayPid: this.gateway?.pid ?? null,
      // A pod's ports are its own (app ports as declared, the capture and admin ports): as listed for the local runtime.
      instances: this.pods.map((p) => ({ ...instanceState(p.supervisor), netns: p.netns, ip: p.ip, node: p.node })),
    };
  }

  saveState(): Promise<void> {
    return this.stateFile.save();
  }

  /** Out of rotation, stop every process, close the control plane, remove every namespace, link and file. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      const saved = this.stateFile.close();
      if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
      await Promise.all(this.instances.map((i) => i.markNotReady()));
      await Promise.all([...this.instances.map((i) => i.stop(graceMs)), this.gateway?.stop(graceMs)]);
      await this.controlPlane.close();
      await saved;
      await this.reconciling;
      const problems = await removeNetns(this.network.resources);
      for (const p of problems) this.log(`network: could not remove: ${p}`);
      await removeState(this.dir);
      await rm(prometheusTargetsPath(this.dir), { force: true });
    })();
    return this.stopping;
  }
}

/** A state file left by a netns mesh whose `amime up` is gone: remove what it made first. */
async function cleanStale(dir: string, log: (l: string) => void): Promise<void> {
  const found = await findStateFile(dir).catch(() => undefined);
  if (!found || resolve(found.file, "..", "..") !== dir) return;
  let state: UpState;
  try {
    state = JSON.parse(found.text) as UpState;
  } catch {
    return;
  }
  if (isAlive(state.pid)) throw new NetnsUnavailable(`a mesh is already running here (pid ${state.pid}); stop it first (Ctrl-C, or amime down)`);
  if (state.network) {
    log(`removing what a crashed run left (${state.network.nodes.join(", ")} and ${state.network.pods.length} pod(s))`);
    await removeNetns(state.network);
  }
  await removeState(dir);
}

export { ConfigInvalid };
