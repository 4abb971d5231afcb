// One pod on the test node, run as a kubelet runs it: volumes made (volumes.ts), a network
// namespace with its own IP on the node's bridge (the netns runtime's NetnsNetwork), init
// containers one at a time to completion, then the containers in order (a postStart exec hook
// runs to its end before the next container starts, as the kubelet does), probes, restarts
// (restartPolicy), and the pod's status (phase, IPs, conditions, container statuses) handed to
// the agent on every change. stop() ends it all: SIGTERM, SIGKILL after the grace period, the
// namespace and its files removed.
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ETC_NETNS, writePodFiles, type NetnsNetwork } from "../../../src/runtime/netns/network.ts";
import { ip, run } from "../../../src/runtime/netns/commands.ts";
import { Container } from "./container.ts";
import { CHECKOUT, ContainerStartError, containerArgv, localImage, programArgv } from "./images.ts";
import type { KubeApi } from "./kube-api.ts";
import { execArgv, launchScript, type Identity, type Mount } from "./mount.ts";
import { containerEnv, hostnameOf, type DataLookup } from "./pod-env.ts";
import type { Pod, PodContainer } from "./pod-types.ts";
import { Prober } from "./probe.ts";
import { prepareVolumes, type PodVolumes } from "./volumes.ts";

export interface PodHost {
  api: KubeApi;
  lookup: DataLookup;
  network: NetnsNetwork;
  /** Where pods' volume directories go (world-readable: sidecars run as UID 1337). */
  podsDir: string;
  amimeImages: readonly string[];
  /** Paths a mount must never hide from the program (the checkout, node_modules, podsDir). */
  keep: readonly string[];
  /** /etc/hosts and resolv.conf of a pod. */
  nameFiles(pod: { name: string; ip: string; namespace: string }): { hosts: string; resolvConf: string };
  /** The kubelet's Service variables (KUBERNETES_SERVICE_HOST…), for a pod on the host's network or not. */
  serviceEnv(hostNetwork: boolean): Record<string, string>;
  log(line: string): void;
  /** The pod's status changed: write it to the API server. */
  changed(runner: PodRunner): void;
}

const MIN_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 300_000;

type Condition = "PodReadyToStartContainers" | "Initialized" | "ContainersReady" | "Ready";

export class PodRunner {
  pod: Pod;
  readonly key: string;
  netns: string | null = null;
  podIp: string | null = null;
  private readonly host: PodHost;
  private readonly inits: Container[];
  private readonly containers: Container[];
  private readonly probers = new Map<Container, Prober[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private volumes: PodVolumes | null = null;
  private initialized = false;
  private stopping = false;
  private phase: "Pending" | "Running" | "Succeeded" | "Failed" = "Pending";
  private readonly startTime = new Date().toISOString();
  private readonly transitions = new Map<string, { status: string; at: string }>();

  constructor(pod: Pod, host: PodHost) {
    this.pod = pod;
    this.host = host;
    this.key = `${pod.metadata.namespace ?? "default"}/${pod.metadata.name}`;
    this.inits = (pod.spec.initContainers ?? []).map((c) => new Container(c.name, c.image));
    this.containers = pod.spec.containers.map((c) => new Container(c.name, c.image));
    for (const c of this.inits) c.wait("PodInitializing");
  }

  get hostNetwork(): boolean {
    return this.pod.spec.hostNetwork === true;
  }

  get dir(): string {
    return join(this.host.podsDir, this.pod.metadata.uid ?? this.key.replace("/", "_"));
  }

  /** Make the pod and start it; failures become its status, as on a node. */
  async start(): Promise<void> {
    let backoff = 1000;
    for (;;) {
      try {
        this.volumes = await prepareVolumes(this.pod, this.dir, this.host.api, this.host.lookup, this.host.log);
        if (this.stopping) {
          // stop() ran while the volumes were being made: it removed the directory before they were done.
          this.volumes.close();
          await rm(this.dir, { recursive: true, force: true });
          return;
        }
        break;
      } catch (e) {
        // A missing ConfigMap or Secret may appear: retry, as the kubelet keeps trying to mount.
        if (this.stopping) return;
        for (const c of [...this.inits, ...this.containers]) c.wait("ContainerCreating", (e as Error).message);
        this.host.changed(this);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, 30_000);
        if (this.stopping) return;
      }
    }
    if (this.hostNetwork) {
      // The node's network is the host's here (its InternalIP, where probes come from): the pod's
      // processes run in it, and its IP is that address, as a kubelet reports a hostNetwork pod.
      this.podIp = this.host.network.hostIp;
      this.host.changed(this);
      if (!this.stopping) this.runInit(0);
      return;
    }
    const name = this.pod.metadata.uid?.slice(0, 8) ?? this.pod.metadata.name;
    const ns = this.pod.metadata.namespace ?? "default";
    const made = await this.host.network.addPod(`p-${name}`, 0, this.host.nameFiles({ name: hostnameOf(this.pod), ip: "127.0.1.1", namespace: ns }), () => "*filter\nCOMMIT\n", () => {});
    this.netns = made.netns;
    this.podIp = made.ip;
    // As containerd (2.0 on) and CRI-O make pods: any UID may bind a port below 1024 in the pod.
    await run("ip", ["netns", "exec", made.netns, "sysctl", "-q", "-w", "net.ipv4.ip_unprivileged_port_start=0"]);
    await this.refreshNames();
    this.host.changed(this);
    if (this.stopping) return;
    this.runInit(0);
  }

  /** Rewrite the pod's /etc/hosts (a Service came or went). */
  async refreshNames(): Promise<void> {
    if (this.netns === null || this.podIp === null) return;
    await writePodFiles(this.netns, this.host.nameFiles({ name: hostnameOf(this.pod), ip: this.podIp, namespace: this.pod.metadata.namespace ?? "default" }));
  }

  private runInit(i: number): void {
    const spec = this.pod.spec.initContainers ?? [];
    if (i >= spec.length) {
      this.initialized = true;
      this.startContainer(0);
      return;
    }
    this.launch(spec[i]!, this.inits[i]!, (code) => {
      if (code === 0) return this.runInit(i + 1);
      if (this.pod.spec.restartPolicy === "Never") return this.finish();
      this.later(this.inits[i]!, () => this.runInit(i));
    }).catch(() => {
      if (this.pod.spec.restartPolicy !== "Never") this.later(this.inits[i]!, () => this.runInit(i));
    });
  }

  /** Start container i, wait for its postStart hook, then the next. */
  private startContainer(i: number): void {
    if (i >= this.containers.length || this.stopping) return;
    const spec = this.pod.spec.containers[i]!;
    const c = this.containers[i]!;
    const restart = (code: number): void => {
      const policy = this.pod.spec.restartPolicy ?? "Always";
      if (policy === "Always" || (policy === "OnFailure" && code !== 0)) this.later(c, () => void this.launch(spec, c, restart).catch(() => {}));
      else this.finish();
    };
    this.launch(spec, c, restart).then(
      () => this.startContainer(i + 1),
      () => this.startContainer(i + 1),
    );
  }

  /** Start one container's process, its hook and probes; rejects (status written) when it cannot start. */
  private async launch(spec: PodContainer, c: Container, onExit: (code: number) => void): Promise<void> {
    if (this.stopping) throw new Error("stopping");
    try {
      const img = localImage(spec.image, this.host.amimeImages);
      const user = this.identity(spec);
      // As containerd: HOME from the image's passwd entry of the user (root's /root; UID 1337 has none: /).
      const base = { HOME: user === null || user.uid === 0 ? "/root" : "/", ...img.env, ...this.host.serviceEnv(this.hostNetwork) };
      const env = await containerEnv(this.withIps(), spec, base, this.host.lookup);
      const argv = containerArgv(img, spec.command, spec.args, env);
      const workingDir = spec.workingDir ?? CHECKOUT;
      const script = launchScript({ hostname: hostnameOf(this.pod), mounts: this.mounts(spec), keep: this.host.keep, workingDir, user, readOnlyRoot: spec.securityContext?.readOnlyRootFilesystem === true });
      c.run(this.netns, script, argv, env, (code) => {
        this.stopProbes(c);
        this.host.changed(this);
        if (!this.stopping) onExit(code);
      });
      this.phaseNow();
      this.host.changed(this);
      await c.made;
      const hook = spec.lifecycle?.postStart;
      if (hook?.exec !== undefined) {
        const ok = await this.exec(c, user, workingDir, programArgv(img, hook.exec.command), 0);
        if (!ok) {
          // The kubelet kills a container whose postStart hook fails (FailedPostStartHook).
          this.host.log(`pod ${this.key}: container ${c.name}: postStart hook failed`);
          await c.stop(1000);
          return;
        }
      } else if (hook !== undefined) throw new ContainerStartError("CreateContainerConfigError", "postStart: the test node agent runs exec hooks only");
      this.probe(spec, c, (argv, ms) => this.exec(c, user, workingDir, programArgv(img, argv), ms));
    } catch (e) {
      if (!(e instanceof ContainerStartError)) throw e;
      c.wait(e.reason, e.message);
      this.host.changed(this);
      throw e;
    }
  }

  private probe(spec: PodContainer, c: Container, exec: (argv: readonly string[], ms: number) => Promise<boolean>): void {
    const ports = new Map((spec.ports ?? []).filter((p) => p.name).map((p) => [p.name!, p.containerPort]));
    const ip = this.podIp!;
    const readiness = spec.readinessProbe ? new Prober(spec.readinessProbe, ip, ports, exec, (ok) => this.set(c, { ready: ok })) : null;
    const began = (): void => {
      this.set(c, { started: true, ready: readiness === null });
      readiness?.now();
    };
    const mine: Prober[] = [];
    this.probers.set(c, mine);
    if (readiness) mine.push(readiness);
    if (spec.startupProbe) {
      const startup = new Prober(spec.startupProbe, ip, ports, exec, (ok) => {
        if (ok) {
          startup.stop();
          began();
        } else void c.stop(1000);
      });
      mine.push(startup);
      startup.start();
    } else began();
    if (spec.livenessProbe) {
      const liveness = new Prober(spec.livenessProbe, ip, ports, exec, (ok) => void (ok ? null : c.stop((this.pod.spec.terminationGracePeriodSeconds ?? 30) * 1000)));
      mine.push(liveness);
      liveness.start();
    }
    readiness?.start();
  }

  private set(c: Container, s: { ready?: boolean; started?: boolean }): void {
    if (!c.running) return;
    Object.assign(c, s);
    this.host.changed(this);
  }

  private stopProbes(c: Container): void {
    for (const p of this.probers.get(c) ?? []) p.stop();
    this.probers.delete(c);
  }

  private exec(c: Container, user: Identity | null, workingDir: string, argv: readonly string[], timeoutMs: number): Promise<boolean> {
    const pid = c.pid;
    if (pid === null) return Promise.resolve(false);
    const [cmd, ...rest] = execArgv(pid, user, workingDir, argv);
    return new Promise((resolve) => {
      const child = spawn(cmd!, rest, { stdio: "ignore" });
      const t = timeoutMs > 0 ? setTimeout(() => child.kill("SIGKILL"), timeoutMs) : null;
      child.once("error", () => resolve(false));
      child.once("close", (code) => {
        if (t) clearTimeout(t);
        resolve(code === 0);
      });
    });
  }

  private mounts(spec: PodContainer): Mount[] {
    return (spec.volumeMounts ?? []).map((m) => {
      if (m.subPath || m.subPathExpr) throw new ContainerStartError("CreateContainerConfigError", `volumeMount ${m.name}: subPath is not made by the test node agent`);
      const source = this.volumes?.dirs.get(m.name);
      if (source === undefined) throw new ContainerStartError("CreateContainerConfigError", `volumeMount ${m.name}: no such volume`);
      return { source, target: m.mountPath, readOnly: m.readOnly === true };
    });
  }

  private identity(spec: PodContainer): Identity | null {
    const uid = spec.securityContext?.runAsUser ?? this.pod.spec.securityContext?.runAsUser;
    if (uid === undefined) return null;
    return { uid, gid: spec.securityContext?.runAsGroup ?? this.pod.spec.securityContext?.runAsGroup ?? 0 };
  }

  /** The pod as the downward API sees it, with the IPs this node gave it. */
  private withIps(): Pod {
    return { ...this.pod, status: { ...this.pod.status, podIP: this.podIp ?? "", hostIP: this.host.network.hostIp } };
  }

  /** Run `then` after the container's back-off (CrashLoopBackOff meanwhile). */
  private later(c: Container, then: () => void): void {
    const wait = Math.min(MIN_BACKOFF_MS * 2 ** c.restartCount, MAX_BACKOFF_MS);
    c.restarting();
    c.wait("CrashLoopBackOff", `back-off ${wait / 1000}s restarting failed container=${c.name} pod=${this.pod.metadata.name}`);
    this.host.changed(this);
    void this.sleep(wait).then(() => {
      if (!this.stopping) then();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      t.unref();
      this.timers.add(t);
    });
  }

  /** All containers ended for good (restartPolicy): Succeeded or Failed. */
  private finish(): void {
    const all = [...this.inits, ...this.containers];
    const failed = all.some((c) => "terminated" in c.state && c.state.terminated.exitCode !== 0);
    if (this.containers.every((c) => !c.running) || failed) this.phase = failed ? "Failed" : "Succeeded";
    this.host.changed(this);
  }

  private phaseNow(): void {
    if (this.phase === "Pending" && this.initialized && this.containers.some((c) => c.running)) this.phase = "Running";
  }

  /** SIGTERM every process, SIGKILL after `graceMs`, remove the namespace and the pod's files. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const c of [...this.probers.keys()]) this.stopProbes(c);
    for (const t of this.timers) clearTimeout(t);
    this.volumes?.close();
    await Promise.all([...this.inits, ...this.containers].map((c) => c.stop(graceMs)));
    if (this.netns !== null) {
      const pids = (await ip("netns", "pids", this.netns).catch(() => "")).split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await ip("netns", "del", this.netns).catch(() => {});
      await rm(join(ETC_NETNS, this.netns), { recursive: true, force: true });
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** SIGKILL every process at once (synchronous: for a process that is exiting). */
  killNow(): void {
    for (const c of [...this.inits, ...this.containers]) {
      if (c.pid === null) continue;
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** The status subresource as the kubelet writes it. */
  status(): object {
    this.phaseNow();
    const all = this.containers;
    const ready = this.phase === "Running" && all.every((c) => c.ready);
    const conds: [Condition, boolean][] = [
      ["PodReadyToStartContainers", this.netns !== null || (this.hostNetwork && this.podIp !== null)],
      ["Initialized", this.initialized],
      ["ContainersReady", ready],
      ["Ready", ready],
    ];
    const now = new Date().toISOString();
    const conditions = [
      { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: this.startTime },
      ...conds.map(([type, ok]) => {
        const status = ok ? "True" : "False";
        const old = this.transitions.get(type);
        const at = old?.status === status ? old.at : now;
        this.transitions.set(type, { status, at });
        return { type, status, lastProbeTime: null, lastTransitionTime: at };
      }),
    ];
    const hostIp = this.host.network.hostIp;
    return {
      phase: this.phase,
      conditions,
      hostIP: hostIp,
      hostIPs: [{ ip: hostIp }],
      ...(this.podIp !== null ? { podIP: this.podIp, podIPs: [{ ip: this.podIp }] } : {}),
      startTime: this.startTime,
      ...(this.inits.length > 0 ? { initContainerStatuses: this.inits.map((c) => c.status()) } : {}),
      containerStatuses: this.containers.map((c) => c.status()),
    };
  }

  containerLog(name: string): string | null {
    return [...this.inits, ...this.containers].find((c) => c.name === name)?.log ?? null;
  }

  /** Last output of every container, for a test's failure message. */
  logs(): string {
    return [...this.inits, ...this.containers].map((c) => `--- ${this.key} ${c.name}\n${c.log}`).join("\n");
  }
}
