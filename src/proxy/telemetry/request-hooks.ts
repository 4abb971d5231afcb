// The per-request side of telemetry, called by the request path through TelemetryHooks:
//   onForward  — client side: add our identity (x-amime-peer); server side: read and strip the
//                caller's; both: continue or start the trace and write the next hop's headers.
//   onResponse — client side: read and strip the server's identity; server side: add ours.
//   onFinish   — record the Istio metrics, queue the access log line, queue the span (its tags:
//                request-span.ts).
// Everything here is in-memory work; I/O happens later in the logger and exporter.
import type { Clock } from "../../core/clock.ts";
import type { Random } from "../../core/random.ts";
import { endpointTls, type ListenerDirection } from "../../model/proxy-config.ts";
import type { HeaderEdit, TcpCounters, TelemetryHooks, TelemetryRequest } from "../request/context.ts";
import { formatResponseFlags, RF_DC, RF_FI, RF_NC, RF_NR, RF_UF, RF_UH, RF_UO, RF_UT } from "../request/response-flags.ts";
import type { HeaderLineWriter } from "../http1/index.ts";
import type { HeaderNameSet, ResponseHead } from "../http1/types.ts";
import type { AccessLogEntry } from "./access-log/log-entry.ts";
import type { AccessLogger } from "./access-log/access-logger.ts";
import type { OtlpLogExporter } from "./otlp/log-exporter.ts";
import type { FluentdForwarder } from "./fluentd/forward-client.ts";
import type { HttpSeries, IstioMetrics } from "./metrics/istio-metrics.ts";
import type { HopFacts } from "./metrics/labels.ts";
import { decodePeer, PEER_HEADER } from "./peer.ts";
import { TelemetryAttributes } from "./cel-attributes.ts";
import type { CompiledCel } from "../../model/cel/compile.ts";
import type { TelemetrySettings } from "./settings.ts";
import { requestSpan } from "./request-span.ts";
import type { SpanExporter } from "./tracing/span-exporter.ts";
import { decideSampling } from "./tracing/sampling.ts";
import { extractTraceContext, injectTraceHeaders, randomHex, writeTraceHeaderLines, type OutgoingSpan } from "./tracing/trace-context.ts";
import { SpanIds, toOutgoingSpan, writeUnsampledTraceLines } from "./tracing/span-ids.ts";
import { stripPeer, unionOf, widen } from "./drop-sets.ts";

/**
 * What telemetry keeps per request (one object, created when the request is forwarded). An
 * unsampled span without an incoming context keeps its ids in the SpanIds fields (`span` null).
 */
class RequestState extends SpanIds {
  /** The other side's raw x-amime-peer value ("" = none). */
  peer = "";
  grpcStatus = "";
  responseGrpc = false;
  fromUpstream = false;
  /** Clock.now() when the response head came (-1: none). */
  upstreamAtMs = -1;
  span: OutgoingSpan | null = null;
}

/**
 * The series of a recent label set, recognised by comparing the fields its key is made of: most
 * requests repeat one of a few label sets, so they find their series without building the key.
 */
class RecentSeries {
  settings: TelemetrySettings | null = null;
  direction: ListenerDirection = "outbound";
  cluster = "";
  host = "";
  verified = "";
  peer = "";
  status = 0;
  flags = 0;
  protocol = "";
  grpcStatus = "";
  /** The per-request part of the key (Telemetry tag overrides reading request attributes). */
  extra = "";
  series: HttpSeries | null = null;
}

/** How many recent label sets are remembered. */
const RECENT = 4;

export interface HookSinks {
  readonly metrics: IstioMetrics;
  accessLog: AccessLogger | OtlpLogExporter | FluentdForwarder | null;
  exporter: SpanExporter | null;
}

const isClientSide = (d: ListenerDirection): boolean => d !== "inbound";

/** The request's span as an object, made from its deferred ids when it has only those. */
function spanOf(st: RequestState): OutgoingSpan | null {
  if (st.span === null && st.idsDrawn) st.span = toOutgoingSpan(st);
  return st.span;
}

export class RequestHooks implements TelemetryHooks {
  private readonly current: () => TelemetrySettings;
  private readonly sinks: HookSinks;
  private readonly random: Random;
  private readonly clock: Clock;
  private readonly recent: RecentSeries[] = Array.from({ length: RECENT }, () => new RecentSeries());
  private nextRecent = 0;
  /** Reused for every expression evaluation (synchronous). */
  private readonly attrs = new TelemetryAttributes();
  /** The request whose trace context is being read, and the header getter that reads it (no closure per request). */
  private traced: TelemetryRequest | null = null;
  private readonly tracedHeader = (name: string): string | undefined => this.traced?.header(name);

  constructor(current: () => TelemetrySettings, sinks: HookSinks, random: Random, clock: Clock) {
    this.current = current;
    this.sinks = sinks;
    this.random = random;
    this.clock = clock;
  }

  onForward(x: TelemetryRequest, drop: HeaderNameSet, asLines = false): HeaderEdit | null {
    const c = this.current();
    const st = new RequestState();
    x.telemetry = st;
    const client = isClientSide(x.direction);
    if (!client) st.peer = x.header(PEER_HEADER) ?? "";
    const tracing = c.tracing !== null && c.tracing.on(x.direction);
    if (tracing) this.startSpan(x, c, st);
    // Same headers, same order either way: our identity (client side), then the trace context.
    if (asLines) return tracing ? unionOf(drop).traceOnly : unionOf(drop).peerOnly;
    const add: [string, string][] = [];
    if (client) add.push([PEER_HEADER, c.selfHeader]);
    const span = spanOf(st);
    if (span !== null) injectTraceHeaders(add, span);
    return { drop: widen(drop, tracing), add };
  }

  writeForwardLines(x: TelemetryRequest, w: HeaderLineWriter): void {
    const st = x.telemetry;
    if (!(st instanceof RequestState)) return;
    if (isClientSide(x.direction)) w.putAll(this.current().selfLine);
    if (st.span !== null) writeTraceHeaderLines(w, st.span);
    else if (st.idsDrawn) writeUnsampledTraceLines(w, st);
  }

  onResponse(x: TelemetryRequest, head: Pick<ResponseHead, "get">, drop: HeaderNameSet | undefined, atMs = this.clock.now()): HeaderEdit | null {
    const st = x.telemetry;
    if (!(st instanceof RequestState)) return null;
    st.fromUpstream = true;
    st.upstreamAtMs = atMs;
    const ct = head.get("content-type");
    if (ct !== undefined && ct.startsWith("application/grpc")) {
      st.responseGrpc = true;
      st.grpcStatus = head.get("grpc-status") ?? "";
    }
    if (isClientSide(x.direction)) {
      st.peer = head.get(PEER_HEADER) ?? "";
      return stripPeer(drop);
    }
    return { drop: widen(drop, false), add: [[PEER_HEADER, this.current().selfHeader]] };
  }

  onFinish(x: TelemetryRequest): void {
    const c = this.current();
    let st = x.telemetry instanceof RequestState ? x.telemetry : null;
    if (st === null) {
      // Answered before forwarding (no route, fault abort, direct response…).
      st = new RequestState();
      if (!isClientSide(x.direction)) st.peer = x.header(PEER_HEADER) ?? "";
      if (c.tracing !== null && c.tracing.on(x.direction)) this.startSpan(x, c, st);
    }
    if (c.metricsOn(x.direction)) this.recordMetrics(x, c, st);
    const al = c.accessLog;
    const logger = this.sinks.accessLog;
    if (al !== null && logger !== null && al.on(x.direction) && (al.filter === null || this.logged(x, c, st, al.filter))) {
      const e = logEntry(x, st);
      logger.log(al.format(e), e);
    }
    const exporter = this.sinks.exporter;
    if (st.span !== null && st.span.sampled && exporter !== null && c.tracing !== null && c.tracing.report) exporter.add(requestSpan(x, c, st.grpcStatus, st.span));
  }

  tcpCounters(direction: ListenerDirection, clusterName: string, upstreamHost: string, peerPrincipal = ""): TcpCounters | null {
    const c = this.current();
    if (!c.metricsOn(direction, true)) return null;
    const client = isClientSide(direction);
    const host = client ? upstreamHost : "";
    const verified = peerPrincipal;
    const key = `${c.config.version}\u001f${direction}\u001f${clusterName}\u001f${host}\u001f${verified}`;
    // TCP carries no peer header: the client side names the destination from the endpoint it
    // picked and the upstream certificate it verified; the server side knows itself and the
    // verified client certificate's principal only (the other source labels stay "unknown").
    const facts = (): HopFacts => {
      const cluster = c.cluster(clusterName);
      return {
        reporter: client ? "source" : "destination",
        self: c.self,
        peer: null,
        service: cluster?.service,
        endpoint: client && host !== "" ? c.endpoint(clusterName, host) : undefined,
        mtls: client ? cluster !== undefined && endpointTls(cluster, c.endpoint(clusterName, host))?.mode === "ISTIO_MUTUAL" : verified !== "",
        peerPrincipal: verified,
        protocol: "tcp",
        responseCode: "",
        grpcStatus: "",
        responseFlags: "-",
      };
    };
    const view = c.views.none ? undefined : (values: readonly string[]) => c.views.labels(direction, true, values, this.attrs.use(direction, null, "", facts));
    return this.sinks.metrics.tcpSeries(key, facts, view);
  }

  /** Continue the incoming trace or start one: the span's ids and sampling decision. */
  private startSpan(x: TelemetryRequest, c: TelemetrySettings, st: RequestState): void {
    this.traced = x;
    const ctx = extractTraceContext(this.tracedHeader);
    this.traced = null;
    const tr = c.tracing as NonNullable<TelemetrySettings["tracing"]>;
    // Without a request id the decision falls to Random (useRequestIdForTraceSampling: false).
    const sampled = decideSampling(ctx, tr.randomSampling ? "" : x.requestId, tr.percentage, this.random);
    // Most requests: a new trace, not sampled. Only its headers need the ids (span-ids.ts).
    if (ctx === null && !sampled) {
      st.drawIds(this.random);
      return;
    }
    st.span = {
      traceId: ctx !== null && ctx.traceId !== "" ? ctx.traceId : randomHex(this.random, 32),
      spanId: randomHex(this.random, 16),
      parentId: ctx?.spanId ?? "",
      sampled,
      debug: ctx?.debug ?? false,
      b3Single: ctx?.b3Single ?? false,
    };
  }

  private recordMetrics(x: TelemetryRequest, c: TelemetrySettings, st: RequestState): void {
    const client = isClientSide(x.direction);
    const grpc = st.responseGrpc || (x.header("content-type")?.startsWith("application/grpc") ?? false);
    const protocol = grpc ? "grpc" : "http";
    const host = client ? x.upstreamHost : "";
    // The other side's verified certificate: the upstream server's (client side), the client's (server side).
    const verified = client ? x.upstreamPrincipal : x.peerPrincipal;
    const views = c.views;
    const extra = !views.none && views.keysPerRequest(x.direction) ? views.requestKey(x.direction, this.attrs.use(x.direction, x, st.grpcStatus, null)) : "";
    const recent = this.recent;
    for (let i = 0; i < RECENT; i++) {
      const r = recent[i] as RecentSeries;
      if (
        r.series !== null &&
        r.settings === c &&
        r.status === x.status &&
        r.flags === x.flags &&
        r.direction === x.direction &&
        r.cluster === x.cluster &&
        r.host === host &&
        r.peer === st.peer &&
        r.verified === verified &&
        r.protocol === protocol &&
        r.grpcStatus === st.grpcStatus &&
        r.extra === extra
      ) {
        r.series.observe(x.durationMs, x.bytesReceived, x.bytesSent);
        return;
      }
    }
    const key = `${c.config.version}\u001f${x.direction}\u001f${x.cluster}\u001f${host}\u001f${verified}\u001f${st.peer}\u001f${x.status}\u001f${x.flags}\u001f${protocol}\u001f${st.grpcStatus}${extra}`;
    const facts = (): HopFacts => this.hopFacts(x, c, st);
    const view = views.none ? undefined : (values: readonly string[]) => views.labels(x.direction, false, values, this.attrs.use(x.direction, x, st.grpcStatus, facts));
    const series = this.sinks.metrics.httpSeries(key, facts, view);
    if (series === null) {
      this.sinks.metrics.dropped++;
      return;
    }
    series.observe(x.durationMs, x.bytesReceived, x.bytesSent);
    const r = recent[this.nextRecent] as RecentSeries;
    this.nextRecent = (this.nextRecent + 1) % RECENT;
    r.settings = c;
    r.direction = x.direction;
    r.cluster = x.cluster;
    r.host = host;
    r.verified = verified;
    r.peer = st.peer;
    r.status = x.status;
    r.flags = x.flags;
    r.protocol = protocol;
    r.grpcStatus = st.grpcStatus;
    r.extra = extra;
    r.series = series;
  }

  /** What the Istio labels of this request's hop are made of. */
  private hopFacts(x: TelemetryRequest, c: TelemetrySettings, st: RequestState): HopFacts {
    const client = isClientSide(x.direction);
    const host = client ? x.upstreamHost : "";
    const cluster = c.cluster(x.cluster);
    return {
      reporter: client ? "source" : "destination",
      self: c.self,
      peer: decodePeer(st.peer),
      service: cluster?.service,
      endpoint: client && host !== "" ? c.endpoint(x.cluster, host) : undefined,
      mtls: client ? cluster !== undefined && endpointTls(cluster, c.endpoint(x.cluster, host))?.mode === "ISTIO_MUTUAL" : x.peerPrincipal !== "",
      peerPrincipal: client ? x.upstreamPrincipal : x.peerPrincipal,
      protocol: st.responseGrpc || (x.header("content-type")?.startsWith("application/grpc") ?? false) ? "grpc" : "http",
      responseCode: String(x.status),
      grpcStatus: st.grpcStatus,
      responseFlags: formatResponseFlags(x.flags),
    };
  }

  /** The access log filter (Telemetry `filter.expression`): only a true result logs, as Envoy's CEL filter. */
  private logged(x: TelemetryRequest, c: TelemetrySettings, st: RequestState, filter: CompiledCel): boolean {
    return filter.eval(this.attrs.use(x.direction, x, st.grpcStatus, () => this.hopFacts(x, c, st))) === true;
  }
}

/** Envoy's RESPONSE_CODE_DETAILS, approximated from what the proxy knows. */
function responseDetails(x: TelemetryRequest, st: RequestState): string {
  if (st.fromUpstream) return "via_upstream";
  const f = x.flags;
  if (f & RF_NR) return "route_not_found";
  if (f & RF_NC) return "cluster_not_found";
  if (f & RF_FI) return "fault_filter_abort";
  if (f & RF_UH) return "no_healthy_upstream";
  if (f & RF_UO) return "upstream_overflow";
  if (f & RF_UT) return "response_timeout";
  if (f & RF_UF) return "upstream_reset_before_response_started{connection_failure}";
  if (f & RF_DC) return "downstream_remote_disconnect";
  return x.status > 0 ? "direct_response" : "-";
}

function logEntry(x: TelemetryRequest, st: RequestState): AccessLogEntry {
  return {
    startWallMs: x.startWallMs,
    method: x.method,
    path: x.path,
    protocol: "HTTP/1.1",
    status: x.status,
    flags: formatResponseFlags(x.flags),
    details: responseDetails(x, st),
    bytesReceived: x.bytesReceived,
    bytesSent: x.bytesSent,
    durationMs: x.durationMs,
    upstreamServiceTimeMs: st.upstreamAtMs < 0 ? undefined : Math.max(0, Math.round(st.upstreamAtMs - x.startMs)),
    authority: x.authority,
    requestId: x.requestId,
    upstreamHost: x.upstreamHost,
    upstreamCluster: x.cluster,
    routeName: x.routeName,
    downstreamRemoteAddress: x.sourceIp,
    downstreamPeerUriSan: x.peerPrincipal,
    upstreamPeerUriSan: x.upstreamPrincipal,
    traceId: st.span !== null ? st.span.traceId : st.idsDrawn ? st.idText(0, 32) : "",
    header: (n) => x.header(n),
  };
}
