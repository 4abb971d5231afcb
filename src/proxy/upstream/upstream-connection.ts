// UpstreamConnection: one raw TCP connection to an endpoint, carrying one HTTP/1.1 exchange at a
// time. It reads into a reused buffer (`onread`), parses the response head with the codec and
// hands body bytes to its current sink without copying; whoever keeps a slice past the callback
// (a socket write that did not flush) calls `detachReadBuffer()` so the next read gets fresh memory.
// Its timers (connect timeout, max connection duration) run on the owner's Clock, one of each per
// connection; the idle timeout is the pool's.
import { Buffer } from "../../core/builtins.ts";
import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { UpstreamTlsConfig } from "../../model/proxy-config.ts";
import type { Dialer } from "./dialer.ts";
import { SocketWriter } from "../io/socket-writer.ts";
import { verifiedServerPrincipal } from "../tls/upstream-tls.ts";
import { parseResponseHead, ParseError } from "../http1/index.ts";
import { bodyBytes, BODY_CLOSE, BODY_NONE, startBody, type BodyCursor } from "../http1/body-cursor.ts";
import type { ChunkedDecoder } from "../http1/chunked.ts";
import type { ResponseHead } from "../http1/types.ts";

export type UpstreamErrorKind =
  /** TCP connect refused / unreachable / timed out (flag UF). */
  | "connect-failure"
  /** The connection closed or reset before a complete response head (flag UC). */
  | "reset-before-response"
  /** The connection closed or reset in the middle of the response body (flag UC). */
  | "reset-during-response"
  /** The upstream sent bytes that are not HTTP/1.1 (502, flag UPE). */
  | "protocol-error";

/** Receives the events of the exchange the connection currently carries. */
export interface UpstreamSink {
  onUpstreamReady(conn: UpstreamConnection): void;
  /** Interim (1xx) heads are passed too (head.isInterim); the final head follows. */
  /** The head is a view into the read buffer (parseResponseHead's `view`): its headers are valid during this call only. */
  onUpstreamHead(head: ResponseHead): void;
  /** Raw body bytes as framed on the wire (chunked stays chunked). Valid only during the call. */
  onUpstreamData(buf: Buffer, start: number, end: number): void;
  /** The response is complete. The connection has already been released (or destroyed). */
  onUpstreamEnd(): void;
  onUpstreamError(kind: UpstreamErrorKind): void;
  /** The request-side socket drained after write() returned false. */
  onUpstreamDrain(): void;
  /** End of one read's processing: flush anything batched for a single downstream write. */
  onUpstreamReadDone(): void;
}

/** What a connection needs from its pool. */
export interface ConnectionOwner {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number;
  /** 0 = none; past it the connection takes no new exchange (closed when idle). */
  readonly maxConnectionDurationMs: number;
  /** TCP keepalive (SO_KEEPALIVE) idle time before the first probe; undefined = off. */
  readonly keepAliveDelayMs: number | undefined;
  /** DestinationRule TLS to originate (absent: plain TCP). */
  readonly tls?: UpstreamTlsConfig | undefined;
  /** Opens the socket (TLS when `tls` is set). */
  readonly dial: Dialer;
  /** Runs the connect and max-duration timers. */
  readonly clock: Clock;
  onConnected(conn: UpstreamConnection): void;
  /** The exchange finished; `reusable` says whether the socket may carry another one. */
  onReleased(conn: UpstreamConnection, reusable: boolean): void;
  onClosed(conn: UpstreamConnection): void;
}

const READ_BUFFER_SIZE = 64 * 1024;

const S_CONNECTING = 0;
const S_IDLE = 1;
const S_HEAD = 2;
const S_BODY = 3;
const S_CLOSED = 4;

export class UpstreamConnection implements BodyCursor {
  readonly socket: Socket;
  private readonly writer: SocketWriter;
  readonly owner: ConnectionOwner;
  sink: UpstreamSink | null;
  /** Exchanges completed on this connection (a reused connection may be stale). */
  served = 0;
  /** Some response byte arrived for the current exchange. */
  gotBytes = false;
  /** The TCP connection was established at some point. */
  connected = false;
  /** The verified server certificate's SPIFFE id (TLS origination), "" for plaintext: set once at the handshake. */
  peerPrincipal = "";
  /** When it last went back to its pool's idle list (pool clock ms). */
  idleSince = 0;
  private state = S_CONNECTING;
  private readBuf: Buffer;
  private partial: Buffer | null = null;
  private method = "GET";
  /** The response body being received (http1/body-cursor.ts). */
  bodyKind = BODY_NONE;
  bodyRemaining = 0;
  bodyDecoder: ChunkedDecoder | null = null;
  private responseKeepAlive = true;
  private requestDone = false;
  /** maxConnectionDuration passed: finish the current exchange, then close. */
  private expired = false;
  /** Connect timeout while connecting, then maxConnectionDuration (when set). */
  private timer: TimerHandle | null = null;

  constructor(owner: ConnectionOwner, address: string, port: number, sink: UpstreamSink) {
    this.owner = owner;
    this.sink = sink;
    this.readBuf = Buffer.allocUnsafe(READ_BUFFER_SIZE);
    const opts = {
      host: address,
      port,
      noDelay: true,
      ...(owner.keepAliveDelayMs !== undefined ? { keepAlive: true, keepAliveInitialDelay: owner.keepAliveDelayMs } : {}),
      onread: { buffer: () => this.readBuf, callback: (n: number) => this.onRead(n) },
    };
    // Protocols hook: TLS origination (src/proxy/tls/upstream-tls.ts); ready after the handshake.
    const tls = owner.tls;
    this.socket = owner.dial(opts, tls, { address });
    this.writer = new SocketWriter(this.socket);
    // Unref'd, as the socket timer it replaces: timers alone never hold the process open.
    if (owner.connectTimeoutMs > 0) this.timer = owner.clock.setTimeout(() => this.onConnectTimeout(), owner.connectTimeoutMs).unref();
    this.socket.on(tls !== undefined ? "secureConnect" : "connect", () => this.onConnect());
    this.socket.on("error", noop);
    this.socket.on("end", () => this.onEnd());
    this.socket.on("close", () => this.onClose());
    this.socket.on("drain", () => this.sink?.onUpstreamDrain());
  }

  get isIdle(): boolean {
    return this.state === S_IDLE;
  }

  get isClosed(): boolean {
    return this.state === S_CLOSED;
  }

  /** Take the connection for a new exchange (from the idle list). */
  bind(sink: UpstreamSink): void {
    this.sink = sink;
    this.state = S_HEAD;
    this.gotBytes = false;
    this.requestDone = false;
    this.partial = null;
  }

  /** Start an exchange: `method` decides whether the response can carry a body. */
  beginRequest(method: string): void {
    this.method = method;
    this.state = S_HEAD;
    this.gotBytes = false;
    this.requestDone = false;
    this.partial = null;
  }

  write(buf: Buffer): boolean {
    return this.writer.write(buf);
  }

  /** An owned, complete message (a request head): written when this turn of the event loop ends (SocketWriter.writeSoon). */
  writeSoon(buf: Buffer): void {
    this.writer.writeSoon(buf);
  }

  /** The whole request (head and body) has been written. */
  endRequest(): void {
    this.requestDone = true;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** The current read buffer is referenced by a pending write elsewhere: read into new memory. */
  detachReadBuffer(): void {
    this.readBuf = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  }

  /** Abandon the exchange (timeout, downstream gone, retry): no more sink events, socket closed. */
  abort(): void {
    this.sink = null;
    this.destroy();
  }

  destroy(): void {
    if (this.state === S_CLOSED) return;
    this.socket.destroy();
  }

  private onConnect(): void {
    if (this.state !== S_CONNECTING) return;
    // The timer was the connect timeout. The idle timeout is the pool's (one timer per pool).
    this.timer?.cancel();
    this.timer = null;
    this.state = S_HEAD;
    this.connected = true;
    if (this.owner.tls !== undefined) this.peerPrincipal = verifiedServerPrincipal(this.socket);
    const maxDuration = this.owner.maxConnectionDurationMs;
    if (maxDuration > 0) this.timer = this.owner.clock.setTimeout(() => this.onMaxDuration(), maxDuration).unref();
    this.owner.onConnected(this);
    this.sink?.onUpstreamReady(this);
  }

  private onConnectTimeout(): void {
    this.timer = null;
    if (this.state !== S_CONNECTING) return;
    const sink = this.sink;
    this.sink = null;
    this.socket.destroy();
    sink?.onUpstreamError("connect-failure");
  }

  /** Envoy max_connection_duration: drain the connection (close now if idle, else after the exchange). */
  private onMaxDuration(): void {
    this.timer = null;
    this.expired = true;
    if (this.state === S_IDLE) this.socket.destroy();
  }

  private onRead(n: number): boolean {
    const buf = this.readBuf;
    this.gotBytes = true;
    if (this.state === S_IDLE) {
      // Bytes on an idle connection: the upstream is not speaking our protocol; never reuse.
      this.socket.destroy();
      return false;
    }
    this.process(buf, 0, n);
    this.sink?.onUpstreamReadDone();
    return true;
  }

  private process(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end) {
      if (this.state === S_HEAD) {
        let b = buf;
        let s = pos;
        let e = end;
        if (this.partial !== null) {
          b = Buffer.concat([this.partial, buf.subarray(pos, end)]);
          s = 0;
          e = b.length;
          this.partial = null;
        }
        // A view into `b`: the sink relays it downstream before this callback returns (onUpstreamHead).
        const head = parseResponseHead(b, s, e, this.method, undefined, s, true);
        if (head === null) {
          this.partial = Buffer.from(b.subarray(s, e));
          return;
        }
        if (head instanceof ParseError) {
          this.fail("protocol-error");
          return;
        }
        this.sink?.onUpstreamHead(head);
        if ((this.state as number) === S_CLOSED || this.sink === null) return;
        if (head.isInterim) {
          // Keep reading the final head on the same connection.
          if (b !== buf) {
            this.process(b, s + head.headLength, e);
            return;
          }
          pos = s + head.headLength;
          continue;
        }
        this.responseKeepAlive = head.keepAlive;
        this.state = S_BODY;
        if (!startBody(this, head.framing)) {
          this.complete(b === buf ? e - (s + head.headLength) : e - (s + head.headLength));
          return;
        }
        if (b !== buf) {
          // The head was spread over reads: the rest of this (fresh, owned) buffer is body.
          this.body(b, s + head.headLength, e);
          return;
        }
        pos = s + head.headLength;
        continue;
      }
      if (this.state === S_BODY) {
        this.body(buf, pos, end);
        return;
      }
      return;
    }
  }

  private body(buf: Buffer, start: number, end: number): void {
    if (start >= end) return;
    const used = bodyBytes(this, buf, start, end);
    if (used < 0) {
      this.fail("protocol-error");
      return;
    }
    if (used > 0) this.sink?.onUpstreamData(buf, start, start + used);
    if (this.bodyKind === BODY_NONE) this.complete(end - (start + used));
  }

  /** Response complete; `extra` bytes followed it in the same read (never expected). */
  private complete(extra: number): void {
    const sink = this.sink;
    this.sink = null;
    this.bodyDecoder = null;
    this.served++;
    const max = this.owner.maxRequestsPerConnection;
    const reusable =
      extra === 0 &&
      this.responseKeepAlive &&
      this.requestDone &&
      this.bodyKind !== BODY_CLOSE &&
      !this.expired &&
      (max === 0 || this.served < max);
    this.bodyKind = BODY_NONE;
    if (reusable) {
      this.state = S_IDLE;
      this.owner.onReleased(this, true);
    } else {
      this.owner.onReleased(this, false);
      this.socket.destroy();
    }
    sink?.onUpstreamEnd();
  }

  private fail(kind: UpstreamErrorKind): void {
    const sink = this.sink;
    this.sink = null;
    this.socket.destroy();
    sink?.onUpstreamError(kind);
  }

  private onEnd(): void {
    if (this.state === S_BODY && this.bodyKind === BODY_CLOSE) {
      this.complete(0);
      return;
    }
    this.onClose();
  }

  private onClose(): void {
    if (this.state === S_CLOSED) return;
    const prev = this.state;
    this.state = S_CLOSED;
    this.timer?.cancel();
    this.timer = null;
    const sink = this.sink;
    this.sink = null;
    if (!this.socket.destroyed) this.socket.destroy();
    this.owner.onClosed(this);
    if (sink === null) return;
    if (prev === S_CONNECTING) sink.onUpstreamError("connect-failure");
    else if (prev === S_HEAD) sink.onUpstreamError("reset-before-response");
    else if (prev === S_BODY) sink.onUpstreamError("reset-during-response");
  }
}

function noop(): void {}
