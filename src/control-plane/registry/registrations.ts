// The registrations the control plane knows (ingest stage): instances registered by the runtime,
// those another replica wrote to etcd, and those restored from the state dir at start, which stay
// provisional until registered again (docs/control-plane.md). Every change bumps the version and
// is kept in `<stateDir>/registrations.json` when there is one.
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { InstanceRegistration } from "../../model/wire.ts";
import type { InstanceRegistry } from "./instance-registry.ts";
import type { RegistryFile } from "./registry-file.ts";
import type { TcpPortAssignments } from "./tcp-port-assignments.ts";

/** With --store: where a registration made here is written for the other replicas (store/etcd/shared-registry.ts). */
export interface SharedRegistrations {
  write(namespace: string, name: string, reg: InstanceRegistration | null): void;
}

export interface RegistrationsOptions {
  readonly registry: InstanceRegistry;
  readonly tcpPorts: TcpPortAssignments;
  readonly clock: Clock;
  /** The registry changed: a new version. */
  readonly changed: () => void;
  readonly log: (line: string) => void;
}

export class Registrations {
  /** With --store: the instance registry every replica shares. */
  shared: SharedRegistrations | null = null;
  /** `<stateDir>/registrations.json` (restore); null when registrations live in memory only. */
  private file: RegistryFile | null = null;
  /** Restored registrations (`ns/name`) not registered again yet; dropped when the grace timer fires. */
  private readonly provisional = new Set<string>();
  private graceTimer: TimerHandle | null = null;
  private readonly opts: RegistrationsOptions;

  constructor(opts: RegistrationsOptions) {
    this.opts = opts;
  }

  /** Register an instance (with --store, shared with every replica through etcd). */
  register(namespace: string, name: string, reg: InstanceRegistration): boolean {
    this.provisional.delete(`${namespace}/${name}`);
    const changed = this.adopt(namespace, name, reg);
    if (changed) this.shared?.write(namespace, name, reg);
    return changed;
  }

  deregister(namespace: string, name: string): boolean {
    const removed = this.adoptRemoval(namespace, name);
    if (removed) this.shared?.write(namespace, name, null);
    return removed;
  }

  /** A registration made here or written by another replica. */
  adopt(namespace: string, name: string, reg: InstanceRegistration): boolean {
    const changed = this.opts.registry.put(namespace, name, reg);
    if (changed) this.changed();
    return changed;
  }

  adoptRemoval(namespace: string, name: string): boolean {
    const reg = this.opts.registry.list().find((r) => r.instance.name === name && (r.instance.namespace || "default") === namespace);
    if (reg) this.opts.tcpPorts.forget(reg.nodeId);
    this.provisional.delete(`${namespace}/${name}`);
    const removed = this.opts.registry.delete(namespace, name);
    if (removed) this.changed();
    return removed;
  }

  /** Put back what the last run kept in `file`, provisionally: entries not registered again within `graceMs` are dropped. */
  async restore(file: RegistryFile, graceMs: number): Promise<void> {
    this.file = file;
    const { registry, log } = this.opts;
    const kept = await file.load((why) => log(`warning: registrations of the last run not restored: ${why}`));
    for (const reg of kept) {
      const key = `${reg.instance.namespace || "default"}/${reg.instance.name}`;
      try {
        registry.put(reg.instance.namespace || "default", reg.instance.name, reg);
        this.provisional.add(key);
      } catch (e) {
        log(`warning: registration ${key} of the last run not restored: ${(e as Error).message}`);
      }
    }
    if (this.provisional.size === 0) return;
    log(`restored ${this.provisional.size} instance registration(s) from the state dir; each not registered again within ${graceMs / 1000} s is dropped`);
    this.opts.changed();
    this.graceTimer = this.opts.clock.setTimeout(() => {
      this.graceTimer = null;
      const stale = [...this.provisional];
      this.provisional.clear();
      for (const key of stale) {
        const [ns, name] = key.split("/") as [string, string];
        this.deregister(ns, name);
      }
      if (stale.length > 0) log(`dropped ${stale.length} restored registration(s) not registered again: ${stale.join(", ")}`);
    }, graceMs);
  }

  /** Stop the grace timer of restored registrations. */
  close(): void {
    this.graceTimer?.cancel();
  }

  private changed(): void {
    this.opts.changed();
    void this.file?.save(() => this.opts.registry.list()).catch((e: unknown) => this.opts.log(`warning: registrations not kept in the state dir: ${(e as Error).message}`));
  }
}
