// The control plane process: ingest (config files with live reload, apply/delete over the API,
// instances registered by the runtime) → immutable snapshot (one version per accepted change) →
// translate per proxy → push over versioned streams with ACK/NACK. See docs/control-plane.md.
import { rename, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { formatDiagnostic, type Diagnostic } from "../config/diagnostic.ts";
import { resourceId } from "../config/resource.ts";
import { systemClock, type Clock, type TimerHandle } from "../core/clock.ts";
import { systemRandom } from "../core/random.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { Registry } from "../model/registry.ts";
import { buildSnapshot, type Snapshot } from "../model/snapshot.ts";
import type { AckMessage, ApplyResult, CertificateRequest, CertificateResponse, Revocation, SecretStatus, ControlPlaneStatus, InstanceRegistration, ProxyStatus, ResourceList } from "../model/wire.ts";
import { ApiServer } from "./api/api-server.ts";
import { createApiHandler, type ApiBackend } from "./api/http-api.ts";
import { controlPlaneMetrics } from "./api/metrics.ts";
import { CredentialIssuer } from "./auth/credentials.ts";
import { RequestGate } from "./auth/gate.ts";
import { DashboardSessions } from "./auth/sessions.ts";
import { createDashboardHandler } from "../dashboard/server/handler.ts";
import type { ProxyPrincipal, WorkloadPrincipal } from "./auth/token.ts";
import { caDirOf, IdentityIssuer } from "./ca/index.ts";
import { ServingCertificate, servingNames } from "./ca/serving-certificate.ts";
import { rotateRoot, RotationError, type RotationHost, type RotationReport } from "./ca/root-rotation.ts";
import type { SigningCA } from "./ca/signing-ca.ts";
import { Pusher, type PushSink } from "./push/pusher.ts";
import { syncState } from "./push/proxy-state.ts";
import { InstanceRegistry, parseNodeId } from "./registry/instance-registry.ts";
import { RegistryFile } from "./registry/registry-file.ts";
import { ChangeLog } from "./store/change-log.ts";
import { ConfigStore, withVersions, type StoreResult } from "./store/config-store.ts";
import type { EtcdStore } from "./store/etcd/etcd-store.ts";
import { parseStoreUrl } from "./store/etcd/store-url.ts";
import type { SharedRegistry } from "./store/etcd/shared-registry.ts";
import { FileSource } from "./store/file-source.ts";
import type { KubeConnection, KubernetesSource, podRegistration as PodRegistration, RootCertPublisher } from "./kubernetes/index.ts";
import { FileWatcher } from "./store/file-watcher.ts";
import { StoreFile, StoreFileError } from "./store/store-file.ts";
import { TelemetryService } from "./telemetry/index.ts";
import { translate, type ProxyInput } from "./translate/index.ts";
import { outboundTcpPorts } from "./translate/tcp-listeners.ts";
import { TcpPortAssignments } from "./registry/tcp-port-assignments.ts";
import { dashboardBackendOf, type DryRun } from "./dashboard-backend.ts";
import type { LeaderRole } from "./leader/index.ts";
import { DEFAULT_LEADER_TIMING, timingProblem } from "./leader/leader-term.ts";
import { DEFAULT_COMPACTION_INTERVAL_MS } from "./leader/history-compactor.ts";
import { analyzeOptionsOf, ConfigRefusedError, DEFAULT_CONTROL_PLANE_PORT, DEFAULT_REGISTRATION_GRACE_MS, DRAIN_GRACE_MS, ROOT_CERT_FILE, ROTATION_TIMEOUT_MS, type ControlPlaneOptions } from "./options.ts";
import { DEFAULT_REGISTRATION_CLEANUP_GRACE_MS } from "./leader/registration-reaper.ts";
import type { StreamMarks } from "./store/etcd/stream-marks.ts";
import type { SharedRotation } from "./store/etcd/shared-rotation.ts";


export { ConfigRefusedError, DEFAULT_CONTROL_PLANE_PORT, ROOT_CERT_FILE, type ControlPlaneOptions } from "./options.ts";

export class ControlPlane implements ApiBackend {
  readonly store: ConfigStore;
  readonly registry = new InstanceRegistry();
  /** Zipkin collector, metrics store and graph (docs/observability.md). */
  readonly telemetry = new TelemetryService();
  readonly pusher: Pusher;
  /** Who last changed each resource through the API. */
  readonly changes = new ChangeLog();
  /** Browsers signed in to the dashboard (docs/dashboard.md). */
  readonly sessions: DashboardSessions;
  /** Test hook, see ControlPlaneOptions.beforePush; may be changed while running. */
  beforePush: ((node: string, config: ProxyConfig) => ProxyConfig) | undefined;
  readonly clock: Clock;
  private readonly opts: ControlPlaneOptions;
  private readonly startedAt: number;
  private counter = 0;
  private snap: Snapshot | null = null;
  private server: ApiServer | null = null;
  private files: FileSource | null = null;
  /** Warnings of the config loaded at start (e.g. AMM1014: security config not enforced), for the CLI to print. */
  startupDiagnostics: readonly Diagnostic[] = [];
  private watcher: FileWatcher | null = null;
  private boundPort = 0;
  private closing: Promise<void> | null = null;
  /** Per node: the TCP port pool it registered and what was given out of it (see configFor). */
  private readonly tcpPorts = new TcpPortAssignments();
  private issuer: CredentialIssuer | null = null;
  private serving: ServingCertificate | null = null;
  /** The roots the control plane's certificate chains to (what clients verify it with), PEM. */
  trustBundle = "";
  /** `<stateDir>/root-cert.pem`; null without a state dir. */
  rootCertFile: string | null = null;
  /** The CA's deny list as proxies get it (refreshed by revoke/unrevoke). */
  private denyList: { serials: string[]; identities: string[] } = { serials: [], identities: [] };
  /** Since a root rotation in this process: the trust bundle and signing root every config carries. */
  private caState: { trustBundle: string[]; signingRoot: string } | null = null;
  private rotating = false;
  /** The mesh CA (docs/security.md). */
  readonly identities: IdentityIssuer;
  /** The shared store, with --store etcd://… */
  private etcd: EtcdStore | null = null;
  /** With --store: the instance registry every replica shares. */
  private sharedRegistry: SharedRegistry | null = null;
  /** With --store: the leader election and the work only the leader does. */
  leader: LeaderRole | null = null;
  /** With --store: which proxies have a stream here, in etcd (for the leader's registration cleanup). */
  private marks: StreamMarks | null = null;
  /** With --store and --store-key-file: root rotations run by every replica together. */
  private sharedRotation: SharedRotation | null = null;
  /** With --platform kubernetes: the API server's config and pods. */
  private kube: KubernetesSource | null = null;
  /** With --platform kubernetes: the pods' sidecars' registrations (loaded with the platform). */
  private kubePods: { podRegistration: typeof PodRegistration } | null = null;
  /** With --platform kubernetes: the trust bundle as ConfigMap istio-ca-root-cert in every namespace. */
  private rootCertPublisher: RootCertPublisher | null = null;
  private kubeConn: KubeConnection | null = null;
  /** With --platform kubernetes: the proxy a sidecar's projected service-account token belongs to (a TokenReview). */
  private reviewToken: ((token: string) => Promise<ProxyPrincipal>) | null = null;
  /** `<stateDir>/registrations.json` (restoreRegistrations); null when registrations live in memory only. */
  private registryFile: RegistryFile | null = null;
  /** Restored registrations (`ns/name`) not registered again yet; dropped when the grace timer fires. */
  private provisional = new Set<string>();
  private graceTimer: TimerHandle | null = null;

  private constructor(opts: ControlPlaneOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.startedAt = this.clock.wallNow();
    this.sessions = new DashboardSessions({ now: () => this.clock.wallNow() });
    this.store = new ConfigStore(() => this.clock.wallNow(), analyzeOptionsOf(opts.mesh));
    // The change log follows the store: a change is recorded the moment it is adopted.
    this.store.watch((r, actor) => {
      if (actor !== null) this.changes.record(r.changes, actor.by, actor.at);
    });
    this.beforePush = opts.beforePush;
    this.identities = new IdentityIssuer({
      trustDomain: opts.mesh?.trustDomain ?? "cluster.local",
      ...(opts.cacertsDir !== undefined ? { cacertsDir: opts.cacertsDir } : {}),
      ...(opts.stateDir !== undefined ? { caDir: caDirOf(opts.stateDir) } : {}),
      now: () => this.clock.wallNow(),
    });
    this.pusher = new Pusher({
      clock: this.clock,
      random: opts.random ?? systemRandom,
      debounceMs: opts.debounceMs ?? 50,
      configFor: (node) => this.configFor(node),
      beforeSend: (node, cfg) => (this.beforePush ? this.beforePush(node, cfg) : cfg),
      log: (l) => this.log(l),
    });
  }

  /** Load and validate the config paths, listen, watch the files. Throws ConfigRefusedError on invalid config. */
  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const cp = new ControlPlane(opts);
    const paths = opts.configPaths ?? [];
    let restored = false;
    if (opts.store !== undefined) {
      try {
        await cp.attachEtcd(opts.store, paths);
      } catch (e) {
        cp.abandon();
        throw e;
      }
    } else if (opts.stateDir !== undefined) {
      try {
        restored = cp.restoreFrom(new StoreFile(opts.stateDir));
      } catch (e) {
        cp.abandon();
        throw e;
      }
    }
    if (opts.store === undefined && opts.stateDir !== undefined && opts.restoreRegistrations !== false) {
      cp.registryFile = new RegistryFile(opts.stateDir);
      await cp.restoreRegistrations(cp.registryFile, opts.registrationGraceMs ?? DEFAULT_REGISTRATION_GRACE_MS);
    }
    if (paths.length === 0 && restored) {
      const checked = await cp.store.check();
      if (!checked.accepted) {
        cp.abandon();
        throw new ConfigRefusedError(checked.diagnostics);
      }
      cp.startupDiagnostics = checked.diagnostics;
      cp.bump();
    }
    if (opts.kubernetes !== undefined) {
      try {
        await cp.attachKubernetes(opts.kubernetes.kubeconfig);
      } catch (e) {
        cp.abandon();
        throw e;
      }
    }
    if (paths.length > 0) {
      cp.files = new FileSource(cp.store, paths);
      const loaded = await cp.files.load();
      if (!loaded.accepted) {
        cp.abandon();
        throw new ConfigRefusedError(loaded.diagnostics);
      }
      cp.startupDiagnostics = loaded.diagnostics;
      cp.bump();
    }
    try {
      cp.issuer = opts.stateDir !== undefined ? await CredentialIssuer.fromStateDir(opts.stateDir, () => cp.clock.wallNow()) : CredentialIssuer.ephemeral(() => cp.clock.wallNow());
      // A CA with files (plug-in or kept in the state dir) is loaded or created now, so a broken
      // bundle stops the start; an in-memory one is made on the first certificate request.
      if (cp.etcd !== null && opts.cacertsDir === undefined && opts.stateDir !== undefined && opts.storeKeyFile !== undefined) {
        const { shareCaRoot } = await import("./store/etcd/shared-ca.ts");
        await shareCaRoot(cp.etcd, caDirOf(opts.stateDir), opts.storeKeyFile, opts.mesh?.trustDomain ?? "cluster.local", (l) => cp.log(l));
      }
      if (opts.cacertsDir !== undefined || opts.stateDir !== undefined) await cp.identities.ca();
      const revocations = await cp.identities.revocations();
      if (cp.etcd !== null) {
        const { shareRevocations } = await import("./store/etcd/attach.ts");
        const { EtcdCaLedger } = await import("./store/etcd/ca-ledger.ts");
        cp.identities.shareWith(new EtcdCaLedger(cp.etcd.connection, cp.etcd.url.prefix, cp.etcd.url.text));
        const { SharedRegistry } = await import("./store/etcd/shared-registry.ts");
        cp.sharedRegistry = new SharedRegistry(cp.etcd.connection, cp.etcd.url.prefix, { put: (ns, n, r) => void cp.adoptRegistration(ns, n, r), remove: (ns, n) => void cp.adoptRemoval(ns, n) }, (l) => cp.log(l));
        await cp.sharedRegistry.start();
        await shareRevocations(cp.etcd, revocations, () => {
          cp.denyList = revocations.denyList();
          cp.log(`revocation list changed in etcd (${revocations.entries().length} entries)`);
          cp.bump();
        });
      }
      cp.denyList = revocations.denyList();
      await cp.identities.ledger();
      cp.trustBundle = (await cp.identities.ca()).roots.join("");
      if (opts.stateDir !== undefined) {
        cp.rootCertFile = join(opts.stateDir, ROOT_CERT_FILE);
        await writeFile(cp.rootCertFile, cp.trustBundle);
      }
      if (cp.kubeConn !== null) await cp.publishRootCert();
      if (cp.kubeConn !== null) await cp.publishAdminToken();
    } catch (e) {
      cp.abandon();
      throw e;
    }
    // The API and the push stream are served over TLS only, with a certificate from the mesh CA.
    cp.serving = new ServingCertificate({
      ca: () => cp.identities.ca(),
      names: servingNames(opts.host ?? "127.0.0.1", opts.allowedHosts),
      clock: cp.clock,
      onRenewed: (m) => cp.server?.setCertificate(m.cert, m.key, cp.trustBundle),
      log: (l) => cp.log(l),
    });
    const material = await cp.serving.start().catch((e: unknown) => {
      cp.abandon();
      throw e;
    });
    const api = createApiHandler(cp);
    const dashboard = createDashboardHandler(dashboardBackendOf(cp, cp.issuer as CredentialIssuer));
    const reviewToken = cp.reviewToken;
    const gate = new RequestGate({
      issuer: cp.issuer,
      sessions: cp.sessions,
      listenHost: opts.host ?? "127.0.0.1",
      port: () => cp.boundPort,
      ...(opts.allowedHosts ? { allowedHosts: opts.allowedHosts } : {}),
      ...(reviewToken !== null ? { reviewToken } : {}),
    });
    try {
      cp.server = await ApiServer.listen({
        port: opts.port ?? DEFAULT_CONTROL_PLANE_PORT,
        host: opts.host ?? "127.0.0.1",
        cert: material.cert,
        key: material.key,
        ca: cp.trustBundle,
        gate,
        handle: (req, res, principal) => {
          if (!cp.telemetry.handle(req, res) && !dashboard(req, res, principal)) api(req, res, principal);
        },
      });
    } catch (e) {
      cp.serving.close();
      cp.abandon();
      throw e;
    }
    cp.boundPort = cp.server.port;
    if (cp.etcd !== null) {
      const replica = opts.replicaName ?? `${hostname()}:${cp.boundPort}`;
      const timing = opts.leaderTiming ?? DEFAULT_LEADER_TIMING;
      const { StreamMarks } = await import("./store/etcd/stream-marks.ts");
      const marks = new StreamMarks({ client: cp.etcd.connection, prefix: cp.etcd.url.prefix, replica, ttlSeconds: Math.ceil(timing.leaseTtlMs / 1000), log: (l) => cp.log(l) });
      try {
        await marks.start();
      } catch (e) {
        await cp.close({ drain: false });
        throw e;
      }
      cp.marks = marks;
      // Streams opened while the lease was granted.
      for (const s of cp.pusher.allStates()) if (s.connected) marks.set(s.node, true);
      if (opts.cacertsDir === undefined && opts.stateDir !== undefined && opts.storeKeyFile !== undefined) {
        const [{ SharedRotation }, { storeKey }] = await Promise.all([import("./store/etcd/shared-rotation.ts"), import("./store/etcd/shared-ca.ts")]);
        cp.sharedRotation = new SharedRotation({ client: cp.etcd.connection, prefix: cp.etcd.url.prefix, caKey: cp.etcd.caKey, replica, key: await storeKey(opts.storeKeyFile), marks, host: cp.rotationHost(), now: () => cp.clock.wallNow(), phaseTimeoutMs: ROTATION_TIMEOUT_MS });
        await cp.sharedRotation.start();
      }
      const { startLeaderRole } = await import("./leader/index.ts");
      cp.leader = startLeaderRole(cp.etcd, {
        replica,
        clock: cp.clock,
        timing,
        compactionIntervalMs: opts.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS,
        registrationCleanupGraceMs: opts.registrationCleanupGraceMs ?? DEFAULT_REGISTRATION_CLEANUP_GRACE_MS,
        log: (l) => cp.log(l),
      });
    }
    if (paths.length > 0 && opts.watch !== false) {
      cp.watcher = await FileWatcher.start(paths, {
        clock: cp.clock,
        debounceMs: opts.debounceMs ?? 50,
        onChange: (files) => void cp.reloadFiles(files),
        onError: (e) => cp.log(`watch: ${e.message}`),
      });
    }
    return cp;
  }

  /** A start that failed: stop what was started so far (the push timers, the etcd client). */
  private abandon(): void {
    this.graceTimer?.cancel();
    this.kube?.close();
    this.rootCertPublisher?.close();
    this.pusher.close();
    void this.etcd?.close();
  }

  /** List the API server's config and pods (the start waits for it), then follow their changes. */
  private async attachKubernetes(kubeconfig: string | undefined): Promise<void> {
    // Loaded only here: nothing of the Kubernetes platform costs a file-based control plane.
    const { findKubeConfig, KubernetesSource, podRegistration, proxyPrincipalOf, TokenReviewer } = await import("./kubernetes/index.ts");
    const conn = findKubeConfig(kubeconfig);
    this.kubeConn = conn;
    this.kubePods = { podRegistration };
    const reviewer = new TokenReviewer(conn, () => this.clock.wallNow());
    this.reviewToken = async (token) => proxyPrincipalOf(await reviewer.review(token));
    this.log(`kubernetes: reading config and pods from ${conn.server} (${conn.origin})`);
    this.kube = new KubernetesSource({ conn, store: this.store, clock: this.clock, log: (l) => this.log(l), changed: () => this.bump() });
    const first = await this.kube.start();
    this.startupDiagnostics = first.diagnostics;
  }

  /** The trust bundle into every namespace's istio-ca-root-cert (the start waits for the first listing). */
  private async publishRootCert(): Promise<void> {
    const { RootCertPublisher } = await import("./kubernetes/index.ts");
    this.rootCertPublisher = new RootCertPublisher(this.trustBundle, { conn: this.kubeConn as KubeConnection, clock: this.clock, log: (l) => this.log(l) });
    await this.rootCertPublisher.start();
  }

  /** The admin credential as Secret amime-admin-token in the control plane's namespace (`amime proxy-status --kubeconfig`); a failure is logged, not fatal. */
  private async publishAdminToken(): Promise<void> {
    const { publishAdminToken, ADMIN_TOKEN_SECRET } = await import("./kubernetes/index.ts");
    const ns = this.opts.kubernetes?.namespace ?? "istio-system";
    try {
      const how = await publishAdminToken(this.kubeConn as KubeConnection, ns, this.adminToken);
      this.log(`kubernetes: Secret ${ns}/${ADMIN_TOKEN_SECRET} ${how} (the admin credential for amime … --kubeconfig)`);
    } catch (e) {
      this.log(`kubernetes: cannot write Secret ${ns}/${ADMIN_TOKEN_SECRET} (amime proxy-status --kubeconfig will not find this control plane): ${(e as Error).message}`);
    }
  }

  /** Adopt what etcd holds, save every later change there, and adopt what other replicas write. */
  private async attachEtcd(store: string, paths: readonly string[]): Promise<void> {
    const url = parseStoreUrl(store);
    const timing = timingProblem(this.opts.leaderTiming ?? DEFAULT_LEADER_TIMING);
    if (timing !== null) throw new Error(`leader election: ${timing}`);
    if (paths.length > 0) throw new Error(`config files (-f) cannot be combined with --store ${url.text}: every replica reads config only from etcd; put the files there with \`amime apply -f\``);
    // Loaded only here: the etcd client (gRPC) costs memory and start time a file store does not need.
    const { attachEtcdStore } = await import("./store/etcd/attach.ts");
    const attached = await attachEtcdStore(url, this.opts.storeTls ?? {}, {
      store: this.store,
      changes: this.changes,
      random: this.opts.random ?? systemRandom,
      log: (l) => this.log(l),
      closing: () => this.closing !== null,
      changed: () => {
        this.bump();
        return this.version;
      },
    }, (etcd) => (this.etcd = etcd));
    if (!attached.accepted) throw new ConfigRefusedError(attached.diagnostics);
    this.startupDiagnostics = attached.diagnostics;
    if (this.opts.cacertsDir === undefined && (this.opts.storeKeyFile === undefined || this.opts.stateDir === undefined)) {
      this.log(`warning: the CA root key is not kept in etcd (that needs --store-key-file and a state dir): this replica signs with its own root (${this.opts.stateDir === undefined ? "in memory" : caDirOf(this.opts.stateDir)}), so proxies of replicas with other state dirs do not trust each other's certificates; give every replica the same --store-key-file, --cacerts or state dir`);
    }
    this.bump();
  }

  /** Take back what was applied before a restart, and save every later change there. */
  private restoreFrom(file: StoreFile): boolean {
    const saved = file.load((tmp) => this.log(`config store: discarded ${tmp}, a write interrupted before it completed; ${file.path} holds the last saved state`));
    if (saved !== null) {
      const unusable = this.store.restore(saved);
      if (unusable.length > 0) throw new StoreFileError(file.path, `stored documents cannot be read: ${unusable.map((d) => d.message).join("; ")}`);
      this.changes.restore(saved.changes);
      this.log(`config store: ${saved.applied.length} applied resource(s) restored from ${file.path} (resourceVersion ${saved.resourceVersion})`);
    }
    this.store.persistWith(async ({ state, changes, actor }) => {
      await file.save({ ...state, changes: actor === null ? this.changes.entries() : this.changes.preview(changes, actor.by, actor.at) });
      return undefined;
    });
    return saved !== null;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    const host = this.opts.host ?? "127.0.0.1";
    return `https://${host.includes(":") ? `[${host}]` : host}:${this.boundPort}`;
  }

  /** The admin credential (what the CLI sends); written to `<stateDir>/admin-token` when there is one. */
  get adminToken(): string {
    return (this.issuer as CredentialIssuer).adminToken;
  }

  get adminTokenFile(): string | null {
    return this.issuer?.adminTokenFile ?? null;
  }

  /**
   * A credential for one sidecar or gateway process, bound to its node id, namespace and service
   * account; it supersedes the node's earlier ones. The runtime mints one per process start.
   */
  mintProxyToken(p: { node: string; namespace: string; serviceAccount: string }, by = "runtime"): string {
    if (by !== "runtime") this.log(`credential for ${p.node} (${p.namespace}/${p.serviceAccount}) issued to ${by}`);
    return (this.issuer as CredentialIssuer).mintProxyToken(p);
  }

  /** Current config version (`v<N>`), bumped by every accepted change of config or registry. */
  get version(): string {
    return `v${this.counter}`;
  }

  /** The snapshot of the current version (built on first use after a change). */
  snapshot(): Snapshot {
    this.snap ??= buildSnapshot(this.store.resources(), this.registryNow(), { version: this.version, mesh: this.opts.mesh });
    return this.snap;
  }

  /** Registered instances, and with --platform kubernetes the cluster's pods. */
  private registryNow(): Registry {
    const registered = this.registry.registry();
    if (this.kube === null) return registered;
    return { services: registered.services, instances: [...registered.instances, ...this.kube.workloadInstances()], serviceEndpoints: this.kube.serviceEndpoints() };
  }

  /** `by` names who asked (`admin:alice`); it is recorded with every change it makes. */
  apply(text: string, source = "apply", by = "in-process"): Promise<ApplyResult> {
    return this.change("apply", text, source, by);
  }

  delete(text: string, source = "delete", by = "in-process"): Promise<ApplyResult> {
    return this.change("delete", text, source, by);
  }

  private async change(what: "apply" | "delete", text: string, source: string, by: string): Promise<ApplyResult> {
    const actor = { by, at: new Date(this.clock.wallNow()) };
    const r = what === "apply" ? await this.store.apply(text, source, actor) : await this.store.delete(text, source, actor);
    return this.result(r, what, source, by);
  }

  /** Register an instance (with --store, shared with every replica through etcd). */
  register(namespace: string, name: string, reg: InstanceRegistration): boolean {
    this.provisional.delete(`${namespace}/${name}`);
    const changed = this.adoptRegistration(namespace, name, reg);
    if (changed) this.sharedRegistry?.write(namespace, name, reg);
    return changed;
  }

  deregister(namespace: string, name: string): boolean {
    const removed = this.adoptRemoval(namespace, name);
    if (removed) this.sharedRegistry?.write(namespace, name, null);
    return removed;
  }

  private adoptRegistration(namespace: string, name: string, reg: InstanceRegistration): boolean {
    const changed = this.registry.put(namespace, name, reg);
    if (changed) this.registrationsChanged();
    return changed;
  }

  private registrationsChanged(): void {
    this.bump();
    void this.registryFile?.save(() => this.registry.list()).catch((e: unknown) => this.log(`warning: registrations not kept in the state dir: ${(e as Error).message}`));
  }

  /** Put back what the last run kept, provisionally: entries not registered again within `graceMs` are dropped. */
  private async restoreRegistrations(file: RegistryFile, graceMs: number): Promise<void> {
    const kept = await file.load((why) => this.log(`warning: registrations of the last run not restored: ${why}`));
    for (const reg of kept) {
      const key = `${reg.instance.namespace || "default"}/${reg.instance.name}`;
      try {
        this.registry.put(reg.instance.namespace || "default", reg.instance.name, reg);
        this.provisional.add(key);
      } catch (e) {
        this.log(`warning: registration ${key} of the last run not restored: ${(e as Error).message}`);
      }
    }
    if (this.provisional.size === 0) return;
    this.log(`restored ${this.provisional.size} instance registration(s) from the state dir; each not registered again within ${graceMs / 1000} s is dropped`);
    this.bump();
    this.graceTimer = this.clock.setTimeout(() => {
      this.graceTimer = null;
      const stale = [...this.provisional];
      this.provisional.clear();
      for (const key of stale) {
        const [ns, name] = key.split("/") as [string, string];
        this.deregister(ns, name);
      }
      if (stale.length > 0) this.log(`dropped ${stale.length} restored registration(s) not registered again: ${stale.join(", ")}`);
    }, graceMs);
  }

  private adoptRemoval(namespace: string, name: string): boolean {
    const reg = this.registry.list().find((r) => r.instance.name === name && (r.instance.namespace || "default") === namespace);
    if (reg) this.tcpPorts.forget(reg.nodeId);
    this.provisional.delete(`${namespace}/${name}`);
    const removed = this.registry.delete(namespace, name);
    if (removed) this.registrationsChanged();
    return removed;
  }

  resources(filter: { kind?: string; namespace?: string; name?: string } = {}): ResourceList {
    const items = this.store.entries()
      .filter(({ resource: r }) => (!filter.kind || r.kind.toLowerCase() === filter.kind.toLowerCase()) &&
        (!filter.namespace || (r.metadata.namespace || "default") === filter.namespace) && (!filter.name || r.metadata.name === filter.name))
      .map(({ resource: r, origin, resourceVersion, generation }) => ({
        apiVersion: r.apiVersion, kind: r.kind, namespace: r.metadata.namespace || "default", name: r.metadata.name,
        body: withVersions(origin === "apply" ? this.changes.annotate(resourceId(r), r.body) : r.body, resourceVersion, generation),
        source: { file: r.source.file, line: r.source.line }, origin,
      }));
    return { items };
  }

  proxies(): ProxyStatus[] {
    const now = this.clock.now();
    const wall = this.clock.wallNow();
    return this.pusher.allStates().map((s) => {
      const reg = this.registry.forNode(s.node);
      const parsed = parseNodeId(s.node);
      return {
        node: s.node,
        workload: reg?.node.workload ?? parsed.name,
        namespace: reg?.instance.namespace ?? parsed.namespace,
        connected: s.connected,
        sentVersion: s.sentVersion,
        ackedVersion: s.ackedVersion,
        state: syncState(s),
        ...(s.nackError !== null ? { error: s.nackError } : {}),
        lastSeen: new Date(wall - (now - s.lastSeen)).toISOString(),
        ...(s.delta ? { types: Object.fromEntries([...s.types].map(([t, v]) => [t, { ...v }])) } : {}),
      };
    });
  }

  /** Sign a workload certificate for the proxy whose credential made the request. */
  issueCertificate(p: ProxyPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    return this.identities.issue(p, req);
  }

  renewCertificate(w: WorkloadPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    return this.identities.renew(w, req);
  }

  /**
   * `amime ca rotate-root`: a new self-signed root, added to every proxy's trust bundle, every
   * workload (and this control plane) reissued under it, the old root removed. docs/security.md
   */
  async rotateRoot(by = "in-process", timeoutMs = ROTATION_TIMEOUT_MS): Promise<RotationReport> {
    if (this.etcd !== null && this.sharedRotation === null) {
      throw new RotationError("replicas on etcd rotate the root together, through etcd, which needs the root shared there: start every replica with --store-key-file and a state dir (docs/security.md, \"Root rotation\")", "CA_ROTATION_UNSHARED");
    }
    if (this.rotating) throw new RotationError("a root rotation is already running", "CA_ROTATION_IN_PROGRESS");
    this.rotating = true;
    this.log(`root rotation by ${by}`);
    try {
      const report = this.sharedRotation !== null ? await this.sharedRotation.rotate(by, timeoutMs) : await rotateRoot(this.rotationHost(), timeoutMs, () => this.clock.wallNow());
      this.log(`root rotation done: ${report.reissued.length} proxies under root ${report.newRoot}`);
      return report;
    } finally {
      this.rotating = false;
    }
  }

  /** What a root rotation's phases act on at this replica (ca/root-rotation.ts). */
  private rotationHost(): RotationHost {
    return {
      identities: this.identities,
      install: (ca, reissue) => this.installCa(ca, reissue),
      proxiesHave: (roots, signingRoot) => this.pusher.allStates().every((s) => !s.connected || s.sentVersion === null || (s.ackedVersion === s.sentVersion && s.sentConfig?.signingRoot === signingRoot && s.sentConfig.trustBundle?.join("") === roots.join(""))),
      connectedNodes: () => this.pusher.allStates().filter((s) => s.connected && s.sentVersion !== null).map((s) => s.node),
      rootOf: (node) => this.identities.latestRootOf(node),
      sleep: (ms) => new Promise((resolve) => this.clock.setTimeout(resolve, ms)),
      log: (l) => this.log(l),
    };
  }

  /** Sign with `ca` from now on; its roots go to every proxy, the root file, and this server's client-certificate check. */
  private async installCa(ca: SigningCA, reissueServing: boolean): Promise<void> {
    this.identities.replace(ca);
    this.trustBundle = ca.roots.join("");
    this.caState = { trustBundle: [...ca.roots], signingRoot: ca.rootFingerprint };
    this.rootCertPublisher?.setBundle(this.trustBundle);
    if (this.rootCertFile !== null) {
      const tmp = `${this.rootCertFile}.${process.pid}.tmp`;
      await writeFile(tmp, this.trustBundle);
      await rename(tmp, this.rootCertFile);
    }
    const serving = this.serving?.current;
    if (reissueServing) await this.serving?.renewNow();
    else if (serving) this.server?.setCertificate(serving.cert, serving.key, this.trustBundle);
    this.bump();
  }

  secret(node: string): SecretStatus | null {
    return this.identities.secret(node);
  }

  async revocations(): Promise<readonly Revocation[]> {
    return (await this.identities.revocations()).entries();
  }

  /**
   * `amime ca revoke`: deny a certificate (serial) or an identity from now on. The deny list goes
   * to every proxy with its next push; a revoked identity gets no new certificate.
   */
  async revoke(target: { serial?: string; identity?: string }, by = "in-process"): Promise<boolean> {
    const list = await this.identities.revocations();
    const changed = await list.add(target, by, new Date(this.clock.wallNow()));
    if (changed) {
      this.denyList = list.denyList();
      this.log(`revoke by ${by}: ${target.serial !== undefined ? `serial ${target.serial}` : `identity ${target.identity}`}`);
      this.bump();
    }
    return changed;
  }

  async unrevoke(target: { serial?: string; identity?: string }, by = "in-process"): Promise<boolean> {
    const list = await this.identities.revocations();
    const changed = await list.remove(target);
    if (changed) {
      this.denyList = list.denyList();
      this.log(`unrevoke by ${by}: ${target.serial !== undefined ? `serial ${target.serial}` : `identity ${target.identity}`}`);
      this.bump();
    }
    return changed;
  }

  proxyConfig(node: string): ProxyConfig | null {
    return this.pusher.state(node)?.sentConfig ?? null;
  }

  status(): ControlPlaneStatus {
    const snap = this.snapshot();
    return {
      version: this.version,
      resources: this.store.resources().length,
      services: snap.services.length,
      instances: this.registry.size,
      proxies: this.pusher.connectedCount,
      startedAt: new Date(this.startedAt).toISOString(),
      ...(this.leader !== null ? (({ replica, leader }) => ({ replica, leader }))(this.leader.status()) : {}),
      push: structuredClone(this.pusher.counters),
      refused: this.store.lastRefusals().map((r) => ({ source: r.source, at: new Date(r.at).toISOString(), diagnostics: r.diagnostics })),
    };
  }

  metrics(): string {
    const leader = this.leader?.status();
    return controlPlaneMetrics({ replica: leader?.replica ?? null, leading: leader?.leading ?? true, connectedProxies: this.pusher.connectedCount, push: this.pusher.counters });
  }

  openStream(node: string, sink: PushSink, opts: { delta?: boolean } = {}): void {
    this.pusher.connect(node, sink, opts);
    this.marks?.set(node, true);
  }

  closeStream(node: string, sink: PushSink): void {
    this.pusher.disconnect(node, sink);
    this.marks?.set(node, this.pusher.state(node)?.connected === true);
  }

  ack(msg: AckMessage): boolean {
    return this.pusher.ack(msg);
  }

  /**
   * Stop watching and pushing, end every stream and connection. Idempotent. First (unless `drain`
   * is false) every connected proxy is told to move to another replica, and the close waits until
   * they have gone (at most `DRAIN_GRACE_MS`), so no proxy learns of the stop from a broken stream.
   */
  close(opts: { drain?: boolean } = {}): Promise<void> {
    this.closing ??= (async () => {
      if (opts.drain !== false) await this.pusher.drain(DRAIN_GRACE_MS);
      this.graceTimer?.cancel();
      this.watcher?.close();
      this.kube?.close();
      this.rootCertPublisher?.close();
      this.serving?.close();
      await this.leader?.close();
      this.sharedRotation?.close();
      await this.marks?.close();
      await this.sharedRegistry?.close();
      await this.etcd?.close();
      this.pusher.close();
      this.telemetry.stop();
      await this.server?.close();
    })();
    return this.closing;
  }

  /** Re-read changed config files; each is accepted or refused on its own. */
  async reloadFiles(files: readonly string[]): Promise<void> {
    if (!this.files || this.closing) return;
    for (const { file, result } of await this.files.reload(files)) {
      if (result.accepted) {
        if (result.changed) this.bump();
        this.log(`${file}: accepted (${this.version})`);
      } else {
        this.log(`${file}: refused, keeping the last good config:\n  ${result.diagnostics.filter((d) => d.level === "error").map(formatDiagnostic).join("\n  ")}`);
      }
    }
  }

  private result(r: StoreResult, what: "apply" | "delete", source: string, by: string): ApplyResult {
    if (r.accepted && r.changed) this.bump();
    if (r.accepted) {
      const done = r.changes.filter((c) => c.action !== "unchanged").map((c) => `${c.resource} ${c.action}`);
      if (done.length > 0) this.log(`${what} by ${by} (source ${source}): ${done.join(", ")} (${this.version})`);
    }
    return { applied: r.accepted, changes: r.changes, diagnostics: r.diagnostics, version: this.version };
  }

  /** A new version: the snapshot is rebuilt lazily and a (debounced) push is scheduled. */
  private bump(): void {
    this.counter++;
    this.snap = null;
    this.pusher.schedule();
  }

  /** What applying `text` would change: the store's verdict and, per registered proxy, its config before and after. */
  dryRun(text: string, source: string): DryRun {
    const p = this.store.preview(text, source);
    const result: ApplyResult = { applied: false, changes: p.changes, diagnostics: p.diagnostics, version: this.version };
    if (!p.accepted) return { result, proxies: [] };
    const after = buildSnapshot(p.resources, this.registryNow(), { version: `${this.version}+dry-run`, mesh: this.opts.mesh });
    return { result, proxies: this.registry.list().map((r) => ({ node: r.nodeId, before: this.configFor(r.nodeId), after: this.configFor(r.nodeId, after) })) };
  }

  /**
   * The config this node would be pushed now (null for an unregistered node). The local runtime
   * reads its outbound TCP ports from it to give an app `<SVC>_SERVICE_PORT` before the sidecar
   * has even connected; the assignment is the one the push will carry. With `candidate` (a dry
   * run), the config it would get from that snapshot, recording nothing.
   */
  configFor(node: string, candidate?: Snapshot): ProxyConfig | null {
    const reg = this.registry.forNode(node) ?? this.podRegistration(node);
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
    if (pool === undefined) return this.withDenyList(translate(snap, input));
    const config = translate(snap, { ...input, tcpPortPool: pool, tcpPorts: this.tcpPorts.current(node, pool) });
    if (candidate !== undefined) return this.withDenyList(config);
    const full = this.tcpPorts.record(node, pool, outboundTcpPorts(config.listeners));
    if (full !== null) this.log(full);
    return this.withDenyList(config);
  }

  /** With --platform kubernetes: an injected pod's sidecar (`sidecar~<pod>.<namespace>`), as its pod says. */
  private podRegistration(node: string): InstanceRegistration | undefined {
    if (this.kube === null || !node.startsWith("sidecar~")) return undefined;
    const { name, namespace } = parseNodeId(node);
    return this.kubePods?.podRegistration(node, this.kube.podInstance(namespace, name), this.opts.mesh?.trustDomain ?? "cluster.local") ?? undefined;
  }

  podAccount(namespace: string, name: string): string | undefined {
    return this.kube?.podInstance(namespace, name)?.serviceAccount;
  }

  /** The CA's deny list rides along in every proxy's config (absent while it is empty). */
  private withDenyList(config: ProxyConfig): ProxyConfig {
    const d = this.denyList;
    const withCa = this.caState === null ? config : { ...config, ...this.caState };
    return d.serials.length === 0 && d.identities.length === 0 ? withCa : { ...withCa, revocations: d };
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
