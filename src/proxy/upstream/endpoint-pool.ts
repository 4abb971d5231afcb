// EndpointPool: the keep-alive connections to one endpoint (host) of a cluster. Idle connections
// are reused last-in-first-out (the most recently used socket is the least likely to have been
// closed by the upstream's idle timer). Cluster-wide limits (maxConnections, maxPendingRequests)
// are checked against the shared ClusterCounters; a request that finds the connection limit
// reached waits in this pool's queue, or overflows (UO) when the queue is full too.
import type { Host } from "./balance/balancer.ts";
import type { ClusterStats } from "./cluster-stats.ts";
import { UpstreamConnection, type ConnectionOwner, type UpstreamSink } from "./upstream-connection.ts";
import type { ConnectionPoolConfig } from "../../model/proxy-config.ts";

export interface PoolLimits {
  readonly poolConfig: ConnectionPoolConfig;
  readonly stats: ClusterStats;
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

  constructor(host: Host, limits: PoolLimits) {
    this.host = host;
    this.limits = limits;
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
    if (stats.upstream_cx_active >= this.limits.poolConfig.maxConnections) {
      if (stats.upstream_rq_pending_active >= this.limits.poolConfig.maxPendingRequests) {
        stats.upstream_rq_pending_overflow++;
        stats.upstream_cx_overflow++;
        return "overflow";
      }
      stats.upstream_rq_pending_active++;
      this.waiting.push(sink);
      return "queued";
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
    for (const c of this.idle) c.destroy();
    this.idle = [];
  }

  private open(sink: UpstreamSink): UpstreamConnection {
    const stats = this.limits.stats;
    stats.upstream_cx_total++;
    stats.upstream_cx_active++;
    this.total++;
    return new UpstreamConnection(this, this.host.address, this.host.port, sink);
  }

  onConnected(_conn: UpstreamConnection): void {}

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
    this.idle.push(conn);
  }

  onClosed(conn: UpstreamConnection): void {
    const stats = this.limits.stats;
    stats.upstream_cx_active--;
    this.total--;
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (!conn.connected) stats.upstream_cx_connect_fail++;
    // A slot freed up: open a connection for the oldest waiter.
    const next = this.waiting.shift();
    if (next !== undefined) {
      stats.upstream_rq_pending_active--;
      this.open(next);
    }
  }
}
