// One mesh instance (`reviews-v1-0`): its sidecar and its app, each supervised and restarted on
// its own, and the instance's readiness in the control plane's registry. Ready = the sidecar has
// its config (admin /ready) and the app passes its readiness probe; anything else takes the
// endpoint out of rotation (registered with ready:false) until it recovers.
import { join } from "node:path";
import { systemClock } from "../../core/clock.ts";
import { PROBE_DEFAULTS } from "../../model/specs/workload.ts";
import { appEnv } from "./env.ts";
import { ManagedProcess } from "./managed-process.ts";
import { LOCAL_ADDRESS, registration, nodeId, type InstancePlan, type InstancePorts } from "./plan.ts";
import { checkOnce, ReadinessProber, type ProbeSpec } from "./probe.ts";
import type { Registrar } from "./registration.ts";
import type { Exit } from "./spawn.ts";
import { sidecarEnv } from "../../core/sidecar-node-flags.ts";
import type { SidecarLaunch } from "../js-build/sidecar-launch.ts";

export interface InstanceContext {
  controlPlaneUrl: string;
  /** The mesh root file the sidecars verify the control plane's certificate with (`--root-cert`). */
  rootCertFile: string;
  registry: Registrar;
  /** A fresh credential for one proxy process, bound to its node and identity (minted per start). */
  credential: (p: { node: string; namespace: string; serviceAccount: string }) => string;
  repoRoot: string;
  /** How sidecar and gateway processes are started (Node, its flags, the entry script). */
  sidecar: SidecarLaunch;
  logDir: string;
  log: (line: string) => void;
  /** Something changed that the state file records (a pid). */
  onChange: () => void;
  /** The `<SVC>_SERVICE_*` variables for this instance's app, as of now (service-env.ts). */
  serviceEnv: (plan: InstancePlan) => Record<string, string>;
}

/**
 * Where an instance's processes run. The local runtime: on this host, everything on 127.0.0.1.
 * The netns runtime: inside the pod's network namespace (runtime/netns/), reached on the pod's IP.
 */
export interface InstancePlacement {
  /** The address the runtime probes the app and the sidecar's admin listener on. */
  address: string;
  /** The command line that runs `command args` in place (e.g. `ip netns exec POD setpriv …`). */
  wrap(role: "app" | "sidecar", command: string, args: readonly string[]): { command: string; args: string[] };
  /** Extra `amime proxy` flags. */
  sidecarArgs: readonly string[];
  /** The app's environment. */
  appEnv(plan: InstancePlan, ports: InstancePorts): Record<string, string>;
  /** Runs once the instance is registered, before its processes start (capture rules). */
  beforeStart?(): Promise<void>;
}

export type Phase = "starting" | "ready" | "not ready" | "restarting" | "stopped" | "failed";

export class InstanceSupervisor {
  readonly plan: InstancePlan;
  readonly ports: InstancePorts;
  private readonly ctx: InstanceContext;
  private readonly placement: InstancePlacement | null;
  private readonly sidecar: ManagedProcess;
  private readonly app: ManagedProcess;
  private prober: ReadinessProber | null = null;
  private sidecarPoll: NodeJS.Timeout | null = null;
  private sidecarReady = false;
  private appReady = false;
  private registered: boolean | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  phase: Phase = "starting";
  /** Set when the app was not ready within its probe budget. */
  neverReady = false;
  lastExit: string | null = null;
  /** Log every change to ready (set once the startup report has been printed). */
  announce = false;
  private readyWaiters: (() => void)[] = [];

  constructor(plan: InstancePlan, ports: InstancePorts, ctx: InstanceContext, placement?: InstancePlacement) {
    this.plan = plan;
    this.ports = ports;
    this.ctx = ctx;
    this.placement = placement ?? null;
    const wrap = (role: "app" | "sidecar", command: string, args: string[]): { command: string; args: string[] } => (placement ? placement.wrap(role, command, args) : { command, args });
    this.sidecar = new ManagedProcess({
      policy: "Always",
      spec: () => ({
        ...wrap("sidecar", ctx.sidecar.command, [...ctx.sidecar.args, "proxy", "--xds", ctx.controlPlaneUrl, "--root-cert", ctx.rootCertFile, "--node", nodeId("sidecar", plan.name, plan.namespace), "--admin-port", String(ports.admin), ...(placement?.sidecarArgs ?? [])]),
        cwd: ctx.repoRoot,
        env: { ...sidecarEnv(process.env), AMIME_PROXY_TOKEN: ctx.credential({ node: nodeId("sidecar", plan.name, plan.namespace), namespace: plan.namespace, serviceAccount: plan.spec.serviceAccount }) },
        logFile: join(ctx.logDir, `${plan.name}.sidecar.log`),
      }),
      onStart: () => {
        // A sidecar back from a crash loop: with replicas on etcd the leader removes a registration
        // whose proxy stayed away past the grace period (docs/control-plane.md, "Config in etcd"),
        // so it is put again, as a reconnecting Istio proxy re-creates its WorkloadEntry.
        if (this.sidecar.restarts > 0) this.putRegistration(this.registered === true);
        this.watchSidecar();
        this.ctx.onChange();
      },
      onExit: (exit, delay) => {
        this.sidecarReady = false;
        this.ctx.log(`${plan.name}: sidecar ${describeExit(exit)}; restarting in ${(delay ?? 0) / 1000} s (log: ${join(ctx.logDir, `${plan.name}.sidecar.log`)})`);
        this.update();
      },
    });
    this.app = new ManagedProcess({
      policy: plan.spec.restartPolicy,
      spec: () => ({
        ...wrap("app", plan.spec.command[0] ?? "", [...plan.spec.command.slice(1), ...plan.spec.args]),
        cwd: plan.cwd,
        env: placement ? placement.appEnv(plan, ports) : appEnv(plan, ports, ctx.repoRoot, plan.sidecar ? ctx.serviceEnv(plan) : {}),
        logFile: join(ctx.logDir, `${plan.name}.log`),
      }),
      onStart: () => {
        this.startProber();
        this.ctx.onChange();
      },
      onExit: (exit, delay) => {
        this.prober?.stop();
        this.prober = null;
        this.appReady = false;
        this.lastExit = describeExit(exit);
        this.phase = delay === null ? "failed" : "restarting";
        const next = delay === null ? `not restarted (restartPolicy ${plan.spec.restartPolicy})` : `restarting in ${delay / 1000} s`;
        this.ctx.log(`${plan.name}: app ${this.lastExit}; out of rotation, ${next} (log: ${join(ctx.logDir, `${plan.name}.log`)})`);
        this.update();
        this.ctx.onChange();
      },
    });
  }

  /** Where the app and the sidecar's admin listener are reached. */
  get address(): string {
    return this.placement?.address ?? LOCAL_ADDRESS;
  }

  get ready(): boolean {
    return this.sidecarReady && this.appReady;
  }

  get appPid(): number | null {
    return this.app.current?.pid ?? null;
  }

  get sidecarPid(): number | null {
    return this.sidecar.current?.pid ?? null;
  }

  get restarts(): number {
    return this.app.restarts;
  }

  /** Register (not ready), start the sidecar, then the app. */
  async start(): Promise<void> {
    await this.ctx.registry.put(registration(this.plan, this.ports, false, this.address));
    this.registered = false;
    await this.placement?.beforeStart?.();
    // sidecar.istio.io/inject: "false": the app alone, ready on its own probe.
    if (this.plan.sidecar) this.sidecar.start();
    else this.sidecarReady = true;
    this.app.start();
  }

  /** Resolves when ready, or after timeoutMs (then false). */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    this.prober?.stop();
    if (this.sidecarPoll) clearTimeout(this.sidecarPoll);
    this.appReady = false;
    this.sidecarReady = false;
    await this.app.stop(graceMs);
    await this.sidecar.stop(graceMs);
    this.phase = "stopped";
  }

  /** Take the instance out of rotation now (shutdown marks everything not ready first). */
  async markNotReady(): Promise<void> {
    this.appReady = false;
    this.update();
    await this.chain;
  }

  async deregister(): Promise<void> {
    await this.chain;
    await this.ctx.registry.delete(this.plan.namespace, this.plan.name).catch(() => {});
  }

  private probeSpec(): { spec: ProbeSpec; port: number } | null {
    const p = this.plan.spec.readinessProbe;
    if (p) return { spec: p, port: this.ports.app.get(p.port) ?? p.port };
    const first = this.plan.spec.ports[0];
    if (!first) return null;
    // No probe: ready once the port accepts connections (docs/config.md).
    return { spec: { kind: "tcpSocket", path: "/", scheme: "HTTP", ...PROBE_DEFAULTS }, port: this.ports.app.get(first.containerPort) ?? first.containerPort };
  }

  private startProber(): void {
    this.prober?.stop();
    this.appReady = false;
    this.phase = "starting";
    const probe = this.probeSpec();
    if (!probe) {
      this.appReady = true;
      this.update();
      return;
    }
    const { spec, port } = probe;
    this.prober = new ReadinessProber(spec, {
      clock: systemClock,
      check: () => checkOnce(spec.kind, port, spec.path, spec.timeoutSeconds * 1000, this.address),
      onChange: (ready) => {
        this.appReady = ready;
        if (!ready) this.ctx.log(`${this.plan.name}: readiness probe failing (${spec.kind} ${port}${spec.kind === "httpGet" ? spec.path : ""}); out of rotation`);
        this.update();
      },
      onNeverReady: (budget) => {
        this.neverReady = true;
        this.ctx.log(`WARNING ${this.plan.name}: not ready after ${budget / 1000} s (${spec.kind} ${this.address}:${port}${spec.kind === "httpGet" ? spec.path : ""}); see ${join(this.ctx.logDir, `${this.plan.name}.log`)}`);
      },
    });
    this.prober.start();
  }

  /** Poll the sidecar's admin /ready until it has its first config. */
  private watchSidecar(): void {
    this.sidecarReady = false;
    const poll = async (): Promise<void> => {
      if (this.stopped || !this.sidecar.current) return;
      if (await checkOnce("httpGet", this.ports.admin, "/ready", 1000, this.address)) {
        this.sidecarReady = true;
        this.update();
        return;
      }
      this.sidecarPoll = setTimeout(() => void poll(), 100);
    };
    this.sidecarPoll = setTimeout(() => void poll(), 100);
  }

  /** Push the current readiness to the registry when it changed (serialized, in order). */
  private update(): void {
    const ready = this.ready;
    if (ready) {
      if (this.phase !== "ready" && this.announce) this.ctx.log(`${this.plan.name}: ready, back in rotation`);
      this.phase = "ready";
      this.neverReady = false;
      for (const w of this.readyWaiters.splice(0)) w();
    } else if (this.phase === "ready") this.phase = "not ready";
    if (this.registered === ready || (this.stopped && ready)) return;
    this.registered = ready;
    this.putRegistration(ready);
  }

  private putRegistration(ready: boolean): void {
    this.chain = this.chain
      .then(() => this.ctx.registry.put(registration(this.plan, this.ports, ready, this.address)))
      .catch((e: Error) => this.ctx.log(`${this.plan.name}: cannot update the control plane: ${e.message}`));
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
