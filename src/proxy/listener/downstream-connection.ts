// DownstreamConnection: one client connection on an HTTP listener. Parses request heads, frames
// request bodies (Content-Length or chunked, passed through as received), runs one Exchange at a
// time and keeps pipelined bytes aside until the response in flight is done, so responses never
// reorder. Handlers are bound once per connection; a request costs its head and its Exchange.
import { Buffer } from "node:buffer";
import { verifiedPeerOf, xfccPlanOf } from "../detect/mesh-tls.ts";
import type { XfccPlan } from "../detect/xfcc.ts";
import type { Socket } from "node:net";
import { parseRequestHead, ParseError } from "../http1/index.ts";
import { bodyBytes, BODY_NONE, startBody, type BodyCursor } from "../http1/body-cursor.ts";
import type { ChunkedDecoder } from "../http1/chunked.ts";
import type { ListenerContext } from "../request/context.ts";
import type { ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import { Exchange, type ExchangeConn, type TunnelProbe } from "../http/exchange.ts";
import { localReply } from "../request/local-reply.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { forwardH1, startRequest } from "./h1-dispatch.ts";
import { readIntoShared, SocketWriter } from "../io/index.ts";
import type { HeaderTimeouts, HeadWaiter } from "./header-timeout.ts";

const S_HEAD = 0;
const S_BODY = 1;
const S_WAIT = 2;
const S_CLOSED = 3;

/** Pending unparsed bytes beyond this while a request is in flight: stop reading (pipelining). */
const MAX_PIPELINED_BYTES = 64 * 1024;

/**
 * One read buffer shared by every downstream connection (io/shared-reads.ts, plain TCP and TLS):
 * libuv (or OpenSSL) delivers one read at a time and the codec copies whatever outlives the
 * callback (head, held body chunks, pipelined bytes), so no connection needs its own.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export class DownstreamConnection implements ExchangeConn, HeadWaiter, BodyCursor {
  readonly socket: Socket;
  private readonly writer: SocketWriter;
  readonly listener: ListenerContext;
  readonly sourceIp: string;
  /** The verified mTLS peer's SPIFFE URI (src/proxy/detect/mesh-tls.ts), "" for plaintext. */
  readonly peerPrincipal: string;
  /** What its requests do to x-forwarded-client-cert (detect/xfcc.ts); null: removed. */
  readonly xfcc: XfccPlan | null;
  private state = S_HEAD;
  private pending: Buffer | null = null;
  private exchange: Exchange | null = null;
  /** The request body being received (http1/body-cursor.ts). */
  bodyKind = BODY_NONE;
  bodyRemaining = 0;
  bodyDecoder: ChunkedDecoder | null = null;
  private feeding = false;
  private gone = false;
  private pausedForBody = false;
  private pausedForPipeline = false;
  /** The bytes being fed live in SHARED_READ_BUFFER: copy whatever is kept past the call. */
  private borrowed = false;
  /** The socket reads into SHARED_READ_BUFFER; else it is a stream ('data' chunks). */
  private readonly sharedReads: boolean;
  /** takeOver() happened on an `onread` socket: reads go to the stream (tunnels) as copies. */
  private streamMode = false;
  /** Set by close(): finish writing, then end the socket. */
  private closing = false;
  /** Bytes came in or a response finished since the last idle sweep. */
  private touched = false;
  /** When the last sweep saw the connection untouched (clock ms). */
  private idleSince: number;
  private onClosed: (c: DownstreamConnection) => void;
  /** After a CONNECT (src/proxy/connect/): decides, on the first bytes that follow, whether the
   * connection stays HTTP/1.1 (false), was taken over (true: a raw or HTTP/2 tunnel), or needs more bytes. */
  private tunnelProbe: TunnelProbe | null = null;
  /** The listener's request-head deadline (null: off). */
  private readonly headTimer: HeaderTimeouts | null;
  /** A head is partly received and timed (headTimer holds this connection). */
  private headTimed = false;
  headStartMs = 0;

  constructor(accepted: Socket, listener: ListenerContext, onClosed: (c: DownstreamConnection) => void, headTimer: HeaderTimeouts | null = null) {
    this.listener = listener;
    this.onClosed = onClosed;
    this.headTimer = headTimer;
    const r = readIntoShared(accepted, SHARED_READ_BUFFER, (n) => this.onRead(n));
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
    if (r === null) socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => this.exchange?.onDownstreamDrain());
    socket.on("error", noop);
    socket.on("end", () => this.onGone());
    socket.on("close", () => this.onGone());
    const stats = listener.proxy.downstream;
    stats.downstream_cx_total++;
    stats.downstream_cx_active++;
    // Bytes the dispatcher peeked (owned memory): parse them now, as the first read.
    if (r !== null && r.early !== null) this.onData(r.early);
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
      this.feed(p, 0, p.length);
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

  /** Abort: the connection is unusable (upstream reset mid-response, protocol error). */
  /** A routed request's upstream side (the router filter's hand-off, via Exchange.forward). */
  forward(x: Exchange, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
    forwardH1(x, action, wc, cluster);
  }

  destroy(): void {
    this.state = S_CLOSED;
    this.socket.destroy();
  }

  // ---- socket events ----

  /** `onread` socket: n bytes in SHARED_READ_BUFFER. false pauses reading (never needed here). */
  private onRead(n: number): boolean {
    const buf = SHARED_READ_BUFFER;
    if (this.streamMode) {
      // A tunnel owns the connection now: hand it copies through the stream; its backpressure
      // (push() false) stops reading until the stream asks for more (Socket._read restarts it).
      return this.socket.push(Buffer.from(buf.subarray(0, n)));
    }
    this.borrowed = true;
    try {
      // No view of the shared buffer per read: feed it with bounds (a Buffer object less per request).
      if (this.pending === null && (this.state === S_HEAD || this.state === S_BODY)) {
        this.touched = true;
        this.feed(buf, 0, n);
      } else {
        this.onData(buf.subarray(0, n));
      }
    } finally {
      this.borrowed = false;
    }
    return true;
  }

  private onData(chunk: Buffer): void {
    if (this.state === S_CLOSED) return;
    this.touched = true;
    if (this.state === S_WAIT) {
      this.keep(chunk, 0, chunk.length);
      return;
    }
    if (this.pending !== null && this.state === S_HEAD) {
      const p = this.pending;
      this.pending = null;
      const joined = Buffer.concat([p, chunk]);
      this.feed(joined, 0, joined.length);
      return;
    }
    this.feed(chunk, 0, chunk.length);
  }

  private feed(buf: Buffer, start: number, end: number): void {
    this.feeding = true;
    let pos = start;
    for (;;) {
      while (pos < end && (this.state === S_HEAD || this.state === S_BODY)) {
        if (this.state === S_BODY) {
          pos = this.body(buf, pos, end);
          continue;
        }
        if (this.tunnelProbe !== null) {
          // Once per tunnel: the probe may keep the bytes, so they must be its own.
          const bytes = this.borrowed ? Buffer.from(buf.subarray(pos, end)) : buf.subarray(pos, end);
          const verdict = this.tunnelProbe(bytes, this);
          if (verdict === "more") {
            this.keep(buf, pos, end);
            pos = end;
            break;
          }
          this.tunnelProbe = null;
          if (verdict) {
            // The tunnel took the connection and these bytes (takeOver() took `pending`).
            this.feeding = false;
            return;
          }
        }
        // Socket chunks (and joined pending bytes) are fresh memory: the head may keep a view.
        const head = parseRequestHead(buf, pos, end, this.listener.proxy.limits.head, pos, !this.borrowed);
        if (head === null) {
          this.keep(buf, pos, end);
          pos = end;
          // Slow path only: a head that came whole never reaches here.
          if (!this.headTimed && this.headTimer !== null && this.headTimer.enabled) {
            this.headTimed = true;
            this.headTimer.start(this);
          }
          break;
        }
        if (this.headTimed) {
          this.headTimed = false;
          this.headTimer?.stop(this);
        }
        if (head instanceof ParseError) {
          this.protocolError(head.status);
          this.feeding = false;
          return;
        }
        pos += head.headLength;
        const x = new Exchange(this, head);
        this.exchange = x;
        if (startBody(this, head.framing)) {
          this.state = S_BODY;
        } else {
          this.state = S_WAIT;
          x.onBodyEnd();
        }
      }
      // Start the request once the body bytes that came with its head are in: a small request
      // then goes upstream in one write. It may also finish synchronously (local reply).
      const x = this.exchange;
      if (x !== null && !x.started) {
        try {
          startRequest(x);
        } catch {
          // A bug in a layer must cost this request, never the process (and every other request).
          this.listener.proxy.downstream.downstream_rq_internal_error++;
          if (!x.finished) x.reply(500, 0, "internal proxy error\n");
        }
      }
      if (pos >= end || this.state === S_CLOSED) break;
      if (this.state === S_HEAD) continue; // finished synchronously: next pipelined request
      // A request is in flight: hold the pipelined rest until its response is done.
      this.keep(buf, pos, end);
      break;
    }
    this.feeding = false;
  }

  /** Request body bytes; returns the position after what belonged to this request. */
  private body(buf: Buffer, pos: number, end: number): number {
    const x = this.exchange as Exchange;
    const used = bodyBytes(this, buf, pos, end);
    if (used < 0) {
      // Malformed chunked framing: the stream cannot be trusted any further.
      this.listener.proxy.downstream.downstream_cx_protocol_error++;
      this.destroy();
      return end;
    }
    if (used > 0) {
      // The exchange holds body chunks (replay, backpressure): never a view of the shared buffer.
      if (this.borrowed) x.onBody(Buffer.from(buf.subarray(pos, pos + used)), 0, used);
      else x.onBody(buf, pos, pos + used);
    }
    if (this.bodyKind === BODY_NONE) {
      this.state = S_WAIT;
      x.onBodyEnd();
    }
    return pos + used;
  }

  /** Keep unparsed bytes (a stream socket's chunks are ours: no copy needed for a single slice). */
  private keep(buf: Buffer, start: number, end: number): void {
    if (start >= end) return;
    const slice = this.borrowed ? Buffer.from(buf.subarray(start, end)) : buf.subarray(start, end);
    this.pending = this.pending === null ? slice : Buffer.concat([this.pending, slice]);
    if (this.exchange !== null && !this.pausedForPipeline && this.pending.length > MAX_PIPELINED_BYTES) {
      this.pausedForPipeline = true;
      this.socket.pause();
    }
  }

  private protocolError(status: number): void {
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

function stripV4Mapped(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

function noop(): void {}
