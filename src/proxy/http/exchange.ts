// Exchange: one downstream request from its head to the end of its response. It holds what the
// pipeline layers decide (route, flags, status), the request body as it arrives (kept for retry
// replay and mirroring while it stays under the replay bound), and the per-request record the
// observer receives. It is also the RequestView the router matches on, so a lookup allocates
// nothing. The upstream side of a forwarded request lives in Forwarder.
import type { TimerHandle } from "../../core/clock.ts";
import type { Route, VirtualHost, CorsPolicy, ListenerDirection } from "../../model/proxy-config.ts";
import type { RequestHead } from "../http1/types.ts";
import type { RequestView } from "../router/index.ts";
import type { DownstreamConnection } from "../listener/downstream-connection.ts";
import type { ListenerContext, ProxyContext, Runtime, TelemetryRequest } from "./context.ts";
import { localReply } from "./local-reply.ts";
import { RF_DC } from "./response-flags.ts";

export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

/** The upstream side of a forwarded request, as the exchange drives it (Forwarder, H1Stream). */
export interface ExchangeForwarder {
  onRequestBody(): void;
  onDownstreamDrain(): void;
  abort(): void;
}

export class Exchange implements TelemetryRequest, RequestView {
  readonly conn: DownstreamConnection;
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

  // ---- route decisions ----
  route: Route | null = null;
  virtualHost: VirtualHost | null = null;
  cors: CorsPolicy | undefined = undefined;
  forwarder: ExchangeForwarder | null = null;
  /** Fault delay timer. */
  timer: TimerHandle | null = null;
  /** Mirror clusters waiting for the request body to complete. */
  pendingMirrors: readonly string[] | null = null;

  // ---- request body ----
  bodyDone = false;
  /** Body chunks held: all of them while replayable, else only the ones not yet sent. */
  readonly bodyChunks: Buffer[] = [];
  /** Bytes in bodyChunks. */
  bodyHeld = 0;
  /** The whole body is in bodyChunks (for retries and mirrors). */
  replayable = true;

  constructor(conn: DownstreamConnection, head: RequestHead) {
    this.conn = conn;
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
    if (this.wallStart < 0) {
      const clock = this.proxy.clock;
      this.wallStart = Math.round(clock.wallNow() - (clock.now() - this.startMs));
    }
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
    return this.head.get(name);
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
    else if (this.bodyHeld > this.proxy.limits.maxReplayBodyBytes) this.conn.pauseBody();
  }

  onBodyEnd(): void {
    this.bodyDone = true;
    if (this.forwarder !== null) this.forwarder.onRequestBody();
    if (this.pendingMirrors !== null && this.onMirrorReady !== null) this.onMirrorReady(this);
  }

  /** Set by the mirror layer when mirrors wait for the body. */
  onMirrorReady: ((x: Exchange) => void) | null = null;

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

  /** Answer locally (no route, fault abort, 503s, timeouts, direct responses). */
  reply(status: number, flags: number, body?: string, headers?: HeaderPairs): void {
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
