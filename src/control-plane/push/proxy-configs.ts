// What each proxy is pushed (snapshot → translate, as the pusher asks): one immutable snapshot per
// config version — the store's resources and the registry, with the cluster's pods on Kubernetes —
// translated for the proxy's node, with its sticky TCP port assignments and the CA's part (the
// trust bundle, signing root and deny list) added. See docs/control-plane.md.
import type { Resource } from "../../model/resource.ts";
import type { ProxyConfig } from "../../model/proxy-config.ts";
import { EMPTY_REGISTRY, type Registry } from "../../model/registry.ts";
import { buildSnapshot, makeEntries, type Snapshot, type SnapshotOptions } from "../../model/snapshot.ts";
import type { InstanceRegistration } from "../../model/wire.ts";
import type { InstanceRegistry } from "../registry/instance-registry.ts";
import type { TcpPortAssignments } from "../registry/tcp-port-assignments.ts";
import { translate, type ProxyInput } from "../translate/index.ts";
import { prepareResourceIndexes } from "../translate/resource-indexes.ts";
import { outboundTcpPorts } from "../translate/tcp-listeners.ts";

/** With --platform kubernetes: the cluster's pods (kubernetes/platform.ts). */
export interface PodSource {
  registry(registered: Registry): Registry;
  podRegistration(node: string, trustDomain: string): InstanceRegistration | undefined;
}

export interface ProxyConfigsOptions {
  /** The resources in force. */
  readonly resources: () => readonly Resource[];
  readonly registry: InstanceRegistry;
  readonly tcpPorts: TcpPortAssignments;
  readonly mesh: SnapshotOptions["mesh"];
  readonly pods: () => PodSource | null;
  /** The CA's part of every config (ca/mesh-trust.ts). */
  readonly stamp: (config: ProxyConfig) => ProxyConfig;
  readonly log: (line: string) => void;
}

export class ProxyConfigs {
  private counter = 0;
  private snap: Snapshot | null = null;
  private readonly opts: ProxyConfigsOptions;

  constructor(opts: ProxyConfigsOptions) {
    this.opts = opts;
  }

  /** Current config version (`v<N>`), bumped by every accepted change of config or registry. */
  get version(): string {
    return `v${this.counter}`;
  }

  /**
   * A new version: the snapshot is rebuilt on first use. Its resources' entries and lists are made
   * now (after a config change, the new resources'; otherwise each is found made), and the indexes
   * translation reads from them, so that the first snapshot of a config is not built and indexed cold
   * while a starting sidecar waits for it (model/snapshot.ts makeEntries, translate/resource-indexes.ts).
   */
  bump(): void {
    this.counter++;
    this.snap = null;
    const resources = this.opts.resources();
    makeEntries(resources, this.opts.mesh?.domainSuffix);
    // And what translation reads from the resources alone, kept by the lists the next snapshot shares.
    prepareResourceIndexes(buildSnapshot(resources, EMPTY_REGISTRY, { mesh: this.opts.mesh }));
  }

  /** The snapshot of the current version (built on first use after a change). */
  snapshot(): Snapshot {
    this.snap ??= buildSnapshot(this.opts.resources(), this.registryNow(), { version: this.version, mesh: this.opts.mesh });
    return this.snap;
  }

  /** The snapshot `resources` would make (a dry run), with the current registry. */
  candidate(resources: readonly Resource[]): Snapshot {
    return buildSnapshot(resources, this.registryNow(), { version: `${this.version}+dry-run`, mesh: this.opts.mesh });
  }

  /**
   * The config this node would be pushed now (null for an unregistered node). The local runtime
   * reads its outbound TCP ports from it to give an app `<SVC>_SERVICE_PORT` before the sidecar
   * has even connected; the assignment is the one the push will carry. With `candidate` (a dry
   * run), the config it would get from that snapshot, recording nothing.
   */
  configFor(node: string, candidate?: Snapshot): ProxyConfig | null {
    const { registry, tcpPorts, stamp } = this.opts;
    const reg = registry.forNode(node) ?? this.opts.pods()?.podRegistration(node, this.opts.mesh?.trustDomain ?? "cluster.local");
    if (!reg) return null;
    const input: ProxyInput = {
      ...reg.node,
      id: node,
      namespace: reg.node.namespace || reg.instance.namespace || "default",
      instanceName: reg.instance.name,
      outboundPort: reg.outboundPort,
    };
    const pool = reg.tcpPortPool;
    const snap = candidate ?? this.snapshot();
    if (pool === undefined) return stamp(translate(snap, input));
    const config = translate(snap, { ...input, tcpPortPool: pool, tcpPorts: tcpPorts.current(node, pool) });
    if (candidate !== undefined) return stamp(config);
    const full = tcpPorts.record(node, pool, outboundTcpPorts(config.listeners));
    if (full !== null) this.opts.log(full);
    return stamp(config);
  }

  /** Registered instances, and with --platform kubernetes the cluster's pods. */
  private registryNow(): Registry {
    const registered = this.opts.registry.registry();
    const pods = this.opts.pods();
    return pods === null ? registered : pods.registry(registered);
  }
}
