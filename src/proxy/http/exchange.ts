// Exchange: one HTTP/1.1 downstream request from its head to the end of its response, the
// RequestContext its filters run on (request/request-context.ts). It holds what the filters
// decide (route, flags, status), the request body as it arrives (kept for retry
// replay and mirroring while it stays under the replay bound), and the per-request record the
// observer receives. It is also the RequestView the router matches on, so a lookup allocates
// nothing. The upstream side of a forwarded request lives in Forwarder.
import { Buffer } from "../../core/builtins.ts";
import type { Socket } from "node:net";
import { wallTimeAt, type TimerHandle } from "../../core/clock.ts";
import type { Route, VirtualHost, CorsPolicy, ListenerDirection, ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import { serializeRequestHead, compileHeaderNames } from "../http1/index.ts";
import type { RequestHead } from "../http1/types.ts";
import { HeaderEdits, withEdits, unionNames } from "../request/header-edits.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import type { FilterChain, ListenerContext, ProxyContext, RequestContext, Runtime } from "../request/context.ts";
import { localReply } from "../request/local-reply.ts";
import { RF_DC } from "../request/response-flags.ts";
import type { XfccPlan } from "../detect/xfcc.ts";
import { keepLastRequest } from "../memory/last-request.ts";

export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

const MIRROR_DROP = compileHeaderNames(["x-forwarded-for", "x-envoy-attempt-count", "x-forwarded-client-cert"]);
const NO_CHAIN: FilterChain = [];

/**
 * After a CONNECT: `bytes` are what the client sent past it so far. true: the probe took the
 * connection (takeOver()) and owns `bytes`; false: it stays HTTP/1.1; "more": ask again with more.
 */
export type TunnelProbe = (bytes: Buffer, conn: ExchangeConn) => boolean | "more";

/**
 * What an exchange needs of its downstream connection (listener/downstream-connection.ts),
 * which also hands a routed request to the HTTP/1.1 upstream drivers (the room above).
 */
export interface ExchangeConn {
  readonly socket: Socket;
  /** The verified mTLS peer's SPIFFE URI, "" when the connection has none. */
  readonly peerPrincipal: string;
  /** What the connection does to x-forwarded-client-cert (detect/xfcc.ts); null: removed. */
  readonly xfcc: XfccPlan | null;
  readonly listener: ListenerContext;
  readonly sourceIp: string;
  readonly draining: boolean;
  readonly requestComplete: boolean;
  readonly writeQueued: boolean;
  write(buf: Buffer): boolean;
  /** An owned, complete message, written when this turn of the event loop ends (with the turn's other writes). */
  writeSoon(buf: Buffer): void;
  pauseBody(): void;
  resumeBody(): void;
  destroy(): void;
  exchangeDone(x: Exchange, close: boolean): void;
  takeOver(): Buffer | null;
  expectTunnel(probe: TunnelProbe): void;
  forward(x: Exchange, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void;
}

/** The upstream side of a forwarded request, as the exchange drives it (Forwarder, H1Stream). */
export interface ExchangeForwarder {
  onRequestBody(): void;
  onDownstreamDrain(): void;
  abort(): void;
}

export class Exchange implements RequestContext {
  readonly conn: ExchangeConn;
  readonly downstreamProtocol = "http1";
  readonly grpc = false;
  readonly head: RequestHead;
  readonly listenerCtx: ListenerContext;
  readonly proxy: ProxyContext;
  /** The config version this request runs on, start to end. */
  readonly runtime: Runtime;
  readonly startMs: number;
  /** Wall-clock start, derived on first read (most requests are never asked: one clock call less). */
  private wallStart = -1;
  started = false;
  finished = false;
  /** The response head went downstream (no local reply or retry possible any more). */
  responseStarted = false;

  // ---- record ----
  flags = 0;
  status = 0;
  durationMs = 0;
  upstreamHost = "";
  upstreamPrincipal = "";
  cluster = "";
  routeName = "";
  attempts = 0;
  bytesReceived = 0;
  bytesSent = 0;
  requestId: string;
  /** The x-request-id was generated here (the upstream head must carry it). */
  requestIdGenerated = false;
  /** Per-request state of the telemetry hooks (opaque here). */
  telemetry: unknown = undefined;
  peerPrincipal = "";
  get xfcc(): XfccPlan | null {
    return this.conn.xfcc;
  }
  metadata: Map<string, unknown> | null = null;
  /** Request header edits by filters; null when none edited. */
  edits: HeaderEdits | null = null;
  filterChain: FilterChain = NO_CHAIN;
  filterIndex = 0;

  // ---- route decisions ----
  route: Route | null = null;
  virtualHost: VirtualHost | null = null;
  cors: CorsPolicy | undefined = undefined;
  forwarder: ExchangeForwarder | null = null;
  /** Fault delay timer. */
  timer: TimerHandle | null = null;
  /** Mirror clusters waiting for the request body to complete. */
  pendingMirrors: readonly string[] | null = null;
  /** Set by the mirror step when mirrors wait for the body. */
  onBodyComplete: ((x: RequestContext) => void) | null = null;

  // ---- request body ----
  bodyDone = false;
  /** Body chunks held: all of them while replayable, else only the ones not yet sent. */
  readonly bodyChunks: Buffer[] = [];
  /** Bytes in bodyChunks. */
  bodyHeld = 0;
  /** The whole body is in bodyChunks (for retries and mirrors). */
  replayable = true;

  constructor(conn: ExchangeConn, head: RequestHead) {
    this.conn = conn;
    this.peerPrincipal = conn.peerPrincipal;
    this.head = head;
    this.listenerCtx = conn.listener;
    this.proxy = conn.listener.proxy;
    this.runtime = this.proxy.runtime;
    this.startMs = this.proxy.clock.now();
    const ds = this.proxy.downstream;
    ds.downstream_rq_total++;
    ds.downstream_rq_active++;
    const id = head.get("x-request-id");
    if (id === undefined || id === "") {
      this.requestId = "";
      this.requestIdGenerated = true;
    } else {
      this.requestId = id;
    }
  }

  // ---- RequestView / RequestRecord ----
  get startWallMs(): number {
    if (this.wallStart < 0) this.wallStart = wallTimeAt(this.proxy.clock, this.startMs);
    return this.wallStart;
  }
  get listener(): string {
    return this.listenerCtx.name;
  }
  get direction(): ListenerDirection {
    return this.listenerCtx.direction;
  }
  get method(): string {
    return this.head.method;
  }
  get path(): string {
    return this.head.path;
  }
  get authority(): string {
    return this.head.authority;
  }
  /** https on a listener that terminates TLS (routing `scheme` matches, x-forwarded-proto). */
  get scheme(): "http" | "https" {
    return this.listenerCtx.secure === true ? "https" : "http";
  }
  get port(): number {
    return this.listenerCtx.port;
  }
  get sourceIp(): string {
    return this.conn.sourceIp;
  }
  header(name: string): string | undefined {
    const e = this.edits;
    if (e !== null) {
      const v = e.get(name);
      if (v !== undefined) return v ?? undefined;
    }
    return this.head.get(name);
  }
  setHeader(name: string, value: string): void {
    (this.edits ??= new HeaderEdits()).put(name, value);
  }
  removeHeader(name: string): void {
    (this.edits ??= new HeaderEdits()).remove(name);
  }
  headerNames(): string[] {
    const names = new Set<string>();
    const h = this.head;
    for (let i = 0; i < h.count; i++) names.add(h.nameAt(i).toLowerCase());
    return withEdits(names, this.edits);
  }
  /** The connection's addresses (consistent-hash keys on the source IP, generated cookies). */
  connAddrs(): { sourceIp: string; remoteAddress: string; localAddress: string } {
    const s = this.conn.socket;
    return { sourceIp: this.sourceIp, remoteAddress: `${s.remoteAddress}:${s.remotePort}`, localAddress: `${s.localAddress}:${s.localPort}` };
  }
  /** An Upgrade request without a body: it takes the upgrade path (upgrade/). */
  get upgrade(): boolean {
    const h = this.head;
    const f = h.framing;
    return h.upgrade !== null && (f.kind === "none" || (f.kind === "length" && f.length === 0));
  }

  forward(action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
    this.conn.forward(this, action, wc, cluster);
  }

  mirrorHead(authority: string, extra: HeaderPairs, body: Buffer | undefined): Buffer {
    const e = this.edits;
    return serializeRequestHead(this.head, {
      host: authority,
      drop: e === null ? MIRROR_DROP : unionNames(MIRROR_DROP, e.dropNames()),
      lines: e === null ? undefined : e.lines(),
      extra,
      body,
    });
  }

  // ---- request body (from the downstream connection) ----

  onBody(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    this.bytesReceived += n;
    this.bodyChunks.push(start === 0 && end === buf.length ? buf : buf.subarray(start, end));
    this.bodyHeld += n;
    if (this.replayable && this.bodyHeld > this.proxy.limits.maxReplayBodyBytes) this.replayable = false;
    const f = this.forwarder;
    if (f !== null) f.onRequestBody();
    else if (this.bodyHeld > this.proxy.limits.maxReplayBodyBytes) {
      this.conn.pauseBody();
      // Nothing more is buffered before the request is forwarded: whoever waits for the body hears it now.
      this.bodyComplete();
    }
  }

  onBodyEnd(): void {
    this.bodyDone = true;
    if (this.forwarder !== null) this.forwarder.onRequestBody();
    this.bodyComplete();
  }

  private bodyComplete(): void {
    const cb = this.onBodyComplete;
    if (cb === null) return;
    this.onBodyComplete = null;
    cb(this);
  }

  /** The whole body as one Buffer (only meaningful when bodyDone && replayable). */
  bodyBuffer(): Buffer | undefined {
    const c = this.bodyChunks;
    if (c.length === 0) return undefined;
    if (c.length === 1) return c[0];
    return Buffer.concat(c, this.bodyHeld);
  }

  // ---- response side ----

  /** Connection: close on this response? */
  get mustClose(): boolean {
    return !this.head.keepAlive || this.conn.draining || !this.conn.requestComplete;
  }

  /**
   * Answer locally (no route, fault abort, 503s, timeouts, direct responses). `grpcStatus`: HTTP
   * 200 with that grpc-status and `body` as grpc-message, no body (a gRPC fault abort).
   */
  reply(status: number, flags: number, body?: string, headers?: HeaderPairs, grpcStatus?: number): void {
    if (this.finished) return;
    this.flags |= flags;
    if (this.responseStarted) {
      // Too late for a clean answer: reset the downstream connection.
      this.conn.destroy();
      this.finish(true);
      return;
    }
    const close = this.mustClose;
    const extra: [string, string][] = [];
    if (headers !== undefined) for (const h of headers) extra.push([h[0], h[1]]);
    if (grpcStatus !== undefined) {
      extra.push(["content-type", "application/grpc"], ["grpc-status", String(grpcStatus)]);
      if (body !== undefined) extra.push(["grpc-message", body]);
      body = undefined;
    }
    const buf = localReply({
      status,
      body,
      headers: extra,
      close,
      head: this.head.method === "HEAD",
      http10KeepAlive: this.head.versionMinor === 0 && !close,
    });
    this.status = status;
    this.responseStarted = true;
    this.bytesSent += buf.length;
    this.conn.write(buf);
    this.finish(close);
  }

  /** Write response bytes downstream; false = the socket is congested (wait for drain). */
  write(buf: Buffer): boolean {
    this.bytesSent += buf.length;
    return this.conn.write(buf);
  }

  /**
   * Other requests are in flight in this proxy: their reads are likely handled in this turn of the
   * event loop, so a complete message written now is held to the turn's end and goes out with
   * theirs (SocketWriter.writeSoon). Alone, nothing would join it: it is written at once.
   */
  get batching(): boolean {
    return this.proxy.downstream.downstream_rq_active > 1;
  }

  /** Owned response bytes (a head, with a small body): written with the turn's other writes when batching, else now. */
  writeSoon(buf: Buffer): void {
    this.bytesSent += buf.length;
    if (this.batching) this.conn.writeSoon(buf);
    else this.conn.write(buf);
  }

  onDownstreamDrain(): void {
    this.forwarder?.onDownstreamDrain();
  }

  /** The client closed or reset the connection before the response was done. */
  onDownstreamClosed(): void {
    if (this.finished) return;
    this.flags |= RF_DC;
    this.timer?.cancel();
    this.timer = null;
    this.forwarder?.abort();
    this.finish(true);
  }

  /** The request is over: count, report, and let the connection move on. */
  finish(close: boolean): void {
    if (this.finished) return;
    this.finished = true;
    keepLastRequest(this);
    this.timer?.cancel();
    this.timer = null;
    this.durationMs = this.proxy.clock.now() - this.startMs;
    const ds = this.proxy.downstream;
    ds.downstream_rq_active--;
    if (this.status > 0) ds.countStatus(this.status);
    const obs = this.proxy.observer;
    if (obs !== undefined) {
      try {
        obs(this);
      } catch {
        // An observer bug must never break the request path.
      }
    }
    const tel = this.proxy.telemetry;
    if (tel !== undefined) {
      try {
        tel.onFinish(this);
      } catch {
        // Same for telemetry.
      }
    }
    this.conn.exchangeDone(this, close);
  }
}
