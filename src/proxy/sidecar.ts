// Sidecar: the proxy process's engine. Starts the listeners of a ProxyConfig, swaps configs
// atomically (requests in flight finish on the config they started with; a config that fails
// its checks is rejected and the last good one stays), and closes gracefully.
import { systemClock, type Clock } from "../core/clock.ts";
import { hostName } from "../core/host-name.ts";
import { systemRandom, type Random } from "../core/random.ts";
import type { Listener, ProxyConfig } from "../model/proxy-config.ts";
import { AdminServer } from "./admin/admin-server.ts";
import { StatusServer } from "./admin/status-server.ts";
import { checkProxyConfig } from "./config-check.ts";
import type { MeshCredentials } from "./identity/mesh-credentials.ts";
import type { SecretStore } from "./tls/secrets/secret-store.ts";
import { UpstreamTlsContexts } from "./tls/upstream-contexts.ts";
import { DEFAULT_LIMITS, type FilterChain, type ProxyContext, type ProxyLimits, type RequestObserver, type Runtime } from "./request/context.ts";
import { HttpListener } from "./listener/http-listener.ts";
import { SidecarTelemetry } from "./telemetry/index.ts";
import { buildChains } from "./http/filters/registry.ts";
import { loadRoomsFor } from "./rooms/load.ts";
import { buildNetworkChains } from "./tcp/filters/registry.ts";
import { TcpListener } from "./listener/tcp-listener.ts";
import { RouteTable } from "./router/index.ts";
import { ClusterManager } from "./upstream/cluster-manager.ts";
import { DownstreamStats } from "./upstream/cluster-stats.ts";
import { FilterStats } from "./request/filter-stats.ts";
import { IdleGc } from "./memory/idle-gc.ts";

export interface SidecarOptions {
  clock?: Clock;
  random?: Random;
  observer?: RequestObserver;
  limits?: Partial<ProxyLimits>;
  /** Admin listener port (0 = any free port); absent = no admin listener. */
  adminPort?: number;
  /** Where the admin listener binds (default 127.0.0.1; the netns runtime binds the pod's IP). */
  adminAddress?: string;
  /** Read-only status listener port (Istio's 15021: /healthz/ready, /listeners); absent = none. */
  statusPort?: number;
  /** Where the status listener binds (default 0.0.0.0, as Istio's). */
  statusAddress?: string;
  /** Where the Prometheus (metrics) listener binds when the config does not say (default: the node ip). */
  prometheusAddress?: string;
  /** The workload certificate (mutual TLS: inbound termination, ISTIO_MUTUAL origination). */
  mesh?: MeshCredentials;
  /** Secrets for `credentialName` (gateway certificates, DestinationRule client certificates). */
  secrets?: SecretStore;
  /**
   * The caller gives the config away (parsed for this call alone, as a config file or a whole-config
   * push, or a delta push's resources, which the push client only reads again): the sidecar completes
   * it in place (equal strings made one, Istio's defaults filled; idempotent) and keeps it instead
   * of a copy — one config tree in memory, not two (issue 15).
   */
  adoptConfig?: boolean;
  /**
   * A full garbage collection (V8's `gc`, which the sidecar's --expose-gc flag exposes): the sidecar
   * runs it once when it goes quiet after its heap grew (memory/idle-gc.ts). Absent: never.
   */
  gc?: () => void;
}

export type ApplyResult = { ok: true; version: string } | { ok: false; error: string };

type AnyListener = HttpListener | TcpListener;

/** One listener's row of `listenerStats()` (admin /stats, proxy metrics). */
export interface ListenerStatsRow {
  name: string;
  port: number;
  activeConnections: number;
  downstream_cx_overflow: number;
  downstream_global_cx_overflow: number;
  sslHandshakes?: number;
  sslErrors?: number;
  sslSessionReused?: number;
}

export class Sidecar {
  readonly ctx: ProxyContext;
  private readonly listeners = new Map<string, AnyListener>();
  private admin: AdminServer | null = null;
  private status: StatusServer | null = null;
  readonly prometheusAddress: string | undefined;
  private ready = false;
  private draining = false;
  private lastError: string | null = null;
  /** Metrics listener, access log and tracing; null when the config has no `telemetry`. */
  telemetry: SidecarTelemetry | null = null;
  /** Collects once when the proxy goes quiet after its heap grew; null without SidecarOptions.gc. */
  idleGc: IdleGc | null = null;

  private constructor(runtime: Runtime, opts: SidecarOptions) {
    this.prometheusAddress = opts.prometheusAddress;
    this.ctx = {
      clock: opts.clock ?? systemClock,
      random: opts.random ?? systemRandom,
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
      downstream: new DownstreamStats(),
      filterStats: new FilterStats(),
      hostname: hostName(),
      runtime,
      observer: opts.observer,
      telemetry: undefined,
      activeMirrors: 0,
      downstreamActive: () => {
        let n = 0;
        for (const l of this.listeners.values()) n += l.activeConnections;
        return n;
      },
      mesh: opts.mesh,
      secrets: opts.secrets,
    };
  }

  /** Check the config, bind every listener (and the admin listener), resolve once ready. */
  static async start(config: unknown, opts: SidecarOptions = {}): Promise<Sidecar> {
    const checked = checkProxyConfig(config, opts.adoptConfig === true);
    await loadRoomsFor(checked);
    const clock = opts.clock ?? systemClock;
    const random = opts.random ?? systemRandom;
    // Upstream TLS files and secrets (DestinationRule SIMPLE / MUTUAL), watched for the proxy's life.
    const tlsContexts = new UpstreamTlsContexts({ secrets: opts.secrets, namespace: checked.node.namespace || "default", log: (l) => process.stderr.write(`amime proxy: ${l}\n`) });
    const runtime = buildRuntime(checked, random, clock, undefined, opts.mesh, tlsContexts);
    const s = new Sidecar(runtime, opts);
    opts.mesh?.setDenyList(checked.revocations);
    opts.mesh?.setTrustBundle(checked.trustBundle);
    try {
      if (opts.adminPort !== undefined) {
        s.admin = new AdminServer(s);
        await s.admin.listen(opts.adminPort, opts.adminAddress);
      }
      if (opts.statusPort !== undefined) {
        s.status = new StatusServer(s);
        await s.status.listen(opts.statusPort, opts.statusAddress);
      }
      await s.syncListeners(checked.listeners);
    } catch (e) {
      await s.close(0);
      throw e;
    }
    s.telemetry = await SidecarTelemetry.sync(s, null);
    if (opts.gc !== undefined) {
      s.idleGc = new IdleGc({ clock, activity: () => s.activity(), heapBytes: () => process.memoryUsage().heapTotal, gc: opts.gc });
      s.idleGc.start();
    }
    s.ready = true;
    return s;
  }

  get config(): ProxyConfig {
    return this.ctx.runtime.config;
  }

  /** Downstream connections and requests so far, HTTP and TCP (what IdleGc watches). */
  activity(): number {
    const d = this.ctx.downstream;
    let n = d.downstream_cx_total + d.downstream_rq_total;
    for (const l of this.listeners.values()) if (l instanceof TcpListener) n += l.stats.downstream_cx_total;
    return n;
  }

  get runtime(): Runtime {
    return this.ctx.runtime;
  }

  /**
   * Envoy's LIVE: the config is applied, every listener is bound, and (a proxy given mesh
   * credentials, i.e. connected to the control plane) the workload certificate is loaded, as
   * Envoy's listeners stay warming until SDS delivers theirs. Before it, inbound mTLS handshakes
   * and ISTIO_MUTUAL upstream connections fail, so a runtime must not count the proxy ready.
   */
  get isReady(): boolean {
    return this.ready && !this.draining && (this.ctx.mesh === undefined || this.ctx.mesh.current !== null);
  }

  get lastRejection(): string | null {
    return this.lastError;
  }

  /** Listener name → bound port. */
  ports(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, l] of this.listeners) out[name] = l.port;
    return out;
  }

  get adminPort(): number | undefined {
    return this.admin?.port;
  }

  get statusPort(): number | undefined {
    return this.status?.port;
  }

  /** Per listener; inbound listeners that terminate mutual TLS add Envoy's `ssl.handshake` and `ssl.connection_error`. */
  listenerStats(): ListenerStatsRow[] {
    return [...this.listeners.values()].map((l) => {
      const out: ListenerStatsRow = { name: l.config.name, port: l.port, activeConnections: l.activeConnections, ...l.connectionStats };
      const counts = l instanceof HttpListener ? (l.dispatcher.terminatesMeshTls ? l.dispatcher.stats : null) : l.meshTls !== null ? l.mtlsStats : null;
      if (counts !== null) {
        out.sslHandshakes = counts.mtls;
        out.sslErrors = counts.mtlsRefused;
        out.sslSessionReused = counts.sessionReused;
      }
      return out;
    });
  }

  /** Swap to a new config. Invalid config changes nothing and is reported. `adopt`: as SidecarOptions.adoptConfig. */
  async applyConfig(next: unknown, adopt = false): Promise<ApplyResult> {
    let checked: ProxyConfig;
    let tables: Map<string, RouteTable>;
    let httpFilters: Map<string, FilterChain>;
    try {
      checked = checkProxyConfig(next, adopt);
      // The lazy rooms it uses are loaded first: one that cannot be loaded rejects the config.
      await loadRoomsFor(checked);
      // Route tables and filter chains compile (and may throw) before any shared cluster state is touched.
      tables = compileRoutes(checked);
      httpFilters = buildChains(checked);
      buildNetworkChains(checked);
    } catch (e) {
      this.lastError = (e as Error).message;
      return { ok: false, error: this.lastError };
    }
    // Listeners on new ports are bound before anything changes: a port that cannot be bound
    // (in use, no permission) NACKs the config and leaves the running one exactly as it was.
    let fresh: Map<string, AnyListener>;
    try {
      fresh = await this.bindNewListeners(checked.listeners);
    } catch (e) {
      this.lastError = `listeners: ${(e as Error).message}`;
      return { ok: false, error: this.lastError };
    }
    this.ctx.runtime = { config: checked, routeTables: tables, clusters: new ClusterManager(checked, this.ctx.random, this.ctx.clock, this.ctx.runtime.clusters), httpFilters };
    this.lastError = null;
    try {
      await this.syncListeners(checked.listeners, fresh);
    } catch (e) {
      // Only a listener re-bound on the port it already held can get here (a changed binding).
      this.lastError = `listeners: ${(e as Error).message}`;
      return { ok: false, error: this.lastError };
    }
    // The CA's deny list: connections authenticated by a certificate it now names are closed,
    // inbound (the client's) and outbound (the server's).
    this.ctx.mesh?.setDenyList(checked.revocations);
    this.ctx.mesh?.setTrustBundle(checked.trustBundle);
    for (const l of this.listeners.values()) {
      if (l instanceof HttpListener) {
        l.dispatcher.closeRevoked(checked.revocations);
        l.tls?.closeRevoked(checked.revocations);
      } else {
        l.meshTls?.closeRevoked(checked.revocations);
        l.tls?.closeRevoked(checked.revocations);
      }
    }
    this.telemetry = await SidecarTelemetry.sync(this, this.telemetry);
    return { ok: true, version: checked.version };
  }

  /**
   * Bind the wanted listeners whose address:port no current listener holds. All or nothing: on a
   * failure the ones already bound are closed again and the error is thrown.
   */
  private async bindNewListeners(wanted: readonly Listener[]): Promise<Map<string, AnyListener>> {
    const held = new Set<string>();
    for (const l of this.listeners.values()) held.add(`${l.config.address}:${l.port}`);
    const fresh = new Map<string, AnyListener>();
    try {
      for (const l of wanted) {
        const cur = this.listeners.get(l.name);
        if (cur !== undefined && sameBinding(cur, l)) continue;
        if (l.port !== 0 && held.has(`${l.address}:${l.port}`)) continue; // re-bound after the old one closes
        fresh.set(l.name, await this.bindListener(l));
      }
    } catch (e) {
      await Promise.all([...fresh.values()].map((x) => x.close(0)));
      throw e;
    }
    return fresh;
  }

  /** Stop accepting; connections close after their current response (readiness turns 503). */
  async drain(graceMs = 5000): Promise<void> {
    this.draining = true;
    await Promise.all([...this.listeners.values()].map((l) => l.close(graceMs)));
  }

  /** Graceful shutdown: drain listeners, close pools, the admin and status listeners. */
  async close(graceMs = 5000): Promise<void> {
    this.ready = false;
    this.idleGc?.stop();
    await this.drain(graceMs);
    this.listeners.clear();
    this.ctx.runtime.clusters.close();
    await this.admin?.close();
    await this.status?.close();
    await this.telemetry?.close();
  }

  private async syncListeners(wanted: readonly Listener[], fresh: ReadonlyMap<string, AnyListener> = new Map()): Promise<void> {
    const keep = new Set<string>();
    const replaced: AnyListener[] = [];
    for (const l of wanted) {
      const cur = this.listeners.get(l.name);
      if (cur !== undefined && sameBinding(cur, l)) {
        // Same sockets; connection limits and the head timeout follow the new config.
        cur.retune(l);
        keep.add(l.name);
        continue;
      }
      const bound = fresh.get(l.name);
      if (bound !== undefined) {
        if (cur !== undefined) replaced.push(cur);
        this.listeners.set(l.name, bound);
        keep.add(l.name);
      }
    }
    // Close what is gone or replaced, then bind the changed listeners that reuse a port.
    for (const [name, l] of this.listeners) {
      if (!keep.has(name)) {
        this.listeners.delete(name);
        replaced.push(l);
      }
    }
    // close() unbinds at once and drains connections in the background (up to its grace time).
    for (const l of replaced) void l.close();
    for (const l of wanted) {
      if (keep.has(l.name)) continue;
      this.listeners.set(l.name, await this.bindListener(l));
    }
  }

  /**
   * Create and bind one listener. A port this proxy itself just closed (a listener replaced by a
   * push) can still be held for a moment by its closing socket: EADDRINUSE is retried briefly
   * (25, 50, 100, 200, 400 ms) before it counts as a real conflict.
   */
  private async bindListener(l: Listener): Promise<AnyListener> {
    for (let attempt = 0; ; attempt++) {
      const created: AnyListener = l.protocol === "tcp" ? new TcpListener(l, this.ctx) : new HttpListener(l, this.ctx);
      try {
        await created.listen();
        return created;
      } catch (e) {
        void created.close(0);
        if ((e as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt >= 4) throw e;
        // Real time even under a fake Clock: the wait is for the kernel to release the port.
        await new Promise<void>((r) => systemClock.setTimeout(r, 25 << attempt));
      }
    }
  }
}

export function buildRuntime(config: ProxyConfig, random: Random, clock: Clock, previous?: ClusterManager, mesh?: MeshCredentials, tlsContexts?: UpstreamTlsContexts): Runtime {
  buildNetworkChains(config);
  const clusters = new ClusterManager(config, random, clock, previous, undefined, mesh ?? previous?.mesh, tlsContexts ?? previous?.tlsContexts);
  return { config, routeTables: compileRoutes(config), clusters, httpFilters: buildChains(config) };
}

function compileRoutes(config: ProxyConfig): Map<string, RouteTable> {
  const m = new Map<string, RouteTable>();
  for (const rc of config.routes) m.set(rc.name, new RouteTable(rc));
  return m;
}

/**
 * The running listener already serves `b`: same address, protocol, direction, routes and TLS, and
 * the same port — the configured one, or the one it actually bound when it was asked for port 0
 * (a config that names the bound port, as pushes after a port-0 start do, keeps the listener).
 */
function sameBinding(running: AnyListener, b: Listener): boolean {
  const a = running.config;
  return a.address === b.address && (a.port === b.port || running.port === b.port) && a.protocol === b.protocol && a.direction === b.direction && a.routeConfigName === b.routeConfigName
    // Protocols: new certificates need a new listener (TCP routes are read per connection).
    && JSON.stringify(a.tls) === JSON.stringify(b.tls)
    // PeerAuthentication mode: read when the listener is made.
    && a.mtls === b.mtls;
}
