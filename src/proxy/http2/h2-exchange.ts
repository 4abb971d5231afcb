// H2Exchange: one HTTP/2 stream from a downstream client (h2c or TLS+ALPN h2), from its headers
// to the end of its response. The HTTP/2 counterpart of http/exchange.ts: the RequestContext its
// filters run on (request/context.ts) and the record the observer and telemetry receive. Its
// head, as the router and filters read it, is H2Request's; here: the request body, held while it
// is small enough to replay, the response (or a local reply: plain text for HTTP clients, a
// trailers-only gRPC status for gRPC clients), and the end (count, report).
import { Buffer } from "../../core/builtins.ts";
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerStreamResponseOptions } from "node:http2";
import type { DownstreamStream } from "./downstream-stream.ts";
import { wallTimeAt, type TimerHandle } from "../../core/clock.ts";
import type { CorsPolicy, ForwardAction, Route, VirtualHost, WeightedCluster } from "../../model/proxy-config.ts";
import type { FilterChain, ListenerContext, ProxyContext, RequestContext, Runtime } from "../request/context.ts";
import { RF_DC } from "../request/response-flags.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { encodeGrpcMessage, grpcStatusForLocalReply } from "./grpc.ts";
import { expectsContinue, firstValue, rawResponseHeaders, toH2Headers, type FlatHeaders, type HeaderPairs } from "./headers.ts";
import type { ForwardStream, ForwardStreamSink } from "./forward-stream.ts";
import { H2Forwarder } from "./h2-forwarder.ts";
import { H2Request } from "./h2-request.ts";
import type { XfccPlan } from "../detect/xfcc.ts";
import { keepLastH2Request } from "../memory/last-request.ts";

const NO_CHAIN: FilterChain = [];
/** respond()'s options, shared (node:http2 only reads them). */
const END_STREAM: ServerStreamResponseOptions = Object.freeze({ endStream: true });
const WAIT_FOR_TRAILERS: ServerStreamResponseOptions = Object.freeze({ waitForTrailers: true });
const NO_OPTIONS: ServerStreamResponseOptions = Object.freeze({});

/**
 * The stream's listeners are shared functions that reach the exchange through this slot (no five
 * closures per stream), cleared when the exchange is done: node:http2 keeps a stream object
 * after its response went out, and what its listeners held (exchange, forwarder, header lists)
 * stayed reachable with it; some of it survived into the old generation (h2load at saturation:
 * 146 → 100 bytes promoted per request).
 */
const EXCHANGE = Symbol("amime.h2exchange");
type OwnedStream = DownstreamStream & { [EXCHANGE]: H2Exchange | null };

function onStreamData(this: OwnedStream, b: Buffer): void {
  this[EXCHANGE]?.onData(b);
}
function onStreamEnd(this: OwnedStream): void {
  this[EXCHANGE]?.onEnd();
}
function onStreamDrain(this: OwnedStream): void {
  this[EXCHANGE]?.sink?.onDownstreamDrain();
}
function onStreamClose(this: OwnedStream): void {
  this[EXCHANGE]?.onClose();
}

/** What the exchange tells whoever forwards it (set by the forwarder). */
export type H2ExchangeSink = ForwardStreamSink;

export class H2Exchange extends H2Request implements RequestContext, ForwardStream {
  readonly proxy: ProxyContext;
  readonly runtime: Runtime;
  readonly downstreamProtocol = "http2";
  readonly upgrade = false;
  readonly startMs: number;
  /** The start in wall time, derived when first read (a log entry, a span), as the HTTP/1.1 Exchange does: Date.now() is a V8 runtime call. */
  private wallStart = -1;
  finished = false;
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
  requestIdGenerated = false;
  telemetry: unknown = undefined;
  peerPrincipal = "";
  /** What the connection does to x-forwarded-client-cert (detect/xfcc.ts); null: removed. */
  xfcc: XfccPlan | null = null;
  metadata: Map<string, unknown> | null = null;
  filterChain: FilterChain = NO_CHAIN;
  filterIndex = 0;

  // ---- route decisions ----
  route: Route | null = null;
  virtualHost: VirtualHost | null = null;
  cors: CorsPolicy | undefined = undefined;
  timer: TimerHandle | null = null;
  sink: H2ExchangeSink | null = null;
  /** Mirror clusters waiting for the request body, and who sends them. */
  pendingMirrors: readonly string[] | null = null;
  onBodyComplete: ((x: RequestContext) => void) | null = null;

  // ---- request body ----
  bodyDone: boolean;
  readonly bodyChunks: Buffer[] = [];
  bodyHeld = 0;
  replayable = true;
  /** The request stream is paused (upstream congested or nothing reads it yet). */
  private paused = false;
  /** The stream's 'drain' is listened for (after the first write that filled its buffer). */
  private drainHeard = false;
  /** The request had no body: its stream is never read (see the constructor). */
  private readonly unread: boolean;

  constructor(stream: DownstreamStream, headers: IncomingHttpHeaders, endStream: boolean, ctx: ListenerContext, sourceIp: string, secure: boolean) {
    super(stream, headers, ctx, sourceIp, secure);
    this.proxy = ctx.proxy;
    this.runtime = this.proxy.runtime;
    this.startMs = this.proxy.clock.now();
    this.bodyDone = endStream;
    this.unread = endStream;
    const ds = this.proxy.downstream;
    ds.downstream_rq_total++;
    ds.downstream_rq_active++;
    const id = firstValue(headers["x-request-id"]);
    this.requestId = id;
    this.requestIdGenerated = id === "";
    (stream as OwnedStream)[EXCHANGE] = this;
    // A request without a body (END_STREAM on its HEADERS) is not read at all: node:http2 drains
    // and destroys an unread stream once it closes. A stream read to its end is destroyed as soon
    // as it closes, before the response's last write reports back, and Writable then builds an
    // ERR_STREAM_DESTROYED (a formatted message and a stack trace: ≈ 3.6 µs) per response.
    if (!endStream) {
      stream.on("data", onStreamData);
      stream.on("end", onStreamEnd);
      // A client waiting for `100 Continue` before its body gets it at once, and the upstream never
      // sees the Expect (Envoy's default, proxy_100_continue false; the HTTP/1.1 → HTTP/2 path does
      // the same, h1-stream.ts). Forwarding it would leave the client waiting: an HTTP/1.1
      // upstream's interim 100 is not passed on to HTTP/2 (h1-attempt.ts).
      if (expectsContinue(headers.expect)) stream.continue100();
    }
    stream.on("error", noop);
    stream.on("close", onStreamClose);
  }

  get startWallMs(): number {
    if (this.wallStart < 0) this.wallStart = wallTimeAt(this.proxy.clock, this.startMs);
    return this.wallStart;
  }

  // ---- RequestContext ----
  get record(): this {
    return this;
  }

  forward(action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
    new H2Forwarder(this, action, wc, cluster).start();
  }

  // ---- request body ----
  /** The whole body as one Buffer (only meaningful when bodyDone && replayable). */
  bodyBuffer(): Buffer | undefined {
    const c = this.bodyChunks;
    if (c.length === 0) return undefined;
    if (c.length === 1) return c[0];
    return Buffer.concat(c, this.bodyHeld);
  }

  /** @internal The stream's 'data'. */
  onData(b: Buffer): void {
    this.bytesReceived += b.length;
    this.bodyChunks.push(b);
    this.bodyHeld += b.length;
    if (this.replayable && this.bodyHeld > this.proxy.limits.maxReplayBodyBytes) this.replayable = false;
    if (this.sink !== null) this.sink.onRequestData();
    else if (this.bodyHeld > this.proxy.limits.maxReplayBodyBytes) {
      this.pauseBody();
      // Nothing more is buffered before the request is forwarded: whoever waits for the body hears it now.
      this.bodyComplete();
    }
  }

  /** @internal The stream's 'end'. */
  onEnd(): void {
    this.bodyDone = true;
    this.sink?.onRequestData();
    this.bodyComplete();
  }

  private bodyComplete(): void {
    const cb = this.onBodyComplete;
    if (cb === null) return;
    this.onBodyComplete = null;
    cb(this);
    if (this.finished) this.release();
  }

  /** Let go of the stream's link to this exchange (nothing it emits matters any more). */
  private release(): void {
    // Mirrors still waiting for the request body hear its end first (bodyComplete releases then).
    if (this.onBodyComplete === null) (this.stream as OwnedStream)[EXCHANGE] = null;
  }

  pauseBody(): void {
    // Nothing to hold back when the request had no body (and a paused stream that nobody reads
    // would never end, so node:http2 would never destroy it).
    if (this.paused || this.unread) return;
    this.paused = true;
    this.stream.pause();
  }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream.resume();
  }

  // ---- response ----

  /** Send the response head; `endStream`: no body and no trailers follow. */
  respond(status: number, headers: FlatHeaders, endStream: boolean, wantTrailers: boolean): boolean {
    if (this.finished || this.stream.destroyed || this.stream.headersSent) return false;
    this.status = status;
    this.responseStarted = true;
    try {
      // A raw header list (node:http2 ≥ 24): no header object to build and copy per response.
      this.stream.respond(rawResponseHeaders(status, headers) as unknown as OutgoingHttpHeaders, endStream ? END_STREAM : wantTrailers ? WAIT_FOR_TRAILERS : NO_OPTIONS);
    } catch {
      return false;
    }
    return true;
  }

  write(buf: Buffer): boolean {
    this.bytesSent += buf.length;
    const ok = this.stream.write(buf);
    // 'drain' is listened for once a write has filled the stream's buffer (it is emitted later,
    // never inside write()): most responses never fill it, and a listener per stream costs.
    if (!ok && !this.drainHeard) {
      this.drainHeard = true;
      this.stream.on("drain", onStreamDrain);
    }
    return ok;
  }

  /**
   * End the response body. After respond(…, wantTrailers) the stream waits for trailers: `trailers`
   * (or an empty trailer block when the upstream sent none) close it.
   */
  end(trailers: HeaderPairs | null, wantTrailers: boolean): void {
    const s = this.stream;
    if (s.destroyed) return;
    if (wantTrailers) {
      s.once("wantTrailers", () => {
        try {
          s.sendTrailers(toH2Headers(trailers ?? [], {}));
        } catch {
          s.close();
        }
      });
    }
    s.end();
  }

  /**
   * Answer locally. gRPC clients (and any client when `grpcStatus` is given: a gRPC fault abort)
   * get HTTP 200 and a trailers-only response carrying the grpc-status mapped from status/flags.
   */
  reply(status: number, flags: number, body?: string, headers?: ReadonlyArray<readonly [string, string]>, grpcStatus?: number): void {
    if (this.finished) return;
    this.flags |= flags;
    if (this.responseStarted) {
      this.reset();
      return;
    }
    const out: FlatHeaders = [];
    if (headers !== undefined) for (const h of headers) out.push(h[0], h[1]);
    if (this.grpc || grpcStatus !== undefined) {
      const code = grpcStatus ?? grpcStatusForLocalReply(status, this.flags);
      out.push("content-type", "application/grpc", "grpc-status", String(code));
      if (body !== undefined && body !== "") out.push("grpc-message", encodeGrpcMessage(body));
      this.respond(200, out, true, false);
    } else {
      const b = body ?? "";
      const withBody = b !== "" && this.method !== "HEAD" && status !== 204 && status !== 304;
      if (b !== "") out.push("content-type", "text/plain", "content-length", String(Buffer.byteLength(b)));
      this.respond(status, out, !withBody, false);
      if (withBody) {
        this.bytesSent += Buffer.byteLength(b);
        this.stream.end(b);
      }
    }
    this.finish();
  }

  /** Reset the stream (a response already under way cannot be answered cleanly). */
  reset(): void {
    const s = this.stream;
    if (!s.destroyed) s.close(2 /* INTERNAL_ERROR */);
    this.finish();
  }

  /** @internal The stream's 'close'. */
  onClose(): void {
    if (this.finished) return;
    this.flags |= RF_DC;
    this.timer?.cancel();
    this.timer = null;
    this.sink?.abort();
    this.finish();
  }

  /** Over: count, report. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.timer?.cancel();
    this.timer = null;
    this.durationMs = this.proxy.clock.now() - this.startMs;
    this.release();
    // Its hidden classes outlive a quiet spell's collection (memory/last-request.ts); one with body chunks is not held.
    if (this.bodyChunks.length === 0) keepLastH2Request(this);
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
    try {
      this.proxy.telemetry?.onFinish(this);
    } catch {
      // Same for telemetry.
    }
  }
}

function noop(): void {}
