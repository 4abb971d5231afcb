// TCP proxying (Envoy's tcp_proxy filter): one downstream connection → weighted cluster → balancer
// pick → one upstream connection, bytes relayed both ways with backpressure (stream pipes), TCP
// half-close honoured (a client that shuts down its writing side still gets the reply), an idle
// timeout over both directions, the cluster's connection limit (`maxConnections` → the downstream
// is closed at once, Envoy's UO), connect timeout, and byte counters on both sides.
//
// Used by TCP listeners and by protocol detection (which hands over the bytes it already read).
// Listeners with sniRoutes first read the TLS ClientHello's server name (sni-peek.ts). Each
// proxied connection feeds the Istio TCP metrics through TelemetryHooks.tcpCounters. The upstream
// is dialed through the cluster's Dialer; the connect and idle timers run on the cluster's Clock.
import type { Socket } from "node:net";
import type { TimerHandle } from "../../core/clock.ts";
import type { Listener, WeightedCluster } from "../../model/proxy-config.ts";
import type { ProxyContext, TcpCounters } from "../request/context.ts";
import { verifiedPeerOf } from "../detect/mesh-tls.ts";
import { verifiedServerPrincipal } from "../tls/upstream-tls.ts";
import { pickWeightedCluster } from "../router/index.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import { xxhash32 } from "../upstream/balance/xxhash32.ts";
import { stripV4Mapped } from "../io/source-ip.ts";
import { pickConnectionHost } from "../upstream/host-choice.ts";
import type { TcpListenerStats } from "./tcp-stats.ts";
import { peekServerName, pickSniRoute } from "./sni-peek.ts";

/** Envoy's tcp_proxy default idle timeout (1 h) when neither the route nor the cluster sets one. */
export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 3_600_000;

export interface TcpProxyOptions {
  /** Bytes already read from the downstream (protocol detection); sent upstream first. */
  head?: Buffer;
  /** Called once when both sockets are gone. */
  onClose?: () => void;
}

/** Why a connection was refused before any upstream was dialed (for logs and tests). */
export type TcpRefusal = "no_route" | "no_cluster" | "no_healthy_upstream" | "overflow";

/**
 * Proxy one downstream connection with the listener's tcpRoute. Returns the refusal reason when
 * the connection was closed without dialing, else null.
 */
export function proxyTcpConnection(down: Socket, listener: Listener, proxy: ProxyContext, stats: TcpListenerStats, opts: TcpProxyOptions = {}): TcpRefusal | null {
  stats.downstream_cx_total++;
  // A config push may change the route of a listener that stays bound: read the current one.
  const current = proxy.runtime.config.listeners.find((l) => l.name === listener.name) ?? listener;
  const sni = current.sniRoutes;
  if (sni !== undefined && sni.length > 0) {
    // TLS routes: the ClientHello's server name picks the route (no decryption); else tcpRoute.
    peekServerName(
      down,
      proxy.clock,
      opts.head,
      (name, read) => {
        const r = pickSniRoute(sni, name);
        routeConnection(down, current, r !== undefined ? r.clusters : current.tcpRoute?.clusters, proxy, stats, { ...opts, head: read });
      },
      () => opts.onClose?.(),
    );
    return null;
  }
  return routeConnection(down, current, current.tcpRoute?.clusters, proxy, stats, opts);
}

function routeConnection(
  down: Socket,
  current: Listener,
  clusters: readonly WeightedCluster[] | undefined,
  proxy: ProxyContext,
  stats: TcpListenerStats,
  opts: TcpProxyOptions,
): TcpRefusal | null {
  const refuse = (why: TcpRefusal): TcpRefusal => {
    if (why === "overflow") stats.downstream_cx_overflow++;
    else stats.downstream_cx_no_route++;
    down.destroy();
    opts.onClose?.();
    return why;
  };
  const wc = clusters === undefined ? undefined : pickWeightedCluster(clusters, proxy.random);
  if (wc === undefined) return refuse("no_route");
  const cluster = proxy.runtime.clusters.get(wc.cluster);
  if (cluster === undefined) return refuse("no_cluster");
  const host = pickHost(cluster, down);
  if (host === null) return refuse("no_healthy_upstream");
  const pool = cluster.poolConfig;
  if (cluster.stats.upstream_cx_active >= pool.maxConnections) {
    cluster.stats.upstream_cx_overflow++;
    return refuse("overflow");
  }
  // Istio TCP metrics: the series is looked up once per connection; the relay only adds to it.
  // Its principal label is the other side's verified certificate: the downstream client's on an
  // inbound listener, the upstream server's on an outbound one (known after the handshake).
  const hooks = proxy.telemetry;
  const direction = current.direction;
  let series: SeriesLookup | null = null;
  if (hooks?.tcpCounters !== undefined) {
    const tcpCounters = hooks.tcpCounters.bind(hooks);
    series = direction === "inbound" ? () => tcpCounters(direction, cluster.name, host.key, verifiedPeerOf(down)) : (up) => tcpCounters(direction, cluster.name, host.key, up === null ? "" : verifiedServerPrincipal(up));
  }
  relay(down, cluster, host, current.tcpRoute?.idleTimeoutMs ?? (pool.idleTimeoutMs > 0 ? pool.idleTimeoutMs : DEFAULT_TCP_IDLE_TIMEOUT_MS), stats, opts, series);
  return null;
}

/** The connection's TCP series, given its upstream socket once connected (null: it never connected). */
type SeriesLookup = (up: Socket | null) => TcpCounters | null;

function pickHost(cluster: ClusterState, down: Socket): Host | null {
  // Transparent capture: the address the client dialed is the original destination.
  const addr = down.localAddress;
  const port = down.localPort;
  const dst = addr === undefined || port === undefined ? null : { address: addr, port };
  // A TCP connection has no headers: of the hash keys only the source IP applies (useSourceIp).
  const key = cluster.config.lb.hashKey;
  const ip = down.remoteAddress;
  const hash = key !== undefined && "sourceIp" in key && ip !== undefined ? xxhash32(stripV4Mapped(ip)) : undefined;
  return pickConnectionHost(cluster, dst, hash);
}

function relay(down: Socket, cluster: ClusterState, host: Host, idleMs: number, stats: TcpListenerStats, opts: TcpProxyOptions, series: SeriesLookup | null): void {
  const cs = cluster.stats;
  // The series is bound when the upstream is connected (or when the session ends without that);
  // bytes the downstream sends meanwhile are held in `early`.
  let tel: TcpCounters | null = null;
  let bound = series === null;
  let early = 0;
  const bind = (up: Socket | null): void => {
    if (bound) return;
    bound = true;
    tel = (series as SeriesLookup)(up);
    if (tel === null) return;
    tel.opened++;
    tel.receivedBytes += early;
  };
  const pool = cluster.poolConfig;
  cs.upstream_cx_total++;
  cs.upstream_cx_active++;
  stats.downstream_cx_active++;
  host.activeRequests++;
  const ka = pool.tcpKeepalive;
  const tls = cluster.tlsFor(host);
  const netOpts = {
    host: host.address,
    port: host.port,
    noDelay: true,
    allowHalfOpen: true,
    ...(ka !== undefined ? { keepAlive: true, keepAliveInitialDelay: ka.timeMs ?? 0 } : {}),
  };
  const up: Socket = cluster.dial(netOpts, tls, host);
  const clock = cluster.clock;
  let connected = false;
  let finished = false;
  // The connect timeout while connecting, then the idle timeout.
  let timer: TimerHandle | null = null;
  /** Clock time of the last byte in either direction (the idle timer reads it when it fires). */
  let lastActive = 0;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    timer?.cancel();
    timer = null;
    bind(null);
    if (tel !== null) tel.closed++;
    cs.upstream_cx_active--;
    stats.downstream_cx_active--;
    host.activeRequests--;
    down.destroy();
    up.destroy();
    opts.onClose?.();
  };
  const connectFailed = (): void => {
    cs.upstream_cx_connect_fail++;
    cluster.outlier?.onLocalOriginFailure(host, "connect-failed");
    finish();
  };
  // Idle timeout over both directions: one timer per connection, armed for the idle time and, when
  // it fires early because bytes moved meanwhile, re-armed for the rest (no timer work per chunk).
  const onIdleTimer = (): void => {
    timer = null;
    if (finished) return;
    const quiet = clock.now() - lastActive;
    if (quiet >= idleMs) {
      stats.downstream_cx_idle_timeout++;
      finish();
      return;
    }
    timer = clock.setTimeout(onIdleTimer, idleMs - quiet).unref();
  };
  // Unref'd, as the socket timers they replace: a paused, idle socket does not hold the process.
  if (pool.connectTimeoutMs > 0) {
    timer = clock
      .setTimeout(() => {
        timer = null;
        if (!connected) connectFailed();
      }, pool.connectTimeoutMs)
      .unref();
  }
  up.once(tls !== undefined ? "secureConnect" : "connect", () => {
    connected = true;
    timer?.cancel();
    timer = null;
    bind(up);
    cluster.outlier?.onLocalOriginSuccess(host);
    if (finished) return;
    lastActive = clock.now();
    if (idleMs > 0) timer = clock.setTimeout(onIdleTimer, idleMs).unref();
  });
  up.on("error", () => (connected ? finish() : connectFailed()));
  down.on("error", finish);
  // Half-close: each side's FIN is forwarded by the pipe (end()); a socket whose two directions
  // have ended closes itself, and the session is over when both sockets have closed. Once one
  // socket is closed, the pipe out of the other is gone (Node unpipes on the destination's close)
  // and leaves it paused: it would never read its peer's FIN, and sit half-open, counted, forever.
  // So the survivor is flushed (Envoy's FlushWrite close), then destroyed.
  let downClosed = false;
  let upClosed = false;
  down.on("close", () => {
    downClosed = true;
    if (upClosed || !connected) finish();
    else up.end(() => up.destroy());
  });
  up.on("close", () => {
    upClosed = true;
    if (downClosed || !connected) finish();
    else down.end(() => down.destroy());
  });
  down.on("data", (b: Buffer) => {
    lastActive = clock.now();
    cs.upstream_cx_tx_bytes_total += b.length;
    stats.downstream_cx_rx_bytes_total += b.length;
    if (tel !== null) tel.receivedBytes += b.length;
    else if (!bound) early += b.length;
  });
  up.on("data", (b: Buffer) => {
    lastActive = clock.now();
    cs.upstream_cx_rx_bytes_total += b.length;
    stats.downstream_cx_tx_bytes_total += b.length;
    if (tel !== null) tel.sentBytes += b.length;
  });
  if (opts.head !== undefined && opts.head.length > 0) {
    cs.upstream_cx_tx_bytes_total += opts.head.length;
    stats.downstream_cx_rx_bytes_total += opts.head.length;
    early += opts.head.length;
    up.write(opts.head);
  }
  down.pipe(up);
  up.pipe(down);
}
