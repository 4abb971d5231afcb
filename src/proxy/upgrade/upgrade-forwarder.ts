// HTTP/1.1 Upgrade pass-through (WebSocket and any other upgrade token). A request with
// `Connection: upgrade` + `Upgrade: X` and no body goes upstream on a connection of its own (an
// upgraded connection is never pooled) with both headers kept. An upstream `101 Switching
// Protocols` is relayed and the two sockets are spliced: bytes flow both ways until either side
// closes or nothing moves for the stream idle timeout. Any other answer is relayed as a normal
// response, after which the downstream connection is closed (its framing past an upgrade attempt
// is not worth trusting). The route timeout covers the wait for the response head only.
import type { Socket } from "node:net";
import type { TimerHandle } from "../../core/clock.ts";
import type { ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import { parseResponseHead, ParseError, serializeRequestHead, serializeResponseHead } from "../http1/index.ts";
import { bodyBytes, BODY_CLOSE, BODY_NONE, startBody, type BodyCursor } from "../http1/body-cursor.ts";
import type { ChunkedDecoder } from "../http1/chunked.ts";
import type { ResponseHead } from "../http1/types.ts";
import type { Exchange } from "../http/exchange.ts";
import { BODY_CONNECT_FAILURE, BODY_CONNECTION_TERMINATION, BODY_NO_HEALTHY_UPSTREAM, BODY_OVERFLOW, BODY_PROTOCOL_ERROR, BODY_TIMEOUT } from "../request/local-reply.ts";
import { RF_UC, RF_UF, RF_UH, RF_UO, RF_UPE, RF_UT } from "../request/response-flags.ts";
import { destinationHeaders, requestExtra } from "../http/upstream-headers.ts";
import { unionNames } from "../request/header-edits.ts";
import { rewritePath } from "../router/index.ts";
import { verifiedServerPrincipal } from "../tls/upstream-tls.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { pickRequestHost, requestHash } from "../upstream/host-choice.ts";

export function forwardUpgrade(x: Exchange, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
  const route = x.route as NonNullable<Exchange["route"]>;
  const stats = cluster.stats;
  // The same host choice as plain requests: a consistent-hash key keeps its affinity here too.
  const host = pickRequestHost(cluster, x.authority, x.port, requestHash(cluster, x), null);
  if (host === null) return x.reply(503, RF_UH, BODY_NO_HEALTHY_UPSTREAM);
  const pool = cluster.poolConfig;
  if (stats.upstream_cx_active >= pool.maxConnections) {
    stats.upstream_cx_overflow++;
    return x.reply(503, RF_UO, BODY_OVERFLOW, [["x-envoy-overloaded", "true"]]);
  }
  const dh = destinationHeaders(route, wc, { hostname: x.proxy.hostname, sourceIp: x.sourceIp });
  const authority = action.rewrite?.authority;
  const head = serializeRequestHead(x.head, {
    path: rewritePath(x.head.path, route.match, action.rewrite),
    host: dh.host ?? (authority !== undefined && authority !== "" ? authority : x.head.authority),
    drop: x.edits === null ? dh.requestDrop : unionNames(dh.requestDrop, x.edits.dropNames()),
    lines: x.edits?.lines(),
    extra: [...requestExtra(x), ["x-envoy-attempt-count", "1"], ...dh.requestAdd],
    passUpgrade: true,
  });
  x.attempts = 1;
  x.upstreamHost = host.key;
  stats.upstream_cx_total++;
  stats.upstream_cx_active++;
  stats.upstream_rq_total++;
  stats.upstream_rq_active++;
  host.activeRequests++;
  const tls = cluster.tlsFor(host);
  const netOpts = { host: host.address, port: host.port, noDelay: true };
  const up: Socket = cluster.dial(netOpts, tls, host);
  new UpgradeSession(x, cluster, host, up, head, action.timeoutMs, tls !== undefined).start();
}

const P_CONNECTING = 0;
const P_HEAD = 1;
const P_BODY = 2;
const P_TUNNEL = 3;
const P_DONE = 4;

class UpgradeSession implements BodyCursor {
  private readonly x: Exchange;
  private readonly cluster: ClusterState;
  private readonly host: Host;
  private readonly up: Socket;
  private readonly requestHead: Buffer;
  private readonly routeTimeoutMs: number;
  private readonly tls: boolean;
  private phase = P_CONNECTING;
  private buf: Buffer = Buffer.alloc(0);
  /** The route timeout (until the response head), then the tunnel's idle timer. */
  private timer: TimerHandle | null = null;
  private connectTimer: TimerHandle | null = null;
  /** Tunnel: when bytes last moved (the idle timeout counts from there). */
  private lastActive = 0;
  /** A response that did not upgrade: its body (http1/body-cursor.ts). */
  bodyKind = BODY_NONE;
  bodyRemaining = 0;
  bodyDecoder: ChunkedDecoder | null = null;
  private released = false;

  constructor(x: Exchange, cluster: ClusterState, host: Host, up: Socket, requestHead: Buffer, routeTimeoutMs: number, tls: boolean) {
    this.x = x;
    this.cluster = cluster;
    this.host = host;
    this.up = up;
    this.requestHead = requestHead;
    this.routeTimeoutMs = routeTimeoutMs;
    this.tls = tls;
  }

  start(): void {
    const up = this.up;
    const pool = this.cluster.poolConfig;
    const clock = this.x.proxy.clock;
    if (pool.connectTimeoutMs > 0) this.connectTimer = clock.setTimeout(() => this.connectFailed(), pool.connectTimeoutMs).unref();
    if (this.routeTimeoutMs > 0) this.timer = clock.setTimeout(() => this.fail(504, RF_UT, BODY_TIMEOUT), this.routeTimeoutMs);
    up.once(this.tls ? "secureConnect" : "connect", () => {
      this.connectTimer?.cancel();
      this.connectTimer = null;
      this.phase = P_HEAD;
      if (this.tls) this.x.upstreamPrincipal = verifiedServerPrincipal(up);
      this.cluster.outlier?.onLocalOriginSuccess(this.host);
      up.write(this.requestHead);
    });
    up.on("data", (b: Buffer) => this.onUpstreamData(b));
    up.on("error", () => (this.phase === P_CONNECTING ? this.connectFailed() : this.upstreamGone()));
    up.on("close", () => (this.phase === P_CONNECTING ? this.connectFailed() : this.upstreamGone()));
    // The client left before the upstream answered.
    this.x.conn.socket.once("close", () => {
      if (this.phase < P_TUNNEL) this.abort();
    });
  }

  private onUpstreamData(b: Buffer): void {
    if (this.phase === P_BODY) return this.relayBody(b, 0);
    if (this.phase !== P_HEAD) return;
    this.buf = this.buf.length === 0 ? b : Buffer.concat([this.buf, b]);
    let pos = 0;
    for (;;) {
      const h = parseResponseHead(this.buf, pos, this.buf.length, this.x.head.method, this.x.proxy.limits.head);
      if (h === null) {
        this.buf = this.buf.subarray(pos);
        return;
      }
      if (h instanceof ParseError) return this.fail(502, RF_UPE, BODY_PROTOCOL_ERROR);
      pos += h.headLength;
      if (h.isInterim) continue; // 100 Continue and friends: the final answer follows
      const rest = this.buf.subarray(pos);
      this.buf = Buffer.alloc(0);
      this.clearTimer();
      this.cluster.stats.countStatus(h.status);
      return h.status === 101 ? this.tunnel(h, rest) : this.respond(h, rest);
    }
  }

  /** 101: relay the head, take the downstream socket from the HTTP codec and splice. */
  private tunnel(h: ResponseHead, rest: Buffer): void {
    const x = this.x;
    this.phase = P_TUNNEL;
    const down = x.conn.socket;
    const early = x.conn.takeOver();
    const head = serializeResponseHead(h, { passUpgrade: true });
    x.status = 101;
    x.responseStarted = true;
    x.write(head);
    if (rest.length > 0) x.write(rest);
    if (early !== null && early.length > 0) this.up.write(early);
    // The HTTP exchange is over (status 101 recorded); the tunnel lives on below.
    x.finish(false);
    const up = this.up;
    up.removeAllListeners("data");
    const clock = x.proxy.clock;
    const idleMs = x.proxy.limits.downstreamIdleTimeoutMs;
    this.lastActive = clock.now();
    // Nothing moving either way for the idle timeout closes both sides.
    const checkIdle = (): void => {
      const quiet = clock.now() - this.lastActive;
      if (quiet < idleMs) {
        this.timer = clock.setTimeout(checkIdle, idleMs - quiet).unref();
        return;
      }
      this.timer = null;
      down.destroy();
      up.destroy();
    };
    if (idleMs > 0) this.timer = clock.setTimeout(checkIdle, idleMs).unref();
    const cs = this.cluster.stats;
    down.on("data", (b: Buffer) => {
      cs.upstream_cx_tx_bytes_total += b.length;
      this.lastActive = clock.now();
    });
    up.on("data", (b: Buffer) => {
      cs.upstream_cx_rx_bytes_total += b.length;
      this.lastActive = clock.now();
    });
    down.on("error", () => up.destroy());
    down.on("close", () => up.destroy());
    up.on("close", () => {
      this.clearTimer();
      this.release();
      down.end();
    });
    down.pipe(up);
    up.pipe(down);
  }

  /** Not upgraded: relay the response as it is, then close the downstream connection. */
  private respond(h: ResponseHead, rest: Buffer): void {
    const x = this.x;
    x.status = h.status;
    x.responseStarted = true;
    x.write(serializeResponseHead(h, { close: true }));
    if (!startBody(this, h.framing)) return this.complete();
    this.phase = P_BODY;
    if (rest.length > 0) this.relayBody(rest, 0);
  }

  private relayBody(b: Buffer, pos: number): void {
    const used = bodyBytes(this, b, pos, b.length);
    if (used < 0) return this.fail(502, RF_UPE, BODY_PROTOCOL_ERROR);
    if (used > 0) this.x.write(pos === 0 && used === b.length ? b : b.subarray(pos, pos + used));
    if (this.bodyKind === BODY_NONE) this.complete();
  }

  private complete(): void {
    this.phase = P_DONE;
    this.up.destroy();
    this.release();
    this.x.finish(true);
  }

  private upstreamGone(): void {
    if (this.phase === P_TUNNEL) return;
    if (this.phase === P_BODY && this.bodyKind === BODY_CLOSE) return this.complete(); // close-delimited end
    if (this.phase === P_BODY) {
      this.x.conn.destroy();
      this.x.finish(true);
      this.phase = P_DONE;
      this.release();
      return;
    }
    this.fail(503, RF_UC, BODY_CONNECTION_TERMINATION);
  }

  private connectFailed(): void {
    if (this.phase !== P_CONNECTING) return;
    this.cluster.stats.upstream_cx_connect_fail++;
    this.cluster.outlier?.onLocalOriginFailure(this.host, "connect-failed");
    this.fail(503, RF_UF, BODY_CONNECT_FAILURE);
  }

  private fail(status: number, flag: number, body: string): void {
    if (this.phase === P_DONE || this.phase === P_TUNNEL) return;
    this.phase = P_DONE;
    this.clearTimer();
    this.up.destroy();
    this.release();
    this.x.reply(status, flag, body);
  }

  private abort(): void {
    this.phase = P_DONE;
    this.clearTimer();
    this.up.destroy();
    this.release();
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = null;
    this.connectTimer?.cancel();
    this.connectTimer = null;
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    const s = this.cluster.stats;
    s.upstream_cx_active--;
    s.upstream_rq_active--;
    this.host.activeRequests--;
  }
}
