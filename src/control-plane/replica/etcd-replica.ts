// A control-plane replica on a shared etcd store (--store etcd://…; docs/control-plane.md, "Config
// in etcd"): the config store kept there, the CA root, ledger and deny list shared, the instance
// registry every replica adopts, which proxies have a stream at this replica (stream marks), root
// rotations run together, and the leader role. Loaded lazily by server.ts, only with --store: the
// etcd client (gRPC) costs memory and start time a file store does not need.
import { hostname } from "node:os";
import type { Diagnostic } from "../../model/diagnostic.ts";
import type { Clock } from "../../core/clock.ts";
import type { IdentityIssuer } from "../ca/index.ts";
import type { RevocationList } from "../ca/revocations.ts";
import type { RotationHost } from "../ca/root-rotation.ts";
import { startLeaderRole, type LeaderRole } from "../leader/index.ts";
import { DEFAULT_COMPACTION_INTERVAL_MS } from "../leader/history-compactor.ts";
import { DEFAULT_LEADER_TIMING, timingProblem, type LeaderTiming } from "../leader/leader-term.ts";
import { DEFAULT_REGISTRATION_CLEANUP_GRACE_MS } from "../leader/registration-reaper.ts";
import { ROTATION_TIMEOUT_MS, type ControlPlaneOptions } from "../options.ts";
import { attachEtcdStore, shareRevocations, type AttachHooks } from "../store/etcd/attach.ts";
import { EtcdCaLedger } from "../store/etcd/ca-ledger.ts";
import type { EtcdStore } from "../store/etcd/etcd-store.ts";
import { shareCaRoot, storeKey } from "../store/etcd/shared-ca.ts";
import { SharedRegistry, type RegistryTarget } from "../store/etcd/shared-registry.ts";
import { SharedRotation } from "../store/etcd/shared-rotation.ts";
import { parseStoreUrl } from "../store/etcd/store-url.ts";
import { StreamMarks } from "../store/etcd/stream-marks.ts";

export class EtcdReplica {
  readonly etcd: EtcdStore;
  /** The instance registry every replica shares. */
  sharedRegistry: SharedRegistry | null = null;
  /** Which proxies have a stream here, in etcd (for the leader's registration cleanup). */
  private marks: StreamMarks | null = null;
  /** With --store-key-file: root rotations run by every replica together. */
  sharedRotation: SharedRotation | null = null;
  /** The leader election and the work only the leader does. */
  leader: LeaderRole | null = null;
  /** This replica's name in the leader election and the stream marks (default `<host name>:<port>`). */
  private replica = "";
  private readonly opts: ControlPlaneOptions;
  private get timing(): LeaderTiming {
    return this.opts.leaderTiming ?? DEFAULT_LEADER_TIMING;
  }

  private constructor(etcd: EtcdStore, opts: ControlPlaneOptions) {
    this.etcd = etcd;
    this.opts = opts;
  }

  /** Adopt what etcd holds, save every later change there, and adopt what other replicas write. */
  static async attach(opts: ControlPlaneOptions, store: string, paths: readonly string[], hooks: AttachHooks, attached: (replica: EtcdReplica) => void): Promise<{ accepted: boolean; diagnostics: Diagnostic[] }> {
    const url = parseStoreUrl(store);
    const timing = timingProblem(opts.leaderTiming ?? DEFAULT_LEADER_TIMING);
    if (timing !== null) throw new Error(`leader election: ${timing}`);
    if (paths.length > 0) throw new Error(`config files (-f) cannot be combined with --store ${url.text}: every replica reads config only from etcd; put the files there with \`amime apply -f\``);
    return attachEtcdStore(url, opts.storeTls ?? {}, hooks, (etcd) => attached(new EtcdReplica(etcd, opts)));
  }

  /** With --store-key-file and a state dir (and no --cacerts): the CA root kept in etcd, encrypted, the same at every replica. */
  get sharesRoot(): boolean {
    return this.opts.cacertsDir === undefined && this.opts.stateDir !== undefined && this.opts.storeKeyFile !== undefined;
  }

  /** Take the CA root from etcd (or put this replica's there first); before the CA is loaded. */
  async shareRoot(caDir: string, log: (line: string) => void): Promise<void> {
    await shareCaRoot(this.etcd, caDir, this.opts.storeKeyFile as string, this.opts.mesh?.trustDomain ?? "cluster.local", log);
  }

  /** Share the CA's ledger and deny list, and the instance registry, with every replica. */
  async shareIdentities(identities: IdentityIssuer, revocations: RevocationList, registry: RegistryTarget, revocationsChanged: () => void, log: (line: string) => void): Promise<void> {
    identities.shareWith(new EtcdCaLedger(this.etcd.connection, this.etcd.url.prefix, this.etcd.url.text));
    this.sharedRegistry = new SharedRegistry(this.etcd.connection, this.etcd.url.prefix, registry, log);
    await this.sharedRegistry.start();
    await shareRevocations(this.etcd, revocations, revocationsChanged);
  }

  /** Once serving on `port`: keep in etcd which proxies have a stream here (`connected` once the lease is granted). */
  async markStreams(port: number, connected: () => readonly string[], log: (line: string) => void): Promise<void> {
    this.replica = this.opts.replicaName ?? `${hostname()}:${port}`;
    const marks = new StreamMarks({ client: this.etcd.connection, prefix: this.etcd.url.prefix, replica: this.replica, ttlSeconds: Math.ceil(this.timing.leaseTtlMs / 1000), log });
    await marks.start();
    this.marks = marks;
    // Streams opened while the lease was granted.
    for (const node of connected()) marks.set(node, true);
  }

  /** After markStreams: join root rotations (with a shared root) and the leader election. */
  async startRole(clock: Clock, rotationHost: () => RotationHost, log: (line: string) => void): Promise<void> {
    const { replica, marks } = this;
    if (this.sharesRoot && marks !== null) {
      this.sharedRotation = new SharedRotation({ client: this.etcd.connection, prefix: this.etcd.url.prefix, caKey: this.etcd.caKey, replica, key: await storeKey(this.opts.storeKeyFile as string), marks, host: rotationHost(), now: () => clock.wallNow(), phaseTimeoutMs: ROTATION_TIMEOUT_MS });
      await this.sharedRotation.start();
    }
    this.leader = startLeaderRole(this.etcd, {
      replica,
      clock,
      timing: this.timing,
      compactionIntervalMs: this.opts.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS,
      registrationCleanupGraceMs: this.opts.registrationCleanupGraceMs ?? DEFAULT_REGISTRATION_CLEANUP_GRACE_MS,
      log,
    });
  }

  /** Whether `node` has a stream at this replica (once the role started). */
  mark(node: string, connected: boolean): void {
    this.marks?.set(node, connected);
  }

  async close(): Promise<void> {
    await this.leader?.close();
    this.sharedRotation?.close();
    await this.marks?.close();
    await this.sharedRegistry?.close();
    await this.etcd.close();
  }
}
