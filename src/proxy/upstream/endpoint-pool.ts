// EndpointPool: the keep-alive connections to one endpoint (host) of a cluster. Idle connections
// are reused last-in-first-out (the most recently used socket is the least likely to have been
// closed by the upstream's idle timer). Cluster-wide limits (maxConnections, maxPendingRequests)
// are checked against the shared ClusterStats, as Envoy's ConnPoolImplBase does: a request that
// finds no idle connection is *pending* until it holds a connected one (while a new connection
// is being opened for it, or while it waits in this pool's queue because the connection limit is
// reached); when the pending limit is already reached it overflows at once (UO,
// upstream_rq_pending_overflow). Every connection the limit prevents counts upstream_cx_overflow.
// Idle connections are closed after idleTimeoutMs by one coarse timer per pool (not a socket
// timer per connection, which Node re-arms on every read and write).
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { Host } from "./balance/balancer.ts";
import type { ClusterStats } from "./cluster-stats.ts";
import type { Dialer } from "./dialer.ts";
import { UpstreamConnection, type ConnectionOwner, type UpstreamSink } from "./upstream-connection.ts";
import type { ConnectionPoolConfig, UpstreamTlsConfig } from "../../model/proxy-config.ts";

export interface PoolLimits {
  readonly poolConfig: ConnectionPoolConfig;
  readonly stats: ClusterStats;
  readonly clock: Clock;
  /** Opens the pool's sockets (ClusterState: netDialer unless a test injects fakes). */
  readonly dial: Dialer;
  /** The cluster (for its TLS settings; ClusterState provides it). */
  readonly config?: { readonly tls?: UpstreamTlsConfig | undefined };
}

export class EndpointPool implements ConnectionOwner {
  readonly host: Host;
  private readonly limits: PoolLimits;
  private idle: UpstreamConnection[] = [];
  private waiting: UpstreamSink[] = [];
  /** Open connections (connecting, busy or idle). */
  total = 0;
  /** The pool belongs to a cluster/host that left the config: close connections as they free up. */
  private draining = false;
  /** Closes connections idle for idleTimeoutMs; armed while the idle list is (or was) non-empty. */
  private idleTimer: TimerHandle | null = null;

  /** Whether this pool's connections originate the cluster's TLS (auto mTLS: only to tlsMode=istio endpoints). */
  readonly originatesTls: boolean;

  constructor(host: Host, limits: PoolLimits, originatesTls = true) {
    this.host = host;
    this.limits = limits;
    this.originatesTls = originatesTls;
  }

  /** Protocols hook: the cluster's TLS origination settings, read by UpstreamConnection. */
  get tls(): UpstreamTlsConfig | undefined {
    return this.originatesTls ? this.limits.config?.tls : undefined;
  }

  get dial(): Dialer {
    return this.limits.dial;
  }

  get clock(): Clock {
    return this.limits.clock;
  }

  get connectTimeoutMs(): number {
    return this.limits.poolConfig.connectTimeoutMs;
  }

  get idleTimeoutMs(): number {
    return this.limits.poolConfig.idleTimeoutMs;
  }

  get maxRequestsPerConnection(): number {
    return this.limits.poolConfig.maxRequestsPerConnection;
  }

  get maxConnectionDurationMs(): number {
    return this.limits.poolConfig.maxConnectionDurationMs;
  }

  get keepAliveDelayMs(): number | undefined {
    const ka = this.limits.poolConfig.tcpKeepalive;
    // Node sets only the idle time before the first probe; probes and interval stay the OS's.
    return ka === undefined ? undefined : (ka.timeMs ?? 0);
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /**
   * A connection for `sink`: an idle one (bound and returned at once, `reused` true), a new one
   * (returned while connecting; the sink hears onUpstreamReady), "queued" when the cluster's
   * connection limit is reached (the sink hears onUpstreamReady later), or "overflow".
   */
  acquire(sink: UpstreamSink): UpstreamConnection | "queued" | "overflow" {
    for (;;) {
      const conn = this.idle.pop();
      if (conn === undefined) break;
      if (conn.isClosed || conn.socket.destroyed) continue;
      conn.bind(sink);
      return conn;
    }
    const stats = this.limits.stats;
    const cfg = this.limits.poolConfig;
    if (stats.upstream_rq_pending_active >= cfg.maxPendingRequests) {
      stats.upstream_rq_pending_overflow++;
      return "overflow";
    }
    // Pending from now until onConnected (new connection), a hand-over, or cancelWait/onClosed.
    stats.upstream_rq_pending_active++;
    if (stats.upstream_cx_active >= cfg.maxConnections) {
      stats.upstream_cx_overflow++;
      // Envoy: a host with no connection at all gets one anyway, or its queue could never drain
      // (the connections holding the cluster's limit belong to other hosts).
      if (this.total > 0) {
        this.waiting.push(sink);
        return "queued";
      }
    }
    return this.open(sink);
  }

  /** A queued sink gave up (timeout, downstream gone). */
  cancelWait(sink: UpstreamSink): void {
    const i = this.waiting.indexOf(sink);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.limits.stats.upstream_rq_pending_active--;
    }
  }

  /** Close idle connections now and the busy ones when their exchange ends. */
  drain(): void {
    this.draining = true;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    const idle = this.idle;
    this.idle = [];
    for (const c of idle) c.destroy();
  }

  private open(sink: UpstreamSink): UpstreamConnection {
    const stats = this.limits.stats;
    stats.upstream_cx_total++;
    stats.upstream_cx_active++;
    this.total++;
    return new UpstreamConnection(this, this.host.address, this.host.port, sink);
  }

  onConnected(_conn: UpstreamConnection): void {
    // The request the connection was opened for is no longer pending.
    this.limits.stats.upstream_rq_pending_active--;
  }

  onReleased(conn: UpstreamConnection, reusable: boolean): void {
    if (!reusable || this.draining) {
      if (reusable) conn.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.limits.stats.upstream_rq_pending_active--;
      conn.bind(next);
      // Hand over on the next tick: the previous exchange is still finishing on this stack.
      queueMicrotask(() => next.onUpstreamReady(conn));
      return;
    }
    conn.idleSince = this.limits.clock.now();
    this.idle.push(conn);
    if (this.idleTimer === null) this.armIdleTimer();
  }

  /**
   * The idle list is a stack (LIFO), so its bottom is the connection idle the longest. The timer
   * fires at the bottom's deadline (at least one granule later), closes every expired
   * connection and re-arms for the next; a connection closes within idleTimeoutMs + 1/8 of it
   * (at most 10 s late). The timer stays armed while requests churn the list: no per-request cost.
   */
  private armIdleTimer(): void {
    const idleMs = this.limits.poolConfig.idleTimeoutMs;
    const oldest = this.idle[0];
    if (!(idleMs > 0) || oldest === undefined) return;
    const clock = this.limits.clock;
    const granule = Math.min(10_000, Math.max(10, Math.floor(idleMs / 8)));
    const delay = Math.max(granule, oldest.idleSince + idleMs - clock.now());
    this.idleTimer = clock.setTimeout(() => {
      this.idleTimer = null;
      const now = clock.now();
      for (;;) {
        const c = this.idle[0];
        if (c === undefined || now - c.idleSince < idleMs) break;
        this.idle.shift();
        c.destroy();
      }
      this.armIdleTimer();
    }, delay);
  }

  onClosed(conn: UpstreamConnection): void {
    const stats = this.limits.stats;
    stats.upstream_cx_active--;
    this.total--;
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.total === 0 && this.idleTimer !== null) {
      // Nothing left to time out: no timer may outlive the pool's last socket.
      this.idleTimer.cancel();
      this.idleTimer = null;
    }
    if (!conn.connected) {
      stats.upstream_cx_connect_fail++;
      // Its request stops being pending (it fails or is retried as a new attempt).
      stats.upstream_rq_pending_active--;
    }
    // A slot freed up: open a connection for the oldest waiter.
    // It stays pending until the new connection is up.
    const next = this.waiting.shift();
    if (next !== undefined) this.open(next);
  }
}
