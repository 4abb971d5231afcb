// SocketWriter: the request path's writes to a plain TCP socket, straight to its libuv handle.
//
// `socket.write()` runs Node's Writable machinery for every buffer: state checks, a write request
// object, the length bookkeeping and a process.nextTick for the callback, even when the kernel
// took every byte at once (the usual case on loopback). The proxy makes two writes per request,
// so this writer hands the buffer to the handle directly (the same call Node makes underneath)
// whenever nothing is queued in the stream; it falls back to `socket.write()` otherwise (TLS,
// connecting, bytes already queued in the stream, no handle).
//
// Ordering: libuv keeps one write queue per handle, so a direct write that did not finish at once
// and any later write (direct or through the stream) go out in order; the stream is only bypassed
// when it holds nothing itself. Backpressure: a direct write the kernel did not take at once
// returns false, like `socket.write()`, and the socket emits 'drain' when it has gone out.
//
// Writes at the end of the turn (`writeSoon`): the proxy's own complete messages (the upstream
// request head, the response head with a small body) are held until the event loop has run every
// callback of this turn, then written, as Envoy's connection write does (it fills the write buffer
// and activates the socket's write event; the loop writes after the current callbacks). A turn at
// saturation handles several connections' reads; writing their messages back to back, instead of
// between the reads, wakes a sleeping peer (nginx, wrk) once for the batch instead of once per
// message, and a wake-up across cores is the costliest part of a loopback write on a VM (an IPI).
// The callers hold a message only while other requests are in flight (Exchange.batching): a
// request alone would gain nothing and pay a callback per turn (at a low, steady rate every
// request wakes the process alone). Only owned buffers are held (never a view into a reused read
// buffer); a later `write` on the same socket, `flush()` (before end or hand-over) and the turn's
// end write them in order; a destroyed socket drops them. TLS sockets write at once (see writeSoon).
//
// The handle and its write request are Node internals (`process.binding("stream_wrap")`): when a
// Node version changes them, `available` is false and every write takes the stream path.
import type { Socket } from "node:net";
import { flushAtEndOfTurn } from "./end-of-turn.ts";

interface WriteReq {
  handle: unknown;
  buffer: Buffer | null;
  oncomplete: (this: WriteReq, status: number) => void;
  writer: SocketWriter | null;
}

interface StreamBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kLastWriteWasAsync: number;
}

interface StreamHandle {
  writeBuffer(req: WriteReq, buf: Buffer): number;
}

type InternalSocket = Socket & { _handle?: StreamHandle | null; encrypted?: boolean };

function loadBinding(): StreamBinding | null {
  try {
    const b = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding("stream_wrap");
    if (typeof b.WriteWrap !== "function" || !(b.streamBaseState instanceof Int32Array) || typeof b.kLastWriteWasAsync !== "number") return null;
    return b as StreamBinding;
  } catch {
    return null;
  }
}

const binding = loadBinding();

/** Whether direct writes are possible on this Node (else every write goes through the stream). */
export const directWritesAvailable = binding !== null;

/** A write request no write holds: reused while writes complete at once (the usual case). */
let spare: WriteReq | null = null;

function newRequest(b: StreamBinding): WriteReq {
  const req = new b.WriteWrap();
  req.handle = null;
  req.buffer = null;
  req.writer = null;
  req.oncomplete = onDirectWriteComplete;
  return req;
}

function onDirectWriteComplete(this: WriteReq, status: number): void {
  const w = this.writer;
  this.buffer = null;
  this.writer = null;
  if (w !== null) w.completed(status);
}

export class SocketWriter {
  private readonly socket: InternalSocket;
  /** Direct writes the kernel has not taken yet (their bytes wait in libuv's queue). */
  private inFlight = 0;
  /** Bytes writeSoon holds until the turn ends (owned memory). */
  private held: Buffer | null = null;

  constructor(socket: Socket) {
    this.socket = socket as InternalSocket;
  }

  /**
   * Write the owned buffer `buf` when this turn of the event loop ends (see the header), or
   * earlier when another write or flush() comes first. Backpressure shows on the next write.
   */
  writeSoon(buf: Buffer): void {
    if (this.socket.encrypted === true) {
      // TLS writes go through the TLS stream, whose own completion work, started from the end of
      // the turn, may slip to the next turn: held, the mTLS pair measured +17 % CPU per request at
      // 1,000 rps in one loaded A/B (3 of 4 rounds); written at once, 1.08 (docs/performance.md).
      this.write(buf);
      return;
    }
    const h = this.held;
    if (h !== null) {
      // A second message this turn (pipelined requests): one buffer, still one write.
      this.held = Buffer.concat([h, buf]);
      return;
    }
    this.held = buf;
    flushAtEndOfTurn(this);
  }

  /** Write what writeSoon holds now (before the socket is ended or handed over). */
  flush(): void {
    const h = this.held;
    if (h === null) return;
    this.held = null;
    if (!this.socket.destroyed) this.writeNow(h);
  }

  /** Write `buf`; false when it is queued (wait for the socket's 'drain'), like socket.write(). */
  write(buf: Buffer): boolean {
    if (this.held !== null) this.flush();
    return this.writeNow(buf);
  }

  private writeNow(buf: Buffer): boolean {
    const s = this.socket;
    const h = s._handle;
    if (binding === null || h === null || h === undefined || s.connecting || s.destroyed || s.writableLength > 0 || s.encrypted === true || !s.writable) {
      return s.write(buf);
    }
    const req = spare ?? newRequest(binding);
    req.handle = h;
    const err = h.writeBuffer(req, buf);
    if (err !== 0) {
      // EPIPE, ECONNRESET…: the connection is gone; its 'close' does the bookkeeping.
      s.destroy();
      return false;
    }
    if (binding.streamBaseState[binding.kLastWriteWasAsync] === 0) {
      // Written in full: Node bound nothing to the request object (it does so only for a write
      // that has to wait), so the next write can use it again.
      spare = req;
      req.handle = null;
      return true;
    }
    // The rest waits in libuv's queue: the request now belongs to that write; keep the bytes alive
    // until it has gone out.
    spare = null;
    req.buffer = buf;
    req.writer = this;
    this.inFlight++;
    return false;
  }

  /** Bytes written here or through the stream still wait to go out (a view written now must stay intact). */
  get queued(): boolean {
    return this.held !== null || this.inFlight > 0 || this.socket.writableLength > 0;
  }

  /** @internal A queued direct write finished (status < 0: failed or cancelled by a close). */
  completed(status: number): void {
    this.inFlight--;
    const s = this.socket;
    if (status < 0) {
      if (!s.destroyed) s.destroy();
      return;
    }
    if (this.inFlight === 0 && !s.destroyed) s.emit("drain");
  }
}
