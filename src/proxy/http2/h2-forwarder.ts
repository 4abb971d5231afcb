// H2Forwarder: the upstream side of one HTTP/2 downstream stream, or of an HTTP/1.1 request to
// an HTTP/2 upstream (through H1Stream) — the counterpart of http/forwarder.ts with the same
// layers and flags: route timeout (capped by grpc-timeout for gRPC requests → 504 UT /
// DEADLINE_EXCEEDED) → retry loop (RetryState, retryOn incl. the gRPC tokens read from a
// trailers-only grpc-status) → balance (UH) → maxRequests (UO) → an attempt on the upstream
// protocol (upstreamIsH2): HTTP/1.1 endpoint pool or an HTTP/2 session. Bodies stream with
// backpressure both ways; request bodies up to the replay bound are kept for retries. The
// timeouts, retry decisions and the end of the request live in http/attempt-control.ts.
import { XFCC_HEADER, xfccHeaderValue } from "../detect/xfcc.ts";
import type { ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import { corsResponseHeaders, rewritePath } from "../router/index.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { AttemptControl, OVERLOADED } from "../http/attempt-control.ts";
import { errorOutcome, errorReply, recordUpstreamError } from "../http/retry-step.ts";
import {
  BODY_OVERFLOW,
} from "../request/local-reply.ts";
import { RF_UC, RF_UO } from "../request/response-flags.ts";
import { EXT_AUTHZ_RESPONSE_HEADERS } from "../request/context.ts";
import { cachedDestinationHeaders, destinationHeaders, UPSTREAM_SERVICE_TIME, type DestinationHeaders } from "../http/upstream-headers.ts";
import type { AttemptError, AttemptSink, UpstreamAttempt, UpstreamRequest } from "./attempt.ts";
import { H1Attempt } from "./h1-attempt.ts";
import { H2Attempt } from "./h2-attempt.ts";
import { upstreamIsH2, type ForwardStream, type ForwardStreamSink } from "./forward-stream.ts";
import { h2PoolFor } from "./h2-session-pool.ts";
import { parseGrpcTimeout } from "./grpc.ts";
import { keepLastAttempt } from "../memory/last-request.ts";
import type { FlatHeaders, HeaderPairs } from "./headers.ts";
import type { HeaderLineWriter } from "../http1/index.ts";
import type { HeaderNameSet } from "../http1/types.ts";

const NO_PAIRS: HeaderPairs = [];
const NO_FIELDS: FlatHeaders = [];
/** The response head onHead hands to the downstream, one list for every response (ForwardStream.respond keeps none). */
const RESPONSE_HEAD: string[] = [];

/**
 * The response head being handled, read by name (retry conditions, telemetry): one view, used
 * synchronously inside onHead, instead of closures over the list per response.
 */
const HEAD_VIEW = {
  list: NO_FIELDS,
  get(this: void, name: string): string | undefined {
    const l = HEAD_VIEW.list;
    for (let i = 0; i < l.length; i += 2) if (l[i] === name) return l[i + 1];
    return undefined;
  },
};

/**
 * The headers the proxy sets on every forwarded request: x-request-id (when it made one),
 * x-forwarded-for and -proto, x-forwarded-client-cert as the connection's plan says.
 */
function forEachProxyHeader(x: ForwardStream, put: (name: string, value: string) => void): void {
  if (x.requestIdGenerated) put("x-request-id", x.requestId);
  const xff = x.header("x-forwarded-for");
  put("x-forwarded-for", xff === undefined || xff === "" ? x.sourceIp : `${xff}, ${x.sourceIp}`);
  if (x.header("x-forwarded-proto") === undefined) put("x-forwarded-proto", x.scheme);
  if (x.xfcc !== null) {
    const v = xfccHeaderValue(x.xfcc, x.header(XFCC_HEADER));
    if (v !== undefined) put(XFCC_HEADER, v);
  }
}

export class H2Forwarder extends AttemptControl<ForwardStream> implements AttemptSink, ForwardStreamSink {
  /** The destination's header edits, compiled once per destination (shared with the HTTP/1.1 forwarder). */
  private readonly dh: DestinationHeaders;
  /** The forwarded headers of an HTTP/2 upstream (an HTTP/1.1 attempt writes them: writeHeadLines). */
  private readonly baseHeaders: HeaderPairs;
  /** Request headers not forwarded: the destination's drop set, widened by telemetry's. */
  private readonly drop: HeaderNameSet;
  /** Telemetry writes its lines (peer identity, trace context) into an HTTP/1.1 attempt's head. */
  private readonly telemetryLines: boolean;
  private readonly h2: boolean;
  private readonly path: string;
  private readonly authority: string;
  private attempt: UpstreamAttempt | null = null;
  private wantTrailers = false;

  constructor(x: ForwardStream, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState) {
    super(x, action, cluster);
    const route = x.route as NonNullable<ForwardStream["route"]>;
    // The cache is looked up first so a request with static edits builds no value context.
    const dh = cachedDestinationHeaders(wc) ?? destinationHeaders(route, wc, { hostname: x.proxy.hostname, sourceIp: x.sourceIp });
    this.dh = dh;
    // The upstream's protocol is the cluster's (retries stay on it): an HTTP/1.1 upstream gets the
    // destination's and telemetry's headers as lines written straight into its request head.
    const h2 = upstreamIsH2(cluster.config, x.downstreamProtocol, x.grpc);
    this.h2 = h2;
    // The destination's drop set holds the headers the proxy sets itself (x-forwarded-for,
    // x-envoy-attempt-count, x-forwarded-client-cert) and the edits' removals.
    const tel = x.proxy.telemetry?.onForward(x.record, dh.requestDrop, !h2) ?? null;
    const drop = tel?.drop ?? dh.requestDrop;
    this.drop = drop;
    this.telemetryLines = !h2 && tel !== null;
    // An HTTP/2 upstream gets the headers as pairs, made once; an HTTP/1.1 attempt writes them
    // into its head (writeHeadLines), so nothing per header is kept while the request is in flight.
    if (h2) {
      const headers: HeaderPairs = [];
      const put = (n: string, v: string): void => void headers.push([n, v]);
      x.forEachForwardHeader((n) => drop.has(n), put);
      forEachProxyHeader(x, put);
      for (const h of dh.requestAdd) put(h[0], h[1]);
      if (tel !== null) for (const h of tel.add) put(h[0], h[1]);
      this.baseHeaders = headers;
    } else {
      this.baseHeaders = NO_PAIRS;
    }
    this.path = rewritePath(x.path, route.match, action.rewrite);
    const rewriteAuthority = action.rewrite?.authority;
    this.authority = dh.host ?? (rewriteAuthority !== undefined && rewriteAuthority !== "" ? rewriteAuthority : x.authority);
  }

  start(): void {
    this.x.sink = this;
    let t = this.action.timeoutMs;
    // grpc-timeout caps the route timeout (Envoy max_stream_duration.grpc_timeout_header_max as
    // Istio sets it): a deadline shorter than the route's ends the call as DEADLINE_EXCEEDED here.
    const g = this.x.grpc ? parseGrpcTimeout(this.x.header("grpc-timeout")) : undefined;
    if (g !== undefined && (t <= 0 || g < t)) t = g;
    if (t > 0) this.routeTimer = this.x.proxy.clock.setTimeout(() => this.onRouteTimeout(), t);
    this.startAttempt();
  }

  // ---- attempts ----

  protected startAttempt(): void {
    const host = this.beginAttempt();
    if (host === null) return;
    const x = this.x;
    const cluster = this.cluster;
    this.attemptStartMs = x.proxy.clock.now();
    const h2 = this.h2;
    const req: UpstreamRequest = {
      method: x.method,
      path: this.path,
      authority: this.authority,
      scheme: cluster.tlsFor(host) !== undefined ? "https" : "http",
      headers: h2 ? [...this.baseHeaders, ["x-envoy-attempt-count", String(x.attempts)]] : NO_PAIRS,
      hasLength: x.header("content-length") !== undefined && !this.drop.has("content-length"),
      noBody: x.bodyDone && x.bodyHeld === 0 && x.bodyChunks.length === 0,
    };
    const a: UpstreamAttempt = h2 ? new H2Attempt(h2PoolFor(cluster).session(host), req, this) : new H1Attempt(cluster.pool(host), req, this);
    this.attempt = a;
    a.start();
  }

  /** An attempt holds nothing beyond what dropUpstream lets go of. */
  protected releaseUpstream(): void {}

  protected dropUpstream(): void {
    const a = this.attempt;
    this.attempt = null;
    a?.abort();
  }

  protected reachedHost(): boolean {
    return this.attempt?.reachedHost === true;
  }

  /** Write the request body chunks this attempt has not sent yet. */
  private pump(): void {
    const a = this.attempt;
    if (a === null || !a.ready) return;
    if (!this.sendBody(a)) this.x.pauseBody();
    else this.x.resumeBody();
  }

  // ---- ForwardStreamSink (downstream) ----

  onRequestData(): void {
    this.pump();
    const x = this.x;
    if (x.bodyHeld - this.sentBytes > x.proxy.limits.maxReplayBodyBytes) x.pauseBody();
  }

  onDownstreamDrain(): void {
    this.attempt?.resumeResponse();
  }

  // ---- AttemptSink (upstream) ----

  /** Other requests are in flight in this proxy (Exchange.batching). */
  get batching(): boolean {
    return this.x.proxy.downstream.downstream_rq_active > 1;
  }

  /** An HTTP/1.1 attempt's header lines: the forwarded headers, then the proxy's, in the HTTP/1.1 forwarder's order. */
  writeHeadLines(w: HeaderLineWriter, keepLength: boolean): void {
    const x = this.x;
    const drop = this.drop;
    const put = (n: string, v: string): void => {
      if (keepLength || n !== "content-length") w.put(n).put(": ").put(v).crlf();
    };
    x.forEachForwardHeader((n) => drop.has(n), put);
    forEachProxyHeader(x, put);
    w.put("x-envoy-attempt-count: ").int(x.attempts).crlf();
    w.put(this.dh.requestAddLines);
    if (this.telemetryLines) x.proxy.telemetry?.writeForwardLines(x.record, w);
  }

  onReady(): void {
    // HTTP/1.1 attempts are ready once connected; an HTTP/2 stream may be ready before its
    // session is (onHead reads it again).
    this.x.upstreamPrincipal = this.attempt?.peerPrincipal ?? "";
    this.pump();
  }

  onDrain(): void {
    this.x.resumeBody();
  }

  onHead(status: number, headers: FlatHeaders, endStream: boolean): void {
    const x = this.x;
    this.perTryTimer?.cancel();
    this.perTryTimer = null;
    x.upstreamPrincipal = this.attempt?.peerPrincipal ?? "";
    this.cluster.stats.countStatus(status);
    const host = this.host as Host;
    this.cluster.outlier?.onResponse(host, status);
    HEAD_VIEW.list = headers;
    if (this.retryEnabled && this.decide({ kind: "response", status, header: HEAD_VIEW.get }) === "retry") {
      HEAD_VIEW.list = NO_FIELDS;
      this.dropUpstream();
      this.endAttempt();
      this.scheduleRetry();
      return;
    }
    // Telemetry reads (client side: strips) the peer's identity and adds ours (server side). One
    // reading of the clock for its time and x-envoy-upstream-service-time, as the HTTP/1.1 forwarder does.
    const nowMs = x.proxy.clock.now();
    const tel = x.proxy.telemetry?.onResponse(x.record, HEAD_VIEW, undefined, nowMs) ?? null;
    HEAD_VIEW.list = NO_FIELDS;
    const out = RESPONSE_HEAD;
    while (out.length > 0) out.pop();
    // The destination's response drop set holds x-envoy-upstream-service-time: set, not appended (as Envoy's router does).
    const responseDrop = this.dh.responseDrop;
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i] as string;
      if (!responseDrop.has(n) && (tel === null || !tel.drop.has(n))) out.push(n, headers[i + 1] as string);
    }
    out.push(UPSTREAM_SERVICE_TIME, String(Math.round(nowMs - this.attemptStartMs)));
    for (const [n, v] of this.dh.responseAdd) out.push(n, v);
    if (tel !== null) for (const [n, v] of tel.add) out.push(n, v);
    if (x.cors !== undefined) for (const [n, v] of corsResponseHeaders(x.record, x.cors)) out.push(n, v);
    const authz = x.metadata?.get(EXT_AUTHZ_RESPONSE_HEADERS) as HeaderPairs | undefined;
    if (authz !== undefined) for (const [n, v] of authz) out.push(n, v);
    this.wantTrailers = !endStream && (this.attempt?.trailersPossible ?? false);
    if (!x.respond(status, out, endStream, this.wantTrailers)) {
      this.abort();
      x.reset();
      return;
    }
  }

  onData(buf: Buffer): void {
    if (!this.x.write(buf)) this.attempt?.pauseResponse();
  }

  onEnd(trailers: HeaderPairs | null): void {
    const x = this.x;
    this.cluster.outlier?.onLocalOriginSuccess(this.host as Host);
    const a = this.attempt;
    this.attempt = null;
    // Kept past a quiet spell's collection (memory/last-request.ts); an HTTP/2 attempt would hold its upstream session.
    if (a instanceof H1Attempt) keepLastAttempt(a);
    // A response that ended before the request did (gRPC server finishing early): stop sending.
    if (a !== null && !this.requestEnded) a.abort();
    this.endAttempt();
    this.complete();
    if (x.responseStarted) x.end(trailers, this.wantTrailers);
    x.finish();
  }

  onError(kind: AttemptError): void {
    const x = this.x;
    const host = this.host as Host;
    this.attempt = null;
    if (x.responseStarted) {
      this.cluster.stats.upstream_rq_rx_reset++;
      this.endAttempt();
      this.complete();
      x.flags |= RF_UC;
      x.reset();
      return;
    }
    if (kind === "overflow") {
      this.endAttempt();
      this.fail(503, RF_UO, BODY_OVERFLOW, OVERLOADED);
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
