// Forwarder: the upstream side of one forwarded request (Envoy's router filter). Layers, in the
// order a request meets them: route timeout (covers every attempt → 504 UT) → retry loop
// (RetryState: retryOn, attempts, backoff, cluster retry limit; hosts already tried avoided) →
// balance (the cluster's Balancer → UH) → circuit breakers (maxRequests → UO) → endpoint pool
// (idle keep-alive connection or a new one → UF) → exchange on the wire, with the response
// relayed downstream as it streams (backpressure both ways). The timeouts, retry decisions and
// the end of the request live in AttemptControl, shared with the H2Forwarder.
import type { ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import { HeaderLineWriter, serializeRequestHead } from "../http1/index.ts";
import type { HeaderNameSet, ResponseHead } from "../http1/types.ts";
import { wouldRetryResponse } from "../resilience/retry.ts";
import { corsResponseHeaders, rewritePath } from "../router/index.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import type { EndpointPool } from "../upstream/endpoint-pool.ts";
import type { UpstreamConnection, UpstreamErrorKind, UpstreamSink } from "../upstream/upstream-connection.ts";
import { unionNames } from "../request/header-edits.ts";
import { EXT_AUTHZ_RESPONSE_HEADERS, type HeaderPairs } from "../request/context.ts";
import { AttemptControl, OVERLOADED } from "./attempt-control.ts";
import type { Exchange } from "./exchange.ts";
import {
  BODY_OVERFLOW,
} from "../request/local-reply.ts";
import { RF_DI, RF_UC, RF_UO } from "../request/response-flags.ts";
import { cachedDestinationHeaders, destinationHeaders, writeRequestExtraLines, type DestinationHeaders } from "./upstream-headers.ts";
import { ResponseRelay } from "./response-relay.ts";
import { isIdempotent } from "./forward-util.ts";
import { keepLastResponseHead } from "../memory/last-request.ts";
import { errorOutcome, errorReply, recordUpstreamError } from "./retry-step.ts";

const CONTINUE_100 = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
/** A complete body up to this size goes in the same write as the head. */
const INLINE_BODY_BYTES = 16 * 1024;
/** The upstream request head's per-request lines: one writer, used synchronously by each head. */
const LINES = new HeaderLineWriter();
/**
 * The response head's lines: a writer of its own, as the head is serialized a little later (by the
 * relay, within the same upstream read callback), and only one response is committed per callback.
 */
const RESPONSE_LINES = new HeaderLineWriter();
// Constant header names, as bytes (HeaderLineWriter.putAll).
const ATTEMPT_COUNT_NAME = Buffer.from("x-envoy-attempt-count: ", "latin1");
const SERVICE_TIME_NAME = Buffer.from("x-envoy-upstream-service-time: ", "latin1");

export class Forwarder extends AttemptControl<Exchange> implements UpstreamSink {
  private readonly dh: DestinationHeaders;
  private readonly path: string;
  private readonly hostHeader: string;
  /** Filters' header lines (rare; checked when put), or "". */
  private readonly editLines: string;
  /** Telemetry writes its lines (peer identity, trace context) into each attempt's head. */
  private readonly telemetryLines: boolean;
  /** The destination's drop set, widened by telemetry (trace and peer headers it rewrites). */
  private readonly requestDrop: HeaderNameSet;

  private pool: EndpointPool | null = null;
  private conn: UpstreamConnection | null = null;
  private queued = false;
  /** Chunks of x.bodyChunks already written to the current attempt. */
  private staleRetried = false;

  /** Created when the response is committed (it goes downstream). */
  private relay: ResponseRelay | null = null;

  constructor(x: Exchange, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState) {
    super(x, action, cluster);
    const route = x.route as NonNullable<Exchange["route"]>;
    // The cache is looked up first so a request with static edits builds no value context.
    this.dh = cachedDestinationHeaders(wc) ?? destinationHeaders(route, wc, { hostname: x.proxy.hostname, sourceIp: x.sourceIp });
    this.path = rewritePath(x.head.path, route.match, action.rewrite);
    const authority = action.rewrite?.authority;
    this.hostHeader = this.dh.host ?? (authority !== undefined && authority !== "" ? authority : x.head.authority);
    const tel = x.proxy.telemetry?.onForward(x, this.dh.requestDrop, true) ?? null;
    this.telemetryLines = tel !== null;
    const drop = tel?.drop ?? this.dh.requestDrop;
    const edits = x.edits;
    // Filters' header edits (rare): their names dropped from the forwarded ones, their lines added.
    this.requestDrop = edits === null ? drop : unionNames(drop, edits.dropNames());
    this.editLines = edits === null ? "" : edits.lines();
  }

  start(): void {
    const t = this.action.timeoutMs;
    if (t > 0) this.routeTimer = this.x.proxy.clock.setTimeout(() => this.onRouteTimeout(), t);
    this.startAttempt();
  }

  // ---- attempts ----

  protected startAttempt(): void {
    if (this.beginAttempt() === null) return;
    const x = this.x;
    // A first attempt without a fault delay starts in the tick the request arrived: no clock read.
    this.attemptStartMs = x.attempts === 1 && (x.flags & RF_DI) === 0 ? x.startMs : x.proxy.clock.now();
    this.connect();
  }

  private connect(): void {
    const pool = this.cluster.pool(this.host as Host);
    this.pool = pool;
    const r = pool.acquire(this);
    if (r === "overflow") {
      this.endAttempt();
      this.fail(503, RF_UO, BODY_OVERFLOW, OVERLOADED);
      return;
    }
    if (r === "queued") {
      this.queued = true;
      return;
    }
    this.conn = r;
    // An idle pooled connection is bound and usable now; a new one reports onUpstreamReady.
    if (r.connected) this.onUpstreamReady(r);
  }

  /** endAttempt's last step: leave the pool's wait queue, forget the connection. */
  protected releaseUpstream(): void {
    if (this.queued) {
      this.pool?.cancelWait(this);
      this.queued = false;
    }
    this.conn = null;
  }

  /** Abandon the current attempt's connection (retry, timeout, downstream gone). */
  protected dropUpstream(): void {
    const c = this.conn;
    this.conn = null;
    if (c !== null) c.abort();
    this.relay?.detach();
  }

  /** A queued attempt or one still connecting has not reached its host. */
  protected reachedHost(): boolean {
    return !this.queued && this.conn?.connected === true;
  }

  // ---- UpstreamSink ----

  onUpstreamReady(conn: UpstreamConnection): void {
    if (this.done || !this.inAttempt || (this.conn !== null && this.conn !== conn)) {
      conn.abort();
      return;
    }
    this.queued = false;
    this.conn = conn;
    const x = this.x;
    x.upstreamPrincipal = conn.peerPrincipal;
    conn.beginRequest(x.head.method);
    let body: Buffer | undefined;
    if (x.bodyDone && x.replayable && x.bodyHeld > 0 && x.bodyHeld <= INLINE_BODY_BYTES) {
      body = x.bodyBuffer();
      this.sentChunks = x.bodyChunks.length;
      this.sentBytes = x.bodyHeld;
    }
    // Same order as always: proxy headers, filters' edits, attempt count, the destination's edits,
    // telemetry's; written as bytes, copied into the head (no per-request string).
    const w = LINES.reset();
    writeRequestExtraLines(w, x);
    w.put(this.editLines);
    w.putAll(ATTEMPT_COUNT_NAME).int(x.attempts).crlf();
    w.put(this.dh.requestAddLines);
    if (this.telemetryLines) x.proxy.telemetry?.writeForwardLines(x, w);
    const head = serializeRequestHead(x.head, { path: this.path, host: this.hostHeader, drop: this.requestDrop, lines: w, body });
    // With other requests in flight, written with the turn's other writes (SocketWriter.writeSoon);
    // body chunks follow in order.
    if (x.batching) conn.writeSoon(head);
    else conn.write(head);
    this.pumpBody();
  }

  /** Write the body chunks this attempt has not sent yet. */
  private pumpBody(): void {
    const conn = this.conn;
    if (conn === null || this.queued || !conn.connected) return;
    if (!this.sendBody(conn)) this.x.conn.pauseBody();
    else this.x.conn.resumeBody();
  }

  /** New request body bytes arrived downstream. */
  onRequestBody(): void {
    this.pumpBody();
    const x = this.x;
    if (x.bodyHeld - this.sentBytes > x.proxy.limits.maxReplayBodyBytes) x.conn.pauseBody();
  }

  onUpstreamDrain(): void {
    this.x.conn.resumeBody();
  }

  onUpstreamHead(head: ResponseHead): void {
    const x = this.x;
    if (head.isInterim) {
      if (head.status === 100 && x.head.expectContinue && !x.responseStarted) x.write(CONTINUE_100);
      return;
    }
    keepLastResponseHead(head);
    this.perTryTimer?.cancel();
    this.perTryTimer = null;
    const stats = this.cluster.stats;
    stats.countStatus(head.status);
    const host = this.host as Host;
    this.cluster.outlier?.onResponse(host, head.status);
    // Most responses are not retriable: ask the policy first, so they cost no RetryState (a
    // RetryState that already exists must still see the outcome, to release its retry slot).
    if (this.retryEnabled && (this.retry !== null || wouldRetryResponse(this.action.retry, head.status, head))) {
      const d = this.decide({ kind: "response", status: head.status, header: (n) => head.get(n) });
      if (d === "retry") {
        this.dropUpstream();
        this.endAttempt();
        this.scheduleRetry();
        return;
      }
    }
    this.commitResponse(head);
  }

  private commitResponse(head: ResponseHead): void {
    const x = this.x;
    x.status = head.status;
    x.responseStarted = true;
    // x-envoy-upstream-service-time (digits) and the destination's checked edits need no check.
    const nowMs = x.proxy.clock.now();
    const lines = RESPONSE_LINES.reset().putAll(SERVICE_TIME_NAME).int(Math.max(0, Math.round(nowMs - this.attemptStartMs))).crlf().put(this.dh.responseAddLines);
    let extra: [string, string][] | undefined;
    if (x.cors !== undefined) for (const h of corsResponseHeaders(x, x.cors)) (extra ??= []).push(h);
    const authz = x.metadata?.get(EXT_AUTHZ_RESPONSE_HEADERS) as HeaderPairs | undefined;
    if (authz !== undefined) for (const h of authz) (extra ??= []).push([h[0], h[1]]);
    const tel = x.proxy.telemetry?.onResponse(x, head, this.dh.responseDrop, nowMs) ?? null;
    if (tel !== null) {
      const add = tel.add;
      for (let i = 0; i < add.length; i++) (extra ??= []).push(add[i]!);
    }
    // Serialized by the relay, with the first body bytes, before this read callback returns.
    this.relay = new ResponseRelay(x, this.conn, head, tel !== null ? tel.drop : this.dh.responseDrop, lines, extra, !x.mustClose);
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    this.relay?.data(buf, start, end);
  }

  onUpstreamReadDone(): void {
    this.relay?.flush();
  }

  onDownstreamDrain(): void {
    this.relay?.drain();
  }

  onUpstreamEnd(): void {
    const x = this.x;
    const relay = this.relay as ResponseRelay;
    relay.end();
    this.cluster.outlier?.onLocalOriginSuccess(this.host as Host);
    this.conn = null;
    this.endAttempt();
    this.complete();
    x.finish(relay.closeAfter || x.mustClose);
  }

  onUpstreamError(kind: UpstreamErrorKind): void {
    const x = this.x;
    const host = this.host as Host;
    const conn = this.conn;
    this.conn = null;
    if (x.responseStarted) {
      // Mid-response: nothing to retry or answer; reset the downstream too.
      this.cluster.stats.upstream_rq_rx_reset++;
      this.endAttempt();
      this.complete();
      x.flags |= RF_UC;
      x.conn.destroy();
      x.finish(true);
      return;
    }
    // A pooled connection the upstream had closed while idle: retry once, transparently, when
    // the request can safely be sent again (no body, idempotent method) and nothing came back.
    if (
      kind === "reset-before-response" &&
      conn !== null &&
      conn.served > 0 &&
      !conn.gotBytes &&
      !this.staleRetried &&
      x.bodyHeld === 0 &&
      x.bodyDone &&
      isIdempotent(x.head.method)
    ) {
      this.staleRetried = true;
      this.connect();
      return;
    }
    recordUpstreamError(this.cluster, host, kind);
    this.endAttempt();
    if (this.retryEnabled && this.decide(errorOutcome(kind)) === "retry") {
      this.scheduleRetry();
      return;
    }
    const [status, flag, body] = errorReply(kind);
    this.fail(status, flag, body);
  }
}
