// HTTP/2 sessions to the endpoints of `protocol: http2` clusters: one multiplexed
// ClientHttp2Session per endpoint (prior-knowledge h2c, or TLS with ALPN h2 when the cluster
// originates TLS), opened on first use, replaced after GOAWAY / close / error, closed after the
// pool's idle timeout without streams. Stats go to the cluster's counters like HTTP/1.1
// connections do (upstream_cx_total / _active / _connect_fail).
import { connect as h2connect, constants, type ClientHttp2Session } from "node:http2";
import { connect as tlsConnect } from "node:tls";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { upstreamTlsOptions } from "../tls/upstream-tls.ts";

export class H2Session {
  readonly session: ClientHttp2Session;
  /** The connection (and TLS handshake) completed. */
  connected = false;
  closed = false;
  private readonly owner: H2SessionPool;

  constructor(owner: H2SessionPool, cluster: ClusterState, host: Host) {
    this.owner = owner;
    const stats = cluster.stats;
    stats.upstream_cx_total++;
    stats.upstream_cx_active++;
    const cfg = cluster.config;
    const tls = cfg.tls;
    const authority = `${tls !== undefined ? "https" : "http"}://${host.address.includes(":") ? `[${host.address}]` : host.address}:${host.port}`;
    let failedEarly: Error | null = null;
    this.session = h2connect(authority, {
      // The proxy's own limits apply per stream; the session just carries them.
      peerMaxConcurrentStreams: 1000,
      ...(tls !== undefined
        ? {
            createConnection: () => {
              try {
                return tlsConnect({ host: host.address, port: host.port, ...upstreamTlsOptions(tls, host), ALPNProtocols: ["h2"] });
              } catch (e) {
                failedEarly = e as Error;
                const s = tlsConnect({ host: "127.0.0.1", port: 0 });
                s.destroy(failedEarly);
                return s;
              }
            },
          }
        : {}),
    });
    const s = this.session;
    const connectMs = cfg.connectionPool.connectTimeoutMs;
    const timer = connectMs > 0 ? setTimeout(() => s.destroy(new Error("connect timeout")), connectMs) : null;
    s.once("connect", () => {
      if (timer !== null) clearTimeout(timer);
      this.connected = true;
    });
    s.on("error", () => {
      if (!this.connected) stats.upstream_cx_connect_fail++;
    });
    s.on("goaway", () => this.retire());
    s.once("close", () => {
      if (timer !== null) clearTimeout(timer);
      stats.upstream_cx_active--;
      this.retire();
    });
    const idle = cfg.connectionPool.idleTimeoutMs;
    if (idle > 0) {
      s.setTimeout(idle, () => {
        // Idle (no frames for that long): close gracefully; open streams finish first.
        this.retire();
        s.close();
      });
    }
    // Sessions must not keep the proxy process alive on their own.
    s.unref();
  }

  /** No new streams on this session. */
  private retire(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.forget(this);
  }
}

export class H2SessionPool {
  private readonly sessions = new Map<string, H2Session>();
  private readonly cluster: ClusterState;

  constructor(cluster: ClusterState) {
    this.cluster = cluster;
  }

  /** The live session to `host`, opened when there is none. */
  session(host: Host): H2Session {
    let s = this.sessions.get(host.key);
    if (s === undefined || s.closed || s.session.destroyed) {
      s = new H2Session(this, this.cluster, host);
      this.sessions.set(host.key, s);
    }
    return s;
  }

  forget(s: H2Session): void {
    for (const [k, v] of this.sessions) if (v === s) this.sessions.delete(k);
  }

  close(): void {
    for (const s of this.sessions.values()) s.session.close();
    this.sessions.clear();
  }
}

const pools = new WeakMap<ClusterState, H2SessionPool>();

/** The HTTP/2 session pool of a cluster (kept with the ClusterState across config pushes). */
export function h2PoolFor(cluster: ClusterState): H2SessionPool {
  let p = pools.get(cluster);
  if (p === undefined) {
    const pool = new H2SessionPool(cluster);
    // A transport change (TLS, protocol) or removal: no new stream on the old sessions.
    cluster.onDrain(() => pool.close());
    pools.set(cluster, pool);
    p = pool;
  }
  return p;
}

export const H2_REFUSED_STREAM = constants.NGHTTP2_REFUSED_STREAM;
export const H2_CANCEL = constants.NGHTTP2_CANCEL;
