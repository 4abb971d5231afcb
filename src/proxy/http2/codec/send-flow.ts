// SendFlow: a connection's response side — DATA within the peer's connection and stream windows
// (RFC 9113 §6.9), the rest queued per stream and sent as WINDOW_UPDATEs arrive; END_STREAM or
// the stream's 'wantTrailers' once its queue is out; 'drain' to a stream whose write() said false
// when its queue is out and the socket takes bytes again.
import type { Buffer } from "node:buffer";
import type { H2Output } from "./output.ts";
import * as F from "./frames.ts";

/** The response side of a stream, as SendFlow drives it (H2ServerStream is one). */
export interface FlowStream {
  readonly id: number;
  readonly destroyed: boolean;
  /** Bytes this stream may still send (the peer's stream window). */
  sendWindow: number;
  /** END_STREAM sent (or trailers sent). */
  localEnded: boolean;
  /** DATA waiting for window; `endQueued`: END_STREAM (or trailers) follows it. */
  queue: Buffer[] | null;
  queued: number;
  endQueued: boolean;
  trailersWanted: boolean;
  needDrain: boolean;
  emitDrain(): void;
  emitWantTrailers(): void;
}

export class SendFlow<S extends FlowStream = FlowStream> {
  private readonly output: H2Output;
  /** END_STREAM went out on `s` (the connection closes it when the request side is over too). */
  private readonly onLocalEnd: (s: S) => void;
  /** The peer's connection window, and its SETTINGS_INITIAL_WINDOW_SIZE (each new stream's window). */
  window = F.DEFAULT_WINDOW;
  peerInitialWindow = F.DEFAULT_WINDOW;
  private readonly blocked = new Set<S>();
  private readonly drainWaiters = new Set<S>();

  constructor(output: H2Output, onLocalEnd: (s: S) => void) {
    this.output = output;
    this.onLocalEnd = onLocalEnd;
  }

  headers(s: S, fields: readonly string[], endStream: boolean): void {
    this.output.headers(s.id, fields, endStream);
    if (endStream) this.localEnd(s);
  }

  data(s: S, chunk: Buffer): void {
    if (s.queue !== null) {
      s.queue.push(chunk);
      s.queued += chunk.length;
      return;
    }
    const sent = this.within(s, chunk);
    if (sent < chunk.length) {
      s.queue = [sent === 0 ? chunk : chunk.subarray(sent)];
      s.queued = chunk.length - sent;
      this.blocked.add(s);
    }
  }

  /** DATA frames from `chunk` as far as both windows allow; returns the offset reached. */
  private within(s: S, chunk: Buffer): number {
    const max = this.output.maxFrame;
    let o = 0;
    while (o < chunk.length) {
      const room = Math.min(this.window, s.sendWindow, max, chunk.length - o);
      if (room <= 0) break;
      this.output.data(s.id, chunk, o, o + room);
      this.window -= room;
      s.sendWindow -= room;
      o += room;
    }
    return o;
  }

  /** end(): END_STREAM (or 'wantTrailers') once the queued DATA is out. */
  endWhenSent(s: S): void {
    if (s.queue === null) this.finish(s);
  }

  private finish(s: S): void {
    if (s.trailersWanted) s.emitWantTrailers();
    else this.emptyEnd(s);
  }

  /** END_STREAM: on the stream's last DATA frame when it is still the last frame of the turn, else an empty DATA frame. */
  emptyEnd(s: S): void {
    this.output.endStream(s.id);
    this.localEnd(s);
  }

  private localEnd(s: S): void {
    s.localEnded = true;
    this.onLocalEnd(s);
  }

  waitDrain(s: S): void {
    this.drainWaiters.add(s);
  }

  /** The socket took its queued bytes: streams waiting for it and not for window hear 'drain'. */
  socketDrained(): void {
    for (const s of this.drainWaiters) {
      if (s.queued === 0 && !s.destroyed) {
        this.drainWaiters.delete(s);
        s.emitDrain();
      }
    }
  }

  drop(s: S): void {
    // Most streams end with both sets empty: no hash lookups for them.
    if (this.blocked.size !== 0) this.blocked.delete(s);
    if (this.drainWaiters.size !== 0) this.drainWaiters.delete(s);
    s.queue = null;
    s.queued = 0;
  }

  /**
   * WINDOW_UPDATE for the connection (`s` null) or a stream: returns the error code (NO_ERROR when
   * fine; a stream's error is for that stream, the connection's for the connection).
   */
  windowUpdate(s: S | null, increment: number): number {
    if (increment === 0) return F.PROTOCOL_ERROR;
    if (s === null) {
      this.window += increment;
      if (this.window > F.MAX_WINDOW) return F.FLOW_CONTROL_ERROR;
      this.pumpBlocked();
      return F.NO_ERROR;
    }
    s.sendWindow += increment;
    if (s.sendWindow > F.MAX_WINDOW) return F.FLOW_CONTROL_ERROR;
    this.pump(s);
    return F.NO_ERROR;
  }

  /**
   * SETTINGS_INITIAL_WINDOW_SIZE: every open stream's window moves by the difference (RFC 9113
   * §6.9.2; it may go negative). Returns the connection error code, NO_ERROR when fine. The caller
   * pumps blocked streams once its SETTINGS ACK is out.
   */
  initialWindow(v: number, streams: Iterable<S>): number {
    if (v > F.MAX_WINDOW) return F.FLOW_CONTROL_ERROR;
    const delta = v - this.peerInitialWindow;
    this.peerInitialWindow = v;
    for (const s of streams) {
      s.sendWindow += delta;
      if (s.sendWindow > F.MAX_WINDOW) return F.FLOW_CONTROL_ERROR;
    }
    return F.NO_ERROR;
  }

  /** The stream's window grew. */
  pump(s: S): void {
    const q = s.queue;
    if (q === null || s.destroyed) return;
    while (q.length > 0) {
      const head = q[0] as Buffer;
      const sent = this.within(s, head);
      s.queued -= sent;
      if (sent < head.length) {
        q[0] = head.subarray(sent);
        return;
      }
      q.shift();
    }
    s.queue = null;
    this.blocked.delete(s);
    if (s.endQueued) this.finish(s);
    if (s.needDrain && !this.output.congested && !s.destroyed) {
      this.drainWaiters.delete(s);
      s.emitDrain();
    }
  }

  /** The connection's window grew (or every stream's did). */
  pumpBlocked(): void {
    for (const s of this.blocked) {
      if (this.window <= 0) return;
      this.pump(s);
    }
  }
}
