// HTTP/2 sessions to the endpoints of `protocol: http2` clusters: one multiplexed
// ClientHttp2Session per endpoint (prior-knowledge h2c, or TLS with ALPN h2 when the cluster
// originates TLS), opened on first use, replaced after GOAWAY / close / error, closed after the
// pool's idle timeout without streams. Stats go to the cluster's counters like HTTP/1.1
// connections do (upstream_cx_total / _active / _connect_fail). The connect and idle timers run
// on the cluster's Clock; the idle timeout is Envoy's: no active stream for that long (not "no
// frame", which is what Node's session.setTimeout measures).
import type { ClientHttp2Session, ClientHttp2Stream, ClientSessionRequestOptions, OutgoingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import { http2Module, NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, tlsModule } from "../../core/builtins.ts";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { connectTls, upstreamTlsOptions, verifiedServerPrincipal } from "../tls/upstream-tls.ts";

export class H2Session {
  readonly session: ClientHttp2Session;
  /** The connection (and TLS handshake) completed. */
  connected = false;
  /** The verified server certificate's SPIFFE id (TLS clusters), set once at connect; "" for h2c. */
  peerPrincipal = "";
  closed = false;
  private readonly owner: H2SessionPool;
  private readonly clock: Clock;
  /** Streams opened through request() and not closed yet. */
  private active = 0;
  /** When the last stream closed (clock ms); the connect time before any stream. */
  private idleSince = 0;
  /** The connect timeout, then the idle timeout. */
  private timer: TimerHandle | null = null;
  private readonly idleMs: number;
  /** Opened with TLS (auto mTLS decides per endpoint): a host whose tlsMode changed gets a new session. */
  readonly originatesTls: boolean;
  private readonly onStreamClose = (): void => {
    if (--this.active === 0) this.idleSince = this.clock.now();
  };

  constructor(owner: H2SessionPool, cluster: ClusterState, host: Host) {
    this.owner = owner;
    this.clock = cluster.clock;
    const stats = cluster.stats;
    stats.upstream_cx_total++;
    stats.upstream_cx_active++;
    const cfg = cluster.config;
    const tls = cluster.tlsFor(host);
    this.originatesTls = tls !== undefined;
    const authority = `${tls !== undefined ? "https" : "http"}://${host.address.includes(":") ? `[${host.address}]` : host.address}:${host.port}`;
    let failedEarly: Error | null = null;
    let tlsSocket: Socket | null = null;
    this.session = http2Module().connect(authority, {
      // The proxy's own limits apply per stream; the session just carries them.
      peerMaxConcurrentStreams: 1000,
      ...(tls !== undefined
        ? {
            createConnection: () => {
              try {
                const socket = connectTls({ host: host.address, port: host.port, ...upstreamTlsOptions(tls, host, cluster.mesh, true, cluster.tlsContexts), ...(tls.mode === "ISTIO_MUTUAL" ? {} : { ALPNProtocols: ["h2"] }) });
                if (tls.mode === "ISTIO_MUTUAL") cluster.mesh?.trackUpstream(socket);
                tlsSocket = socket;
                return socket;
              } catch (e) {
                failedEarly = e as Error;
                const s = tlsModule().connect({ host: "127.0.0.1", port: 0 });
                s.destroy(failedEarly);
                return s;
              }
            },
          }
        : {}),
    });
    const s = this.session;
    const connectMs = cfg.connectionPool.connectTimeoutMs;
    this.idleMs = cfg.connectionPool.idleTimeoutMs;
    if (connectMs > 0) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        if (!this.connected) s.destroy(new Error("connect timeout"));
      }, connectMs).unref();
    }
    s.once("connect", () => {
      this.timer?.cancel();
      this.timer = null;
      this.connected = true;
      if (tlsSocket !== null) this.peerPrincipal = verifiedServerPrincipal(tlsSocket);
      if (this.idleMs > 0 && !this.closed) {
        this.idleSince = this.clock.now();
        this.armIdle(this.idleMs);
      }
    });
    s.on("error", () => {
      if (!this.connected) stats.upstream_cx_connect_fail++;
    });
    s.on("goaway", () => this.retire());
    s.once("close", () => {
      this.timer?.cancel();
      this.timer = null;
      stats.upstream_cx_active--;
      this.retire();
    });
    // Sessions must not keep the proxy process alive on their own (nor do their timers).
    s.unref();
  }

  /** Open a stream (counted for the idle timeout). Throws when the session is already closing. */
  request(headers: OutgoingHttpHeaders, opts: ClientSessionRequestOptions): ClientHttp2Stream {
    const st = this.session.request(headers, opts);
    this.active++;
    st.on("close", this.onStreamClose);
    return st;
  }

  /**
   * One timer per session, armed for the idle time; when it fires with streams open or after a
   * recent stream, it re-arms for the rest, so streams cost no timer work.
   */
  private armIdle(ms: number): void {
    this.timer = this.clock
      .setTimeout(() => {
        this.timer = null;
        if (this.closed) return;
        const quiet = this.clock.now() - this.idleSince;
        if (this.active > 0) this.armIdle(this.idleMs);
        else if (quiet < this.idleMs) this.armIdle(this.idleMs - quiet);
        else {
          // Idle: close gracefully (GOAWAY); a stream racing in still finishes.
          this.retire();
          this.session.close();
        }
      }, ms)
      .unref();
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
    if (s !== undefined && !s.closed && s.originatesTls !== (this.cluster.tlsFor(host) !== undefined)) {
      s.session.close();
      s = undefined;
    }
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

export const H2_REFUSED_STREAM = NGHTTP2_REFUSED_STREAM;
export const H2_CANCEL = NGHTTP2_CANCEL;
