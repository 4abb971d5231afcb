// The control plane process: ingest (config files with live reload, apply/delete over the API,
// instances registered by the runtime) → immutable snapshot (one version per accepted change) →
// translate per proxy → push over versioned streams with ACK/NACK. See docs/control-plane.md.
// ControlPlane is the running process and the API's backend; start.ts is its start sequence.
import { formatDiagnostic, type Diagnostic } from "../model/diagnostic.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import { systemRandom } from "../core/random.ts";
import type { ProxyConfig } from "../model/proxy-config.ts";
import type { Snapshot } from "../model/snapshot.ts";
import type { AckMessage, ApplyResult, CertificateRequest, CertificateResponse, Revocation, SecretStatus, ControlPlaneStatus, InstanceRegistration, ProxyStatus, ResourceList } from "../model/wire.ts";
import { createApiHandler, type ApiBackend } from "./api/http-api.ts";
import { controlPlaneMetrics } from "./api/metrics.ts";
import { proxyStatuses, resourceList, type ResourceFilter } from "./api/views.ts";
import type { CredentialIssuer } from "./auth/credentials.ts";
import { DashboardSessions } from "./auth/sessions.ts";
import type { ProxyPrincipal, WorkloadPrincipal } from "./auth/token.ts";
import { caDirOf, IdentityIssuer } from "./ca/index.ts";
import { MeshTrust } from "./ca/mesh-trust.ts";
import type { RotationReport } from "./ca/root-rotation.ts";
import type { SigningCA } from "./ca/signing-ca.ts";
import { dashboardBackendOf, type DryRun } from "./dashboard-backend.ts";
import type { LeaderRole } from "./leader/index.ts";
import { analyzeOptionsOf, DRAIN_GRACE_MS, ROTATION_TIMEOUT_MS, type ControlPlaneOptions } from "./options.ts";
import { ProxyConfigs } from "./push/proxy-configs.ts";
import { Pusher, type PushSink } from "./push/pusher.ts";
import { InstanceRegistry } from "./registry/instance-registry.ts";
import { Registrations } from "./registry/registrations.ts";
import { TcpPortAssignments } from "./registry/tcp-port-assignments.ts";
import { noParts, startControlPlane, type StartedParts, type StartHost } from "./start.ts";
import { ChangeLog } from "./store/change-log.ts";
import { ConfigStore, type StoreResult } from "./store/config-store.ts";
import { TelemetryService } from "./telemetry/index.ts";

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
  /** What the start made: credentials, config files and their watch, the endpoint, etcd, Kubernetes. */
  private readonly parts: StartedParts = noParts();
  /** Warnings of the config loaded at start (e.g. AMM1014: security config not enforced), for the CLI to print. */
  startupDiagnostics: readonly Diagnostic[] = [];
  private closing: Promise<void> | null = null;
  /** Per node: the TCP port pool it registered and what was given out of it (see configFor). */
  private readonly tcpPorts = new TcpPortAssignments();
  /** Registered instances: by the runtime, restored from the state dir, shared through etcd. */
  private readonly registrations: Registrations;
  /** The mesh CA (docs/security.md). */
  readonly identities: IdentityIssuer;
  /** The trust bundle, signing root and deny list every proxy's config carries. */
  private readonly trust: MeshTrust;

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
    this.configs = new ProxyConfigs({ resources: () => this.store.resources(), registry: this.registry, tcpPorts: this.tcpPorts, mesh: opts.mesh, pods: () => this.parts.kube, stamp: (c) => this.trust.stamp(c), log });
    this.trust = new MeshTrust({ identities: this.identities, clock: this.clock, proxies: () => this.pusher.allStates(), install: (ca, reissue) => this.installCa(ca, reissue), changed, log });
  }

  /** Load and validate the config paths, listen, watch the files. Throws ConfigRefusedError on invalid config. */
  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const cp = new ControlPlane(opts);
    await startControlPlane(cp.startHost(), cp.parts);
    return cp;
  }

  /** What the start sequence (start.ts) reads and calls. */
  private startHost(): StartHost {
    return {
      opts: this.opts,
      store: this.store,
      changes: this.changes,
      clock: this.clock,
      identities: this.identities,
      sessions: this.sessions,
      registrations: this.registrations,
      tcpPorts: this.tcpPorts,
      trust: this.trust,
      pusher: this.pusher,
      version: () => this.version,
      bump: () => this.bump(),
      closing: () => this.closing !== null,
      setStartupDiagnostics: (d) => (this.startupDiagnostics = d),
      handler: (issuer) => {
        const api = createApiHandler(this);
        const dashboard = this.opts.dashboard?.(dashboardBackendOf(this, issuer));
        return (req, res, principal) => {
          if (!this.telemetry.handle(req, res) && dashboard?.(req, res, principal) !== true) api(req, res, principal);
        };
      },
      reloadFiles: (files) => void this.reloadFiles(files),
      close: (o) => this.close(o),
      log: (l) => this.log(l),
    };
  }

  get port(): number {
    return this.parts.endpoint?.port ?? 0;
  }

  get url(): string {
    const host = this.opts.host ?? "127.0.0.1";
    return `https://${host.includes(":") ? `[${host}]` : host}:${this.port}`;
  }

  /** The admin credential (what the CLI sends); written to `<stateDir>/admin-token` when there is one. */
  get adminToken(): string {
    return (this.parts.issuer as CredentialIssuer).adminToken;
  }

  get adminTokenFile(): string | null {
    return this.parts.issuer?.adminTokenFile ?? null;
  }

  /**
   * A credential for one sidecar or gateway process, bound to its node id, namespace and service
   * account; it supersedes the node's earlier ones. The runtime mints one per process start.
   */
  mintProxyToken(p: { node: string; namespace: string; serviceAccount: string }, by = "runtime"): string {
    if (by !== "runtime") this.log(`credential for ${p.node} (${p.namespace}/${p.serviceAccount}) issued to ${by}`);
    return (this.parts.issuer as CredentialIssuer).mintProxyToken(p);
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
    const changed = this.registrations.register(namespace, name, reg);
    // Its sidecar starts next: its first full state is prepared while it does (Pusher.expect).
    if (reg.instance.sidecar === true) this.pusher.expect(reg.nodeId);
    return changed;
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
    return this.parts.replica?.leader ?? null;
  }

  /** Sign with `ca` from now on; its roots go to every proxy, the root file, and this server's client-certificate check. */
  private async installCa(ca: SigningCA, reissueServing: boolean): Promise<void> {
    this.trust.adopt(ca);
    this.parts.kube?.setBundle(this.trustBundle);
    await this.trust.keepRootFile();
    await this.parts.endpoint?.trustRoots(this.trustBundle, reissueServing);
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
    this.parts.replica?.mark(node, true);
  }

  closeStream(node: string, sink: PushSink): void {
    this.pusher.disconnect(node, sink);
    this.parts.replica?.mark(node, this.pusher.state(node)?.connected === true);
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
      this.parts.watcher?.close();
      this.parts.kube?.close();
      this.parts.endpoint?.stopRenewing();
      await this.parts.replica?.close();
      this.pusher.close();
      this.telemetry.stop();
      await this.parts.endpoint?.close();
    })();
    return this.closing;
  }

  /** Re-read changed config files; each is accepted or refused on its own. */
  async reloadFiles(files: readonly string[]): Promise<void> {
    if (!this.parts.files || this.closing) return;
    for (const { file, result } of await this.parts.files.reload(files)) {
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
    return this.parts.kube?.podAccount(namespace, name);
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }
}
