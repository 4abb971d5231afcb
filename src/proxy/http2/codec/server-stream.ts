// H2ServerStream: one request stream of an H2Connection, as H2Exchange sees it (DownstreamStream).
// Listeners are single slots (the exchange sets each once), called with the stream as `this`.
// The connection feeds it: request DATA (held while paused; the window is given back as the
// exchange takes it), the end of the request, a reset. The response goes out through the
// connection: headers, DATA within the peer's windows (the rest queued until WINDOW_UPDATE),
// END_STREAM or trailers.
import { Buffer } from "../../../core/builtins.ts";
import type { OutgoingHttpHeaders, ServerStreamResponseOptions } from "node:http2";
import type { DownstreamStream } from "../downstream-stream.ts";
import type { Socket } from "node:net";
import type { H2Output } from "./output.ts";
import type { SendFlow } from "./send-flow.ts";
import type { RecvFlow } from "./recv-flow.ts";

type DataListener = (this: H2ServerStream, chunk: Buffer) => void;
type Listener = (this: H2ServerStream) => void;

/** An interim response head (RFC 9113 §8.1: HEADERS without END_STREAM before the final one). */
const CONTINUE_100: readonly string[] = [":status", "100"];

/** What a stream asks of its connection (H2Connection is one). */
export interface StreamSession {
  readonly socket: Socket;
  readonly output: H2Output;
  readonly flow: SendFlow<H2ServerStream>;
  /** Window to give back as the exchange takes the stream's DATA. */
  readonly recv: RecvFlow;
  resetStream(s: H2ServerStream, code: number): void;
}

export class H2ServerStream implements DownstreamStream {
  readonly id: number;
  readonly session: StreamSession;
  destroyed = false;
  headersSent = false;

  // ---- request side ----
  /** END_STREAM received. */
  remoteEnded = false;
  /** Bytes the peer may still send on this stream. */
  recvWindow: number;
  /** Bytes taken by the exchange, not yet given back with WINDOW_UPDATE. */
  unacked = 0;
  /** content-length of the request (-1: none), and the DATA bytes received. */
  expected = -1;
  received = 0;
  paused = false;
  /** DATA held while paused (or until 'data' is listened for); `endHeld`: the end arrived after them. */
  held: Buffer[] | null = null;
  endHeld = false;
  private deliverScheduled = false;

  // ---- response side ----
  /** Bytes this stream may still send (the peer's stream window). */
  sendWindow: number;
  /** END_STREAM sent (or trailers sent). */
  localEnded = false;
  /** DATA waiting for window; `endQueued`: END_STREAM (or trailers) follows it. */
  queue: Buffer[] | null = null;
  queued = 0;
  endQueued = false;
  trailersWanted = false;
  needDrain = false;

  private onDataFn: DataListener | null = null;
  private onEndFn: Listener | null = null;
  private onCloseFn: Listener | null = null;
  private onDrainFn: Listener | null = null;
  private onWantTrailersFn: Listener | null = null;

  constructor(session: StreamSession, id: number, recvWindow: number, sendWindow: number) {
    this.session = session;
    this.id = id;
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  on(event: "data", listener: (chunk: Buffer) => void): this;
  on(event: "end" | "close" | "drain" | "error" | "wantTrailers", listener: () => void): this;
  on(event: string, listener: ((chunk: Buffer) => void) | (() => void)): this {
    if (event === "data") this.onDataFn = listener as unknown as DataListener;
    else if (event === "end") this.onEndFn = listener as unknown as Listener;
    else if (event === "close") this.onCloseFn = listener as unknown as Listener;
    else if (event === "drain") this.onDrainFn = listener as unknown as Listener;
    else if (event === "wantTrailers") this.onWantTrailersFn = listener as unknown as Listener;
    // 'error': never emitted ('close' tells the end of a stream, reset or not).
    return this;
  }

  once(event: "wantTrailers", listener: () => void): this {
    return this.on(event, listener);
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    // What was held is handed over on the next tick, as a Readable's resume() does (the caller
    // may be inside the exchange's own bookkeeping).
    if ((this.held !== null || this.endHeld) && !this.deliverScheduled) {
      this.deliverScheduled = true;
      process.nextTick(deliverHeld, this);
    }
    return this;
  }

  /** @internal A DATA payload from the connection. */
  data(chunk: Buffer): void {
    if (this.paused || this.held !== null || this.onDataFn === null) {
      (this.held ??= []).push(chunk);
      return;
    }
    this.session.recv.giveBack(this, chunk.length);
    this.onDataFn.call(this, chunk);
  }

  /** @internal END_STREAM from the connection. */
  ended(): void {
    if (this.held !== null || this.paused) {
      this.endHeld = true;
      return;
    }
    this.onEndFn?.call(this);
  }

  /** @internal Hand over held DATA (and the end) while not paused. */
  deliverHeld(): void {
    this.deliverScheduled = false;
    while (!this.paused && !this.destroyed && this.onDataFn !== null) {
      const h = this.held;
      if (h === null) break;
      const chunk = h.shift() as Buffer;
      if (h.length === 0) this.held = null;
      this.session.recv.giveBack(this, chunk.length);
      this.onDataFn.call(this, chunk);
    }
    if (this.held === null && this.endHeld && !this.paused && !this.destroyed) {
      this.endHeld = false;
      this.onEndFn?.call(this);
    }
  }

  /** Bytes held for a paused reader (dropped, and given back to the connection window, on close). */
  heldBytes(): number {
    let n = 0;
    if (this.held !== null) for (const b of this.held) n += b.length;
    return n;
  }

  continue100(): void {
    if (this.destroyed || this.headersSent) return;
    this.session.flow.headers(this, CONTINUE_100, false);
  }

  respond(headers: OutgoingHttpHeaders, options: ServerStreamResponseOptions): void {
    if (this.destroyed) throw new Error("stream closed");
    if (this.headersSent) throw new Error("headers already sent");
    this.headersSent = true;
    const endStream = options.endStream === true;
    this.trailersWanted = !endStream && options.waitForTrailers === true;
    this.session.flow.headers(this, headers as unknown as string[], endStream);
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed || this.localEnded || this.endQueued) return false;
    if (chunk.length > 0) this.session.flow.data(this, chunk);
    if (this.queued > 0 || this.session.output.congested) {
      if (!this.needDrain) {
        this.needDrain = true;
        this.session.flow.waitDrain(this);
      }
      return false;
    }
    return true;
  }

  end(chunk?: string): this {
    if (this.destroyed || this.localEnded || this.endQueued) return this;
    if (chunk !== undefined && chunk !== "") this.session.flow.data(this, Buffer.from(chunk));
    this.endQueued = true;
    this.session.flow.endWhenSent(this);
    return this;
  }

  sendTrailers(headers: OutgoingHttpHeaders): void {
    if (this.destroyed || this.localEnded) throw new Error("stream closed");
    const list: string[] = [];
    for (const name of Object.keys(headers)) {
      const v = headers[name];
      if (v === undefined) continue;
      const n = name.toLowerCase();
      if (Array.isArray(v)) for (const x of v) list.push(n, String(x));
      else list.push(n, String(v));
    }
    this.trailersWanted = false;
    this.session.flow.headers(this, list, true);
  }

  close(code = 0): void {
    if (this.destroyed) return;
    this.session.resetStream(this, code);
  }

  // ---- @internal events from the connection ----
  emitDrain(): void {
    this.needDrain = false;
    this.onDrainFn?.call(this);
  }

  emitWantTrailers(): void {
    const fn = this.onWantTrailersFn;
    this.onWantTrailersFn = null;
    if (fn !== null) fn.call(this);
    // Nobody sends trailers: end the stream with an empty block's worth (END_STREAM on an empty DATA).
    else if (!this.localEnded && !this.destroyed) this.session.flow.emptyEnd(this);
  }

  emitClose(): void {
    const fn = this.onCloseFn;
    this.onCloseFn = null;
    this.onDataFn = null;
    this.onEndFn = null;
    this.onDrainFn = null;
    this.onWantTrailersFn = null;
    fn?.call(this);
  }
}

function deliverHeld(s: H2ServerStream): void {
  s.deliverHeld();
}

