// LocalMesh: `amime up` as a library. Loads and validates the config, starts the control plane
// in-process (watching the config directories), allocates ports, registers and starts every
// Workload replica with its sidecar, and the ingress gateway; writes the state file; stops it all.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Diagnostic } from "../../model/diagnostic.ts";
import type { EtcdTlsFiles } from "../../control-plane/store/etcd/etcd-tls.ts";
import { meshSettingsOf } from "../../config/mesh-config/settings.ts";
import { listConfigFiles, loadConfig } from "../../config/read-files.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import type { Resource } from "../../model/resource.ts";
import { validateResource } from "../../config/validate.ts";
import { ConfigRefusedError, ControlPlane } from "../../control-plane/server.ts";
import { createDashboardHandler } from "../../dashboard/server/handler.ts";
import { IngressGateway, ingressHint, ingressHttpsPorts, ingressServerPorts } from "./gateway.ts";
import { InstanceSupervisor, type InstanceContext } from "./instance.ts";
import { nodeId, planInstances, type InstancePorts } from "./plan.ts";
import { serviceEnv, serviceLinks } from "./service-env.ts";
import { outboundTcpPorts } from "../../control-plane/translate/tcp-listeners.ts";
import type { Service } from "../../model/registry.ts";
import { REPO_ROOT } from "../paths.ts";
import { sidecarLaunch } from "../js-build/sidecar-launch.ts";
import { PortAllocator } from "./ports.ts";
import { inProcessRegistrar, type Registrar } from "./registration.ts";
import { instanceState, StateWriter, waitUntilReady } from "./running-mesh.ts";
import { removeState, type UpState } from "./state-file.ts";

export interface LocalMeshOptions {
  paths: string[];
  /** Ports are handed out from here (default 8080: the ingress gets the first free one). */
  portBase?: number;
  /** Default: the next free port from portBase. */
  controlPlanePort?: number;
  /** Where `.amime/` (state file, logs) goes; default cwd. */
  dir?: string;
  log?: (line: string) => void;
  /**
   * Where sidecars send spans. Default: the control plane's embedded Zipkin collector
   * (`<control plane>/api/v2/spans`); an external Zipkin or OTLP/HTTP collector instead.
   */
  tracing?: { format: "zipkin" | "otlp"; endpoint: string };
  /** The mesh's MeshConfig (validated, e.g. by loadMeshConfig); its settings win over `tracing`. */
  meshConfig?: MeshConfig;
  /**
   * `etcd://…`: the control plane keeps config in etcd (the -f files are applied there once at
   * start) and runs `controlPlanes` replicas (default 1) sharing it, the state dir (one CA, one
   * token key) and every instance registration; each sidecar is given every replica.
   */
  store?: string;
  /** With an `etcds://` store: the CA, client certificate and key files to reach etcd with. */
  storeTls?: EtcdTlsFiles;
  /** With `store`: the CA root is kept in etcd, encrypted with this key file (`--store-key-file`). */
  storeKeyFile?: string;
  controlPlanes?: number;
}

/** Mesh telemetry for `amime up`: one tracing provider, the default for every proxy. */
export function localMeshTelemetry(controlPlaneUrl: string, tracing: LocalMeshOptions["tracing"]): object {
  const endpoint = tracing?.endpoint ?? `${controlPlaneUrl}/api/v2/spans`;
  const provider = tracing?.format === "otlp" ? { name: "amime-tracing", opentelemetry: { endpoint } } : { name: "amime-tracing", zipkin: { endpoint } };
  return { extensionProviders: [provider], defaultProviders: { tracing: ["amime-tracing"] } };
}

export class ConfigInvalid extends Error {
  readonly code = "AMIME_CONFIG_INVALID";
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    super(`the config has ${diagnostics.filter((d) => d.level === "error").length} error(s)`);
    this.diagnostics = diagnostics;
  }
}

export const DEFAULT_PORT_BASE = 8080;

/** `.amime/prometheus-targets.json`: every sidecar's metrics endpoint as Prometheus file_sd targets, while the mesh runs. */
export function prometheusTargetsPath(dir: string): string {
  return join(dir, ".amime", "prometheus-targets.json");
}

export class LocalMesh {
  readonly controlPlane: ControlPlane;
  readonly instances: InstanceSupervisor[];
  readonly gateway: IngressGateway | null;
  readonly dir: string;
  /** `http://127.0.0.1:PORT` of the first gateway server port; null without a Gateway. */
  readonly ingress: string | null;
  /** Path to suggest after the ingress URL (`/productpage` for bookinfo). */
  readonly ingressPath: string;
  /** Every control-plane replica (`controlPlane` first). */
  replicas: ControlPlane[] = [];
  private stopping: Promise<void> | null = null;
  private readonly stateFile: StateWriter;

  private constructor(cp: ControlPlane, instances: InstanceSupervisor[], gateway: IngressGateway | null, dir: string, ingressPath: string, httpsPorts: readonly number[] = []) {
    this.controlPlane = cp;
    this.instances = instances;
    this.gateway = gateway;
    this.dir = dir;
    const first = gateway ? [...gateway.portMap.entries()][0] : undefined;
    this.ingress = first !== undefined ? `${httpsPorts.includes(first[0]) ? "https" : "http"}://127.0.0.1:${first[1]}` : null;
    this.ingressPath = ingressPath;
    this.stateFile = new StateWriter(dir, () => this.state());
  }

  /** Load, validate, start everything. Throws ConfigInvalid (nothing started) on config errors. */
  static async start(opts: LocalMeshOptions): Promise<LocalMesh> {
    const log = opts.log ?? (() => {});
    const dir = resolve(opts.dir ?? process.cwd());
    const resources = await loadAndValidate(opts.paths);
    const plans = planInstances(resources);
    const ports = new PortAllocator(opts.portBase ?? DEFAULT_PORT_BASE);

    // The ingress first, so that with the defaults it is http://127.0.0.1:8080 when 8080 is free.
    const serverPorts = ingressServerPorts(resources);
    const portMap = new Map<number, number>();
    for (const p of serverPorts) portMap.set(p, await ports.allocate());
    let cpPort = opts.controlPlanePort;
    if (cpPort === undefined) cpPort = await ports.allocate();

    const logDir = join(dir, ".amime", "logs");
    await mkdir(logDir, { recursive: true });
    const replicaOptions = {
      dashboard: createDashboardHandler,
      ...(opts.storeTls !== undefined ? { storeTls: opts.storeTls } : {}),
      ...(opts.storeKeyFile !== undefined ? { storeKeyFile: opts.storeKeyFile } : {}),
      // The token key and the admin token (.amime/admin-token, 0600) the CLI finds beside up.json.
      stateDir: join(dir, ".amime"),
      // Every instance is started (and registered) anew by this run: nothing of a last run is restored.
      restoreRegistrations: false,
      mesh: { ...(opts.meshConfig ? meshSettingsOf(opts.meshConfig) : {}), telemetry: localMeshTelemetry(`https://127.0.0.1:${cpPort}`, opts.tracing) },
    };
    const cp = await ControlPlane.start({
      ...replicaOptions,
      port: cpPort,
      ...(opts.store !== undefined ? { store: opts.store } : { configPaths: opts.paths.map((p) => resolve(p)) }),
      log: (l) => log(`control plane: ${l}`),
    });
    const replicas = [cp];
    let mesh: LocalMesh | null = null;
    try {
      if (opts.store !== undefined) {
        await applyFiles(cp, opts.paths);
        // One after the other: they share the state dir the first one has filled.
        for (let i = 2; i <= (opts.controlPlanes ?? 1); i++) {
          replicas.push(await ControlPlane.start({ ...replicaOptions, port: await ports.allocate(), store: opts.store, log: (l) => log(`control plane ${i}: ${l}`) }));
        }
      }
      const ctx: InstanceContext = {
        // Every replica: a sidecar spreads over them and fails over (amime proxy --xds A,B,…).
        controlPlaneUrl: replicas.map((r) => r.url).join(","),
        rootCertFile: cp.rootCertFile as string,
        registry: everyReplica(replicas.map(inProcessRegistrar)),
        credential: (p) => cp.mintProxyToken(p),
        repoRoot: REPO_ROOT,
        sidecar: await sidecarLaunch(REPO_ROOT, log),
        logDir,
        log,
        onChange: () => void mesh?.saveState(),
        serviceEnv: (plan) => {
          const config = cp.configFor(nodeId("sidecar", plan.name, plan.namespace));
          return serviceEnv(serviceLinks(cp.resources({ kind: "Service", namespace: plan.namespace })), plan.namespace, config ? outboundTcpPorts(config.listeners) : {});
        },
      };
      const supervisors: InstanceSupervisor[] = [];
      for (const plan of plans) {
        const p: InstancePorts = { app: new Map(), inbound: new Map(), outbound: 0, admin: 0, tcpPool: [] };
        for (const port of plan.spec.ports) {
          p.app.set(port.containerPort, await ports.allocate());
          p.inbound.set(port.containerPort, await ports.allocate());
        }
        p.outbound = await ports.allocate();
        p.admin = await ports.allocate();
        supervisors.push(new InstanceSupervisor(plan, p, ctx));
      }
      const gateway = serverPorts.length > 0 ? new IngressGateway(portMap, await ports.allocate(), ctx) : null;
      // Last, so that each instance's own ports stay together: every sidecar's outbound TCP
      // listeners need their own local ports (a TCP client cannot name the service through a proxy).
      const poolSize = tcpPoolSize(cp.snapshot().services);
      for (const s of supervisors) for (let i = 0; s.plan.sidecar && i < poolSize; i++) s.ports.tcpPool.push(await ports.allocate());
      // The control plane scrapes every sidecar (its admin port also serves /stats/prometheus) for
      // `amime top` and the service graph; external Prometheus gets the same list as file_sd targets.
      const targets: { name: string; url: string; labels: Record<string, string> }[] = supervisors.filter((s) => s.plan.sidecar).map((s) => ({
        name: s.plan.name,
        url: `http://127.0.0.1:${s.ports.admin}/stats/prometheus`,
        labels: { instance_name: s.plan.name, namespace: s.plan.namespace, workload: s.plan.workload },
      }));
      if (gateway) targets.push({ name: "istio-ingressgateway-0", url: `http://127.0.0.1:${gateway.adminPort}/stats/prometheus`, labels: { instance_name: "istio-ingressgateway-0", namespace: "istio-system", workload: "istio-ingressgateway" } });
      for (const t of targets) cp.telemetry.addTarget(t.name, t.url);
      await writeFile(prometheusTargetsPath(dir), `${JSON.stringify(targets.map((t) => ({ targets: [new URL(t.url).host], labels: { ...t.labels, __metrics_path__: "/stats/prometheus" } })), null, 2)}\n`);
      mesh = new LocalMesh(cp, supervisors, gateway, dir, ingressHint(resources), ingressHttpsPorts(resources));
      mesh.replicas = replicas;
      log(`control plane ${replicas.map((r) => r.url).join(", ")} (config ${cp.version}, ${resources.length} resources${opts.store !== undefined ? `, stored in ${opts.store}` : ""}); starting ${plans.length} instance(s)${gateway ? " and the ingress gateway" : ""}`);
      await Promise.all([...supervisors.map((s) => s.start()), gateway?.start()]);
      await mesh.saveState();
      return mesh;
    } catch (e) {
      if (mesh) await mesh.stop();
      else await Promise.all(replicas.map((r) => r.close()));
      throw e;
    }
  }

  /** Resolves when every instance is ready, or after timeoutMs; returns the ones still not ready. */
  waitReady(timeoutMs: number): Promise<InstanceSupervisor[]> {
    return waitUntilReady(this.instances, this.gateway, timeoutMs);
  }

  state(): UpState {
    return {
      controlPlane: this.controlPlane.url,
      ingress: this.ingress,
      pid: process.pid,
      dir: this.dir,
      gatewayPid: this.gateway?.pid ?? null,
      instances: this.instances.map(instanceState),
    };
  }

  saveState(): Promise<void> {
    return this.stateFile.save();
  }

  /** Out of rotation first, then SIGTERM (SIGKILL after graceMs) everything, close the control plane, remove the state and Prometheus targets files. */
  stop(graceMs = 5000): Promise<void> {
    this.stopping ??= (async () => {
      const saved = this.stateFile.close();
      await Promise.all(this.instances.map((i) => i.markNotReady()));
      await Promise.all([...this.instances.map((i) => i.stop(graceMs)), this.gateway?.stop(graceMs)]);
      await Promise.all((this.replicas.length > 0 ? this.replicas : [this.controlPlane]).map((r) => r.close()));
      await saved;
      await removeState(this.dir);
      // The targets name ports that are free again: an external Prometheus must not scrape them.
      await rm(prometheusTargetsPath(this.dir), { force: true });
    })();
    return this.stopping;
  }
}

/** With a shared store, the -f files go there once, as one apply by `amime up` (unchanged ones stay as they are). */
async function applyFiles(cp: ControlPlane, paths: readonly string[]): Promise<void> {
  const texts: string[] = [];
  for (const p of paths) for (const f of await listConfigFiles(resolve(p))) texts.push(await readFile(f, "utf8"));
  const r = await cp.apply(texts.join("\n---\n"), paths.join(","), "amime up");
  if (!r.applied) throw new ConfigRefusedError(r.diagnostics);
}

/** Registrations go to every replica: each has it at once (they share it through etcd too, written behind). */
function everyReplica(all: readonly Registrar[]): Registrar {
  return {
    put: async (reg) => void (await Promise.all(all.map((r) => r.put(reg)))),
    delete: async (ns, name) => void (await Promise.all(all.map((r) => r.delete(ns, name)))),
  };
}

/** Spare ports per sidecar beyond today's services, for TCP services applied while the mesh runs. */
export const TCP_POOL_SPARE = 8;

/** Enough local ports for every service port known at start (an upper bound of the TCP ones), plus spares. */
export function tcpPoolSize(services: readonly Service[]): number {
  let n = 0;
  for (const s of services) if (!s.host.startsWith("*")) n += s.ports.length;
  return n + TCP_POOL_SPARE;
}

export async function loadAndValidate(paths: readonly string[]): Promise<Resource[]> {
  const loaded = await loadConfig(paths);
  const diagnostics: Diagnostic[] = [...loaded.diagnostics];
  for (const r of loaded.resources) diagnostics.push(...validateResource(r).diagnostics);
  if (diagnostics.some((d) => d.level === "error")) throw new ConfigInvalid(diagnostics);
  if (loaded.resources.length === 0) throw new ConfigInvalid([{ level: "error", code: "AMM0001", message: `no config documents found in ${paths.join(", ")}`, resource: "", path: "", source: { file: "", line: 0, column: 0 } }]);
  return loaded.resources;
}
