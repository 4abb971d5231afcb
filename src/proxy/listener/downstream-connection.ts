// DownstreamConnection: one client connection on an HTTP listener: its socket (shared-buffer reads,
// batched writes), what its Exchange asks of it (writes, body backpressure, the end of a response,
// a tunnel taking it over) and how it ends (graceful close, idle sweep, request-head timeout,
// protocol errors, the client going away). How its bytes become requests, one at a time with
// pipelined ones held back: request-reader.ts. Handlers are bound once per connection; a request
// costs its head and its Exchange.
import { verifiedPeerOf, xfccPlanOf } from "../detect/mesh-tls.ts";
import type { XfccPlan } from "../detect/xfcc.ts";
import type { Socket } from "node:net";
import { BODY_NONE } from "../http1/body-cursor.ts";
import type { ChunkedDecoder } from "../http1/chunked.ts";
import type { ListenerContext } from "../request/context.ts";
import type { ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import type { Exchange, TunnelProbe } from "../http/exchange.ts";
import { localReply } from "../request/local-reply.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { forwardH1 } from "./h1-dispatch.ts";
import { readIntoShared, SHARED_READ_BUFFER, SocketWriter } from "../io/index.ts";
import { stripV4Mapped } from "../io/source-ip.ts";
import type { HeaderTimeouts } from "./header-timeout.ts";
import { feed, readChunk, readShared, S_BODY, S_CLOSED, S_HEAD, type ReadingConn } from "./request-reader.ts";

export class DownstreamConnection implements ReadingConn {
  readonly socket: Socket;
  private readonly writer: SocketWriter;
  readonly listener: ListenerContext;
  readonly sourceIp: string;
  /** The verified mTLS peer's SPIFFE URI (src/proxy/detect/mesh-tls.ts), "" for plaintext. */
  readonly peerPrincipal: string;
  /** What its requests do to x-forwarded-client-cert (detect/xfcc.ts); null: removed. */
  readonly xfcc: XfccPlan | null;
  // The reading state (request-reader.ts documents each field, on ReadingConn).
  state = S_HEAD;
  pending: Buffer | null = null;
  exchange: Exchange | null = null;
  bodyKind = BODY_NONE;
  bodyRemaining = 0;
  bodyDecoder: ChunkedDecoder | null = null;
  feeding = false;
  borrowed = false;
  streamMode = false;
  touched = false;
  pausedForPipeline = false;
  tunnelProbe: TunnelProbe | null = null;
  readonly headTimer: HeaderTimeouts | null;
  headTimed = false;
  headStartMs = 0;
  private gone = false;
  private pausedForBody = false;
  /** The socket reads into SHARED_READ_BUFFER; else it is a stream ('data' chunks). */
  private readonly sharedReads: boolean;
  /** Set by close(): finish writing, then end the socket. */
  private closing = false;
  /** When the last sweep saw the connection untouched (clock ms). */
  private idleSince: number;
  private onClosed: (c: DownstreamConnection) => void;

  constructor(accepted: Socket, listener: ListenerContext, onClosed: (c: DownstreamConnection) => void, headTimer: HeaderTimeouts | null = null) {
    this.listener = listener;
    this.onClosed = onClosed;
    this.headTimer = headTimer;
    const r = readIntoShared(accepted, SHARED_READ_BUFFER, (n) => readShared(this, n));
    const socket = r === null ? accepted : r.socket;
    this.socket = socket;
    this.writer = new SocketWriter(socket);
    this.sharedReads = r !== null;
    this.sourceIp = stripV4Mapped(socket.remoteAddress ?? "");
    this.peerPrincipal = verifiedPeerOf(accepted);
    this.xfcc = xfccPlanOf(accepted);
    socket.setNoDelay(true);
    // No socket.setTimeout: Node re-arms that timer on every read and write. The listener's
    // coarse sweep (checkIdle) closes idle connections instead.
    this.idleSince = listener.proxy.clock.now();
    if (r === null) socket.on("data", (chunk: Buffer) => readChunk(this, chunk));
    socket.on("drain", () => this.exchange?.onDownstreamDrain());
    socket.on("error", noop);
    socket.on("end", () => this.onGone());
    socket.on("close", () => this.onGone());
    const stats = listener.proxy.downstream;
    stats.downstream_cx_total++;
    stats.downstream_cx_active++;
    // Bytes the dispatcher peeked (owned memory): parse them now, as the first read.
    if (r !== null && r.early !== null) readChunk(this, r.early);
  }

  get idle(): boolean {
    return this.exchange === null && this.pending === null;
  }

  /** Graceful close: an idle connection closes now, a busy one after its response. */
  close(): void {
    this.closing = true;
    if (this.exchange === null) this.end();
  }

  /** Draining: the current response announces `Connection: close`. */
  get draining(): boolean {
    return this.closing;
  }

  // ---- called by the Exchange ----

  write(buf: Buffer): boolean {
    return this.writer.write(buf);
  }

  /** An owned, complete message: written when this turn of the event loop ends (SocketWriter.writeSoon). */
  writeSoon(buf: Buffer): void {
    this.writer.writeSoon(buf);
  }

  /** Bytes still wait to go out (a slice written now may outlive the call). */
  get writeQueued(): boolean {
    return this.writer.queued;
  }

  pauseBody(): void {
    this.pausedForBody = true;
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.pausedForBody) return;
    this.pausedForBody = false;
    if (!this.pausedForPipeline && this.state !== S_CLOSED) this.socket.resume();
  }

  /** The request body has been fully received (the exchange asks before keeping the connection). */
  get requestComplete(): boolean {
    return this.state !== S_BODY;
  }

  /** The exchange wrote its whole response. `close`: the response said `Connection: close`. */
  exchangeDone(x: Exchange, close: boolean): void {
    if (this.exchange !== x) return;
    this.exchange = null;
    this.touched = true;
    if (close || this.state === S_BODY || this.closing) {
      // A request whose body was not read to its end leaves the stream unframed: close.
      this.end();
      return;
    }
    this.state = S_HEAD;
    if (this.pausedForPipeline) {
      this.pausedForPipeline = false;
      if (!this.pausedForBody) this.socket.resume();
    }
    if (this.feeding) return; // the feed loop on the stack continues with the pending bytes
    const p = this.pending;
    if (p !== null) {
      this.pending = null;
      feed(this, p, 0, p.length);
    }
  }

  /**
   * Protocols hook (src/proxy/upgrade/): after an accepted Upgrade (101) the socket stops being
   * HTTP. The codec lets go of it (no more parsing, no idle timer) and returns the bytes the client
   * already sent past the request head, for the tunnel. 'end'/'close' stay wired for bookkeeping.
   */
  takeOver(): Buffer | null {
    this.writer.flush();
    const early = this.pending;
    this.pending = null;
    this.exchange = null;
    this.state = S_CLOSED;
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("drain");
    // An `onread` socket streams from now on (copies pushed into the Readable side).
    if (this.sharedReads) this.streamMode = true;
    if (this.pausedForPipeline || this.pausedForBody) {
      this.pausedForPipeline = false;
      this.pausedForBody = false;
      this.socket.resume();
    }
    return early;
  }

  /** CONNECT hook: run `probe` on the bytes the client sends next (again with more, while it answers "more"). */
  expectTunnel(probe: TunnelProbe): void {
    this.tunnelProbe = probe;
  }

  /** A routed request's upstream side (the router filter's hand-off, via Exchange.forward). */
  forward(x: Exchange, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
    forwardH1(x, action, wc, cluster);
  }

  /** Abort: the connection is unusable (upstream reset mid-response, protocol error). */
  destroy(): void {
    this.state = S_CLOSED;
    this.socket.destroy();
  }

  protocolError(status: number): void {
    this.listener.proxy.downstream.downstream_cx_protocol_error++;
    this.state = S_CLOSED;
    this.pending = null;
    if (this.exchange === null) {
      this.writer.flush();
      this.socket.end(localReply({ status, close: true }));
    } else {
      this.socket.destroy();
    }
  }

  /**
   * The listener's idle sweep (every few seconds): a connection with no request in flight that
   * saw no byte and finished no response for `idleMs` is closed. Requests in flight are bounded
   * by route timeouts instead. Precision is one sweep interval.
   */
  checkIdle(now: number, idleMs: number): void {
    if (this.touched) {
      this.touched = false;
      this.idleSince = now;
      return;
    }
    if (this.exchange === null && this.state !== S_CLOSED && now - this.idleSince >= idleMs) this.end();
  }

  /**
   * The head was not complete within the listener's requestHeadersTimeoutMs (Envoy: 408 with
   * Connection: close, `downstream_rq_header_timeout`).
   */
  onHeaderTimeout(): void {
    this.headTimed = false;
    if (this.state !== S_HEAD || this.exchange !== null) return;
    this.listener.proxy.downstream.downstream_rq_header_timeout++;
    this.state = S_CLOSED;
    this.pending = null;
    this.writer.flush();
    this.socket.end(localReply({ status: 408, close: true, body: "request header timeout" }));
  }

  private end(): void {
    if (this.state === S_CLOSED) return;
    this.state = S_CLOSED;
    this.writer.flush();
    this.socket.end();
  }

  private onGone(): void {
    // The client's FIN: Node ends this socket right after 'end' (no half-open HTTP connections),
    // so a response held for the end of this turn goes out first (a closed socket drops it).
    this.writer.flush();
    if (this.headTimed) {
      this.headTimed = false;
      this.headTimer?.stop(this);
    }
    if (!this.gone) {
      this.gone = true;
      this.listener.proxy.downstream.downstream_cx_active--;
      this.onClosed(this);
    }
    this.state = S_CLOSED;
    const x = this.exchange;
    this.exchange = null;
    // The client went away (or the socket failed) with a request in flight: flag DC, reset upstream.
    x?.onDownstreamClosed();
    if (!this.socket.destroyed && !this.socket.writable) this.socket.destroy();
  }
}

function noop(): void {}
