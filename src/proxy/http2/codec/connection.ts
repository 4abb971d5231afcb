// H2Connection: Amime's server side of one HTTP/2 connection (RFC 9113) over a socket (h2c or TLS):
// what each frame the client sends means, and the connection's and streams' states (RFC 9113 §5.1).
// Its parts: frames out of the reads, each checked against its definition (FrameReader, whose
// subclass it is), header blocks decoded (HeaderBlocks) into request heads (request-headers.ts),
// flow control both ways (RecvFlow for request DATA, SendFlow for responses), the peer's SETTINGS
// (peer-settings.ts), the limits nghttp2 has against floods (FloodGuard: rapid reset, PING/SETTINGS
// floods, empty frames → GOAWAY ENHANCE_YOUR_CALM), what is remembered of closed streams
// (ClosedStreams), and the frames it sends, once per turn (H2Output). Each request stream is an
// H2ServerStream handed to `onStream`.
import { Buffer } from "../../../core/builtins.ts";
import type { IncomingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import { H2ServerStream } from "./server-stream.ts";
import { H2Output } from "./output.ts";
import { HeaderBlocks } from "./header-blocks.ts";
import { requestHead } from "./request-headers.ts";
import { FrameReader } from "./frame-reader.ts";
import { RecvFlow } from "./recv-flow.ts";
import { SendFlow } from "./send-flow.ts";
import { applyPeerSettings, WINDOWS_MOVED } from "./peer-settings.ts";
import { FloodGuard } from "./flood-guard.ts";
import { ClosedStreams } from "./closed-streams.ts";
import * as F from "./frames.ts";
import { readIntoShared, SHARED_READ_BUFFER } from "../../io/shared-reads.ts";

export interface H2ConnectionOptions {
  /** Milliseconds, monotonic (the proxy's Clock): the rapid-reset budget refills with it. */
  now: () => number;
  maxConcurrentStreams?: number;
  maxHeaderListSize?: number;
  /** Fields per header block (node:http2's maxHeaderListPairs): more → 431. */
  maxHeaderPairs?: number;
  /**
   * Read into the shared read buffer (io/shared-reads.ts) instead of 'data' chunks: no buffer, stream
   * push and 'data' emit per read. The socket object changes for plain TCP (`connection.socket`).
   * Not for a socket something else still reads or listens to (a CONNECT tunnel's).
   */
  sharedReads?: boolean;
}

export interface H2ConnectionHandler {
  onStream(stream: H2ServerStream, headers: IncomingHttpHeaders, endStream: boolean): void;
  onClose(): void;
}

const MAX_HEADER_BLOCK = 256 * 1024;

export class H2Connection extends FrameReader {
  readonly socket: Socket;
  readonly output: H2Output;
  /** The response side: DATA within the peer's windows. */
  readonly flow: SendFlow<H2ServerStream>;
  /** The request side: the windows we give the peer. */
  readonly recv: RecvFlow;
  private readonly handler: H2ConnectionHandler;
  private readonly maxStreams: number;
  private readonly blocks: HeaderBlocks;
  private readonly streams = new Map<number, H2ServerStream>();
  /** Highest stream id the peer opened (streams at or below it that are not in `streams` are closed). */
  private lastStreamId = 0;
  private goawaySent = false;
  private peerGoaway = false;
  private closed = false;
  /** Streams closed by this side during the turn: their 'close' is emitted after the turn's write. */
  private closing: H2ServerStream[] = [];
  private readonly guard: FloodGuard;
  private readonly closedStreams = new ClosedStreams();

  constructor(accepted: Socket, handler: H2ConnectionHandler, opts: H2ConnectionOptions) {
    super();
    const shared = opts.sharedReads === true ? readIntoShared(accepted, SHARED_READ_BUFFER, (n) => this.onSharedRead(n)) : null;
    const socket = shared === null ? accepted : shared.socket;
    this.socket = socket;
    this.handler = handler;
    this.guard = new FloodGuard(opts.now);
    this.maxStreams = opts.maxConcurrentStreams ?? 1024;
    this.blocks = new HeaderBlocks(opts.maxHeaderListSize ?? 64 * 1024, opts.maxHeaderPairs ?? 128);
    this.output = new H2Output(socket);
    this.output.onFlush = () => this.afterFlush();
    this.flow = new SendFlow(this.output, (s) => {
      if (s.remoteEnded) this.removeStream(s, true);
    });
    this.output.settings([F.SETTINGS_MAX_CONCURRENT_STREAMS, this.maxStreams, F.SETTINGS_MAX_HEADER_LIST_SIZE, opts.maxHeaderListSize ?? 64 * 1024]);
    // Its WINDOW_UPDATE follows our SETTINGS (the server preface starts with it, RFC 9113 §3.4).
    this.recv = new RecvFlow(this.output);
    if (shared === null) socket.on("data", (b: Buffer) => this.read(b));
    socket.on("drain", () => this.onSocketDrain());
    socket.on("error", noop);
    socket.once("close", () => this.onSocketClose());
    // Flowing: 'data' chunks, or (shared reads) the end of the stream seen, so the socket closes.
    socket.resume();
    // Bytes read before the switch (the preface the protocol detection peeked at).
    if (shared !== null && shared.early !== null) this.read(shared.early);
  }

  private onSharedRead(n: number): boolean {
    this.readBorrowed(SHARED_READ_BUFFER, n);
    return true;
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  // ---- lifecycle ----

  /** Graceful: GOAWAY (no new streams), the connection closes when its last stream is done. */
  close(): void {
    if (this.closed) return;
    if (!this.goawaySent) {
      this.goawaySent = true;
      this.output.goaway(this.lastStreamId, F.NO_ERROR);
    }
    this.endIfIdle();
  }

  destroy(): void {
    this.socket.destroy();
  }

  protected connectionError(code: number): void {
    if (this.closed) return;
    if (!this.goawaySent) {
      this.goawaySent = true;
      this.output.goaway(this.lastStreamId, code);
    }
    this.closed = true;
    this.output.flush();
    this.socket.end();
    this.socket.destroySoon();
  }

  private endIfIdle(): void {
    if ((this.goawaySent || this.peerGoaway) && this.streams.size === 0 && !this.closed) {
      this.closed = true;
      this.output.flush();
      this.socket.end();
    }
  }

  private onSocketClose(): void {
    this.closed = true;
    const open = [...this.streams.values()];
    this.streams.clear();
    for (const s of open) this.dropStream(s);
    this.emitClosing();
    // Streams still open when the connection went: their exchanges hear it (RF_DC, upstream aborted).
    for (const s of open) s.emitClose();
    this.handler.onClose();
  }

  private onSocketDrain(): void {
    this.output.congested = false;
    this.flow.socketDrained();
  }

  private afterFlush(): void {
    if (!this.output.congested) this.guard.written();
    this.emitClosing();
  }

  private emitClosing(): void {
    const c = this.closing;
    if (c.length === 0) return;
    this.closing = [];
    for (const s of c) s.emitClose();
  }

  // ---- frames in (FrameReader calls these, each frame checked against its definition) ----

  protected onSettings(b: Buffer, start: number, end: number): void {
    const applied = applyPeerSettings(b, start, end, this.output, this.flow, this.streams);
    if (applied > F.NO_ERROR) return this.connectionError(applied);
    if (!this.guard.control()) return this.connectionError(F.ENHANCE_YOUR_CALM);
    this.output.settingsAck();
    // DATA the larger windows let out goes after the ACK.
    if (applied === WINDOWS_MOVED) this.flow.pumpBlocked();
  }

  protected onPing(b: Buffer, start: number): void {
    if (!this.guard.control()) return this.connectionError(F.ENHANCE_YOUR_CALM);
    this.output.pingAck(b, start);
  }

  protected onGoaway(): void {
    this.peerGoaway = true;
    this.endIfIdle();
  }

  protected onWindowUpdate(id: number, increment: number): void {
    const s = id === 0 ? null : this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) this.connectionError(F.PROTOCOL_ERROR);
      return;
    }
    const code = this.flow.windowUpdate(s, increment);
    if (code === F.NO_ERROR) return;
    if (s === null) this.connectionError(code);
    else this.streamError(id, code);
  }

  protected onRstStream(id: number): void {
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) this.connectionError(F.PROTOCOL_ERROR);
      return;
    }
    // Rapid reset (CVE-2023-44487): a token bucket on streams the peer resets.
    if (!this.guard.reset()) return this.connectionError(F.ENHANCE_YOUR_CALM);
    this.removeStream(s, false);
  }

  protected onData(flags: number, id: number, b: Buffer, start: number, end: number): void {
    const length = end - start;
    if (!this.recv.take(length)) return this.connectionError(F.FLOW_CONTROL_ERROR);
    let pad = 0;
    if ((flags & F.FLAG_PADDED) !== 0) {
      if (length === 0) return this.connectionError(F.FRAME_SIZE_ERROR);
      pad = (b[start] as number) + 1;
      if (pad > length) return this.connectionError(F.PROTOCOL_ERROR);
      start++;
    }
    const payloadEnd = end - (pad > 0 ? pad - 1 : 0);
    const endStream = (flags & F.FLAG_END_STREAM) !== 0;
    const s = this.streams.get(id);
    if (s === undefined || s.remoteEnded) {
      this.recv.giveBack(null, length);
      if (s === undefined && id > this.lastStreamId) return this.connectionError(F.PROTOCOL_ERROR);
      if (s === undefined && this.closedStreams.wasReset(id)) return;
      return this.streamError(id, F.STREAM_CLOSED);
    }
    if (!this.recv.takeStream(s, length)) return this.streamError(id, F.FLOW_CONTROL_ERROR);
    if (payloadEnd === start && !endStream && !this.guard.invalid()) return this.connectionError(F.ENHANCE_YOUR_CALM);
    // Padding is consumed at once; the payload when the exchange takes it.
    if (pad > 0) this.recv.giveBack(s, pad);
    const n = payloadEnd - start;
    s.received += n;
    if (s.expected >= 0 && (s.received > s.expected || (endStream && s.received !== s.expected))) {
      this.recv.giveBack(null, n);
      return this.streamError(id, F.PROTOCOL_ERROR);
    }
    // The exchange may keep a chunk (held while paused, buffered for a retry): a borrowed one is copied.
    if (n > 0) s.data(this.borrowed ? Buffer.from(b.subarray(start, payloadEnd)) : b.subarray(start, payloadEnd));
    if (endStream && !s.destroyed) this.remoteEnd(s);
  }

  private remoteEnd(s: H2ServerStream): void {
    s.remoteEnded = true;
    if (s.localEnded) this.removeStream(s, true);
    s.ended();
  }

  // ---- header blocks ----

  protected onHeaderBlock(flags: number, id: number, block: Buffer, start: number, end: number, selfDependent: boolean): void {
    const blocks = this.blocks;
    const code = blocks.decode(block, start, end);
    if (code !== F.NO_ERROR) return this.connectionError(code);
    const tooLarge = blocks.tooLarge;
    const endStream = (flags & F.FLAG_END_STREAM) !== 0;
    if (selfDependent) {
      if (id > this.lastStreamId) this.lastStreamId = id;
      return this.streamError(id, F.PROTOCOL_ERROR);
    }
    const existing = this.streams.get(id);
    if (existing !== undefined) return this.onTrailers(existing, endStream, tooLarge);
    if ((id & 1) === 0) return this.connectionError(F.PROTOCOL_ERROR);
    if (id <= this.lastStreamId) {
      // Frames in flight on a stream this side reset are ignored (RFC 9113 §5.1, "closed"); a stream
      // id never used and lower than the last is a PROTOCOL_ERROR (§5.1.1), a closed one STREAM_CLOSED.
      if (this.closedStreams.wasReset(id)) return;
      return this.connectionError(this.closedStreams.wasSkipped(id) ? F.PROTOCOL_ERROR : F.STREAM_CLOSED);
    }
    this.closedStreams.opened(this.lastStreamId, id);
    this.lastStreamId = id;
    if (this.goawaySent) return;
    if (this.streams.size >= this.maxStreams) {
      if (!this.guard.invalid()) return this.connectionError(F.ENHANCE_YOUR_CALM);
      return this.rst(id, F.REFUSED_STREAM);
    }
    const s = new H2ServerStream(this, id, F.DEFAULT_WINDOW, this.flow.peerInitialWindow);
    if (tooLarge) {
      this.streams.set(id, s);
      s.remoteEnded = endStream;
      s.respond([":status", "431"] as never, { endStream: true });
      // The rest of the request is not read (RFC 9113 §8.1: a complete response, then RST_STREAM NO_ERROR).
      if (!s.destroyed) this.resetStream(s, F.NO_ERROR);
      return;
    }
    const headers = requestHead(blocks.fields, false);
    if (headers === null) {
      if (!this.guard.invalid()) return this.connectionError(F.ENHANCE_YOUR_CALM);
      return this.rst(id, F.PROTOCOL_ERROR);
    }
    const cl = headers["content-length"];
    if (cl !== undefined) {
      s.expected = Number(cl);
      if (endStream && s.expected !== 0) return this.rst(id, F.PROTOCOL_ERROR);
    }
    this.streams.set(id, s);
    s.remoteEnded = endStream;
    this.handler.onStream(s, headers, endStream);
  }

  private onTrailers(s: H2ServerStream, endStream: boolean, tooLarge: boolean): void {
    // Request trailers end the stream (RFC 9113 §8.1); H2Exchange does not forward them (as with node:http2).
    if (s.remoteEnded) return this.streamError(s.id, F.STREAM_CLOSED);
    if (tooLarge) return this.streamError(s.id, F.PROTOCOL_ERROR);
    if (!endStream || requestHead(this.blocks.fields, true) === null) return this.streamError(s.id, F.PROTOCOL_ERROR);
    if (s.expected >= 0 && s.received !== s.expected) return this.streamError(s.id, F.PROTOCOL_ERROR);
    this.remoteEnd(s);
  }

  protected get maxHeaderBlock(): number {
    return MAX_HEADER_BLOCK;
  }

  protected onEmptyFrame(): boolean {
    if (!this.guard.invalid()) {
      this.connectionError(F.ENHANCE_YOUR_CALM);
      return false;
    }
    return true;
  }

  protected isClosed(): boolean {
    return this.closed;
  }

  // ---- streams ----

  /** A stream error (RFC 9113 §5.4.2): RST_STREAM, the stream is over. */
  protected streamError(id: number, code: number): void {
    const s = this.streams.get(id);
    // RST_STREAMs waiting to be written count with the ACKs (nghttp2's outbound flood limit).
    if (!this.guard.control()) return this.connectionError(F.ENHANCE_YOUR_CALM);
    this.rst(id, code);
    if (s !== undefined) this.removeStream(s, false);
  }

  /** RST_STREAM, remembered: frames the client sent before it saw it are ignored. */
  private rst(id: number, code: number): void {
    this.output.rst(id, code);
    this.closedStreams.reset(id);
  }

  /** @internal The exchange resets its stream (close(code)). */
  resetStream(s: H2ServerStream, code: number): void {
    this.rst(s.id, code);
    this.removeStream(s, true);
  }

  /** Forget `s`; its 'close' is emitted now, or after the turn's write when this side closed it (`deferred`). */
  private removeStream(s: H2ServerStream, deferred: boolean): void {
    if (s.destroyed) return;
    this.streams.delete(s.id);
    this.dropStream(s);
    if (deferred) {
      this.closing.push(s);
      this.output.schedule();
    }
    else s.emitClose();
    this.endIfIdle();
  }

  private dropStream(s: H2ServerStream): void {
    s.destroyed = true;
    const held = s.heldBytes();
    s.held = null;
    // Held DATA nobody will read: its connection window comes back.
    if (held > 0 && !this.closed) this.recv.giveBack(null, held);
    this.flow.drop(s);
  }
}

function noop(): void {}
