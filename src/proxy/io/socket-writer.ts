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
// The handle and its write request are Node internals (`process.binding("stream_wrap")`): when a
// Node version changes them, `available` is false and every write takes the stream path.
import type { Socket } from "node:net";

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

  constructor(socket: Socket) {
    this.socket = socket as InternalSocket;
  }

  /** Write `buf`; false when it is queued (wait for the socket's 'drain'), like socket.write(). */
  write(buf: Buffer): boolean {
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
    return this.inFlight > 0 || this.socket.writableLength > 0;
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
