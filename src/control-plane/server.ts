// The control plane process: ingest (config files with live reload, apply/delete over the API,
// instances registered by the runtime) → immutable snapshot (one version per accepted change) →
// translate per proxy → push over versioned streams with ACK/NACK. See docs/control-plane.md.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatDiagnostic, type Diagnostic } from "../config/diagnostic.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import { systemRandom } from "../core/random.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { Snapshot } from "../model/snapshot.ts";
import type { AckMessage, ApplyResult, CertificateRequest, CertificateResponse, Revocation, SecretStatus, ControlPlaneStatus, InstanceRegistration, ProxyStatus, ResourceList } from "../model/wire.ts";
import { ApiEndpoint } from "./api/api-endpoint.ts";
import { createApiHandler, type ApiBackend } from "./api/http-api.ts";
import { controlPlaneMetrics } from "./api/metrics.ts";
import { proxyStatuses, resourceList, type ResourceFilter } from "./api/views.ts";
import { CredentialIssuer } from "./auth/credentials.ts";
import { DashboardSessions } from "./auth/sessions.ts";
import { createDashboardHandler } from "../dashboard/server/handler.ts";
import type { ProxyPrincipal, WorkloadPrincipal } from "./auth/token.ts";
import { caDirOf, IdentityIssuer } from "./ca/index.ts";
import { MeshTrust } from "./ca/mesh-trust.ts";
import type { RotationReport } from "./ca/root-rotation.ts";
import type { SigningCA } from "./ca/signing-ca.ts";
import { ProxyConfigs } from "./push/proxy-configs.ts";
import { Pusher, type PushSink } from "./push/pusher.ts";
import { InstanceRegistry } from "./registry/instance-registry.ts";
import { Registrations } from "./registry/registrations.ts";
import { RegistryFile } from "./registry/registry-file.ts";
import { ChangeLog } from "./store/change-log.ts";
import { ConfigStore, type StoreResult } from "./store/config-store.ts";
import { FileSource } from "./store/file-source.ts";
import type { KubernetesPlatform } from "./kubernetes/platform.ts";
import { FileWatcher } from "./store/file-watcher.ts";
import { StoreFile, StoreFileError } from "./store/store-file.ts";
import { TelemetryService } from "./telemetry/index.ts";
import { TcpPortAssignments } from "./registry/tcp-port-assignments.ts";
import { dashboardBackendOf, type DryRun } from "./dashboard-backend.ts";
import type { LeaderRole } from "./leader/index.ts";
import type { EtcdReplica } from "./replica/etcd-replica.ts";
import { analyzeOptionsOf, ConfigRefusedError, DEFAULT_CONTROL_PLANE_PORT, DEFAULT_REGISTRATION_GRACE_MS, DRAIN_GRACE_MS, ROOT_CERT_FILE, ROTATION_TIMEOUT_MS, type ControlPlaneOptions } from "./options.ts";


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
  /** The snapshot of each version, translated per proxy. */
  private readonly configs: ProxyConfigs;
  /** The API, push stream and dashboard listener, once started. */
  private endpoint: ApiEndpoint | null = null;
  private files: FileSource | null = null;
  /** Warnings of the config loaded at start (e.g. AMM1014: security config not enforced), for the CLI to print. */
  startupDiagnostics: readonly Diagnostic[] = [];
  private watcher: FileWatcher | null = null;
  private closing: Promise<void> | null = null;
  /** Per node: the TCP port pool it registered and what was given out of it (see configFor). */
  private readonly tcpPorts = new TcpPortAssignments();
  /** Registered instances: by the runtime, restored from the state dir, shared through etcd. */
  private readonly registrations: Registrations;
  private issuer: CredentialIssuer | null = null;
  /** The mesh CA (docs/security.md). */
  readonly identities: IdentityIssuer;
  /** The trust bundle, signing root and deny list every proxy's config carries. */
  private readonly trust: MeshTrust;
  /** With --store etcd://…: the shared store, registry, rotations and the leader role. */
  private replica: EtcdReplica | null = null;
  /** With --platform kubernetes: the API server's config and pods. */
  private kube: KubernetesPlatform | null = null;

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
      configFor: (node) => this.configs.configFor(node),
      beforeSend: (node, cfg) => (this.beforePush ? this.beforePush(node, cfg) : cfg),
      log: (l) => this.log(l),
    });
    const log = (l: string): void => this.log(l);
    const changed = (): void => this.bump();
    this.registrations = new Registrations({ registry: this.registry, tcpPorts: this.tcpPorts, clock: this.clock, changed, log });
    this.configs = new ProxyConfigs({ resources: () => this.store.resources(), registry: this.registry, tcpPorts: this.tcpPorts, mesh: opts.mesh, pods: () => this.kube, stamp: (c) => this.trust.stamp(c), log });
    this.trust = new MeshTrust({ identities: this.identities, clock: this.clock, proxies: () => this.pusher.allStates(), install: (ca, reissue) => this.installCa(ca, reissue), changed, log });
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
      await cp.registrations.restore(new RegistryFile(opts.stateDir), opts.registrationGraceMs ?? DEFAULT_REGISTRATION_GRACE_MS);
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
      await cp.loadIdentities();
    } catch (e) {
      cp.abandon();
      throw e;
    }
    await cp.serve();
    if (cp.replica !== null) {
      try {
        await cp.replica.markStreams(cp.port, () => cp.pusher.allStates().filter((s) => s.connected).map((s) => s.node), (l) => cp.log(l));
      } catch (e) {
        await cp.close({ drain: false });
        throw e;
      }
      await cp.replica.startRole(cp.clock, () => cp.trust.host(), (l) => cp.log(l));
      cp.trust.shared = cp.replica.sharedRotation;
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

  /**
   * The admin and proxy credentials, the CA (a broken CA bundle stops the start), its ledger and
   * deny list (shared through etcd with --store), the trust bundle in the root file and, on
   * Kubernetes, in every namespace.
   */
  private async loadIdentities(): Promise<void> {
    const opts = this.opts;
    this.issuer = opts.stateDir !== undefined ? await CredentialIssuer.fromStateDir(opts.stateDir, () => this.clock.wallNow()) : CredentialIssuer.ephemeral(() => this.clock.wallNow());
    // A CA with files (plug-in or kept in the state dir) is loaded or created now, so a broken
    // bundle stops the start; an in-memory one is made on the first certificate request.
    if (this.replica?.sharesRoot === true) await this.replica.shareRoot(caDirOf(opts.stateDir as string), (l) => this.log(l));
    if (opts.cacertsDir !== undefined || opts.stateDir !== undefined) await this.identities.ca();
    const revocations = await this.identities.revocations();
    if (this.replica !== null) {
      const registrations = this.registrations;
      await this.replica.shareIdentities(this.identities, revocations, { put: (ns, n, r) => void registrations.adopt(ns, n, r), remove: (ns, n) => void registrations.adoptRemoval(ns, n) }, () => {
        this.trust.denyFrom(revocations);
        this.log(`revocation list changed in etcd (${revocations.entries().length} entries)`);
        this.bump();
      }, (l) => this.log(l));
      this.registrations.shared = this.replica.sharedRegistry;
    }
    this.trust.denyFrom(revocations);
    await this.identities.ledger();
    this.trust.trustBundle = (await this.identities.ca()).roots.join("");
    if (opts.stateDir !== undefined) {
      this.trust.rootCertFile = join(opts.stateDir, ROOT_CERT_FILE);
      await writeFile(this.trust.rootCertFile, this.trust.trustBundle);
    }
    if (this.kube !== null) {
      await this.kube.publishRootCert(this.trust.trustBundle);
      await this.kube.publishAdminToken(opts.kubernetes?.namespace ?? "istio-system", this.adminToken);
    }
  }

  /** The API, the push stream and the dashboard, over TLS only, with a certificate from the mesh CA. */
  private async serve(): Promise<void> {
    const api = createApiHandler(this);
    const dashboard = createDashboardHandler(dashboardBackendOf(this, this.issuer as CredentialIssuer));
    try {
      this.endpoint = await ApiEndpoint.start({
        host: this.opts.host ?? "127.0.0.1",
        port: this.opts.port ?? DEFAULT_CONTROL_PLANE_PORT,
        allowedHosts: this.opts.allowedHosts,
        clock: this.clock,
        ca: () => this.identities.ca(),
        roots: () => this.trustBundle,
        issuer: this.issuer as CredentialIssuer,
        sessions: this.sessions,
        reviewToken: this.kube?.reviewToken,
        handle: (req, res, principal) => {
          if (!this.telemetry.handle(req, res) && !dashboard(req, res, principal)) api(req, res, principal);
        },
        log: (l) => this.log(l),
      });
    } catch (e) {
      this.abandon();
      throw e;
    }
  }

  /** A start that failed: stop what was started so far (the push timers, the etcd client). */
  private abandon(): void {
    this.registrations.close();
    this.kube?.close();
    this.pusher.close();
    void this.replica?.etcd.close();
  }

  /** List the API server's config and pods (the start waits for it), then follow their changes. */
  private async attachKubernetes(kubeconfig: string | undefined): Promise<void> {
    // Loaded only here: nothing of the Kubernetes platform costs a file-based control plane.
    const { KubernetesPlatform } = await import("./kubernetes/index.ts");
    const first = await KubernetesPlatform.attach(kubeconfig, { store: this.store, clock: this.clock, log: (l) => this.log(l), changed: () => this.bump(), podGone: (node) => this.tcpPorts.forget(node) }, (k) => (this.kube = k));
    this.startupDiagnostics = first.diagnostics;
  }

  /** Adopt what etcd holds, save every later change there, and adopt what other replicas write. */
  private async attachEtcd(store: string, paths: readonly string[]): Promise<void> {
    const { EtcdReplica } = await import("./replica/etcd-replica.ts");
    const attached = await EtcdReplica.attach(this.opts, store, paths, {
      store: this.store,
      changes: this.changes,
      random: this.opts.random ?? systemRandom,
      log: (l) => this.log(l),
      closing: () => this.closing !== null,
      changed: () => {
        this.bump();
        return this.version;
      },
    }, (replica) => {
      this.replica = replica;
      this.trust.replicated = true;
    });
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
    return this.endpoint?.port ?? 0;
  }

  get url(): string {
    const host = this.opts.host ?? "127.0.0.1";
    return `https://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
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
    return this.configs.version;
  }

  /** The snapshot of the current version (built on first use after a change). */
  snapshot(): Snapshot {
    return this.configs.snapshot();
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
    return this.registrations.register(namespace, name, reg);
  }

  deregister(namespace: string, name: string): boolean {
    return this.registrations.deregister(namespace, name);
  }

  resources(filter: ResourceFilter = {}): ResourceList {
    return resourceList(this.store, this.changes, filter);
  }

  proxies(): ProxyStatus[] {
    return proxyStatuses(this.pusher.allStates(), this.registry, this.clock);
  }

  /** Sign a workload certificate for the proxy whose credential made the request. */
  issueCertificate(p: ProxyPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    return this.identities.issue(p, req);
  }

  renewCertificate(w: WorkloadPrincipal, req: CertificateRequest): Promise<CertificateResponse> {
    return this.identities.renew(w, req);
  }

  /** `amime ca rotate-root` (ca/mesh-trust.ts). */
  rotateRoot(by = "in-process", timeoutMs = ROTATION_TIMEOUT_MS): Promise<RotationReport> {
    return this.trust.rotateRoot(by, timeoutMs);
  }

  /** The roots the control plane's certificate chains to (what clients verify it with), PEM. */
  get trustBundle(): string {
    return this.trust.trustBundle;
  }

  /** `<stateDir>/root-cert.pem`; null without a state dir. */
  get rootCertFile(): string | null {
    return this.trust.rootCertFile;
  }

  /** With --store: the leader election and the work only the leader does. */
  get leader(): LeaderRole | null {
    return this.replica?.leader ?? null;
  }

  /** Sign with `ca` from now on; its roots go to every proxy, the root file, and this server's client-certificate check. */
  private async installCa(ca: SigningCA, reissueServing: boolean): Promise<void> {
    this.trust.adopt(ca);
    this.kube?.setBundle(this.trustBundle);
    await this.trust.keepRootFile();
    await this.endpoint?.trustRoots(this.trustBundle, reissueServing);
    this.bump();
  }

  secret(node: string): SecretStatus | null {
    return this.identities.secret(node);
  }

  async revocations(): Promise<readonly Revocation[]> {
    return (await this.identities.revocations()).entries();
  }

  /** `amime ca revoke` (ca/mesh-trust.ts). */
  revoke(target: { serial?: string; identity?: string }, by = "in-process"): Promise<boolean> {
    return this.trust.revoke(target, by);
  }

  unrevoke(target: { serial?: string; identity?: string }, by = "in-process"): Promise<boolean> {
    return this.trust.unrevoke(target, by);
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
    this.replica?.mark(node, true);
  }

  closeStream(node: string, sink: PushSink): void {
    this.pusher.disconnect(node, sink);
    this.replica?.mark(node, this.pusher.state(node)?.connected === true);
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
      this.registrations.close();
      this.watcher?.close();
      this.kube?.close();
      this.endpoint?.stopRenewing();
      await this.replica?.close();
      this.pusher.close();
      this.telemetry.stop();
      await this.endpoint?.close();
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
    this.configs.bump();
    this.pusher.schedule();
  }

  /** What applying `text` would change: the store's verdict and, per registered proxy, its config before and after. */
  dryRun(text: string, source: string): DryRun {
    const p = this.store.preview(text, source);
    const result: ApplyResult = { applied: false, changes: p.changes, diagnostics: p.diagnostics, version: this.version };
    if (!p.accepted) return { result, proxies: [] };
    const after = this.configs.candidate(p.resources);
    return { result, proxies: this.registry.list().map((r) => ({ node: r.nodeId, before: this.configFor(r.nodeId), after: this.configFor(r.nodeId, after) })) };
  }

  /** The config this node would be pushed now (push/proxy-configs.ts); with `candidate`, from that snapshot. */
  configFor(node: string, candidate?: Snapshot): ProxyConfig | null {
    return this.configs.configFor(node, candidate);
  }

  podAccount(namespace: string, name: string): string | undefined {
    return this.kube?.podAccount(namespace, name);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
