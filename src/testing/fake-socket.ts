// FakeSocket: a net.Socket stand-in for unit tests of the proxy's connection state machines
// (upstream connections, endpoint pools, downstream connections, TCP proxying) with no network.
// A Duplex whose writes are kept for inspection; the test drives the other side: connect, bytes in
// (through Node's `onread` contract when the dialer was given it, else as 'data'), FIN, errors.
// FakeDialer hands one out per dial and remembers them in order.
import { Duplex } from "node:stream";
import type { Socket } from "node:net";
import type { DialOptions, Dialer } from "../proxy/upstream/dialer.ts";

export interface FakeSocketOptions {
  onread?: DialOptions["onread"];
  remoteAddress?: string;
  remotePort?: number;
  localAddress?: string;
  localPort?: number;
}

export class FakeSocket extends Duplex {
  /** Every buffer written, in order. */
  readonly written: Buffer[] = [];
  connecting = true;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The options it was dialed with (FakeDialer). */
  dialOptions: DialOptions | null = null;
  private readonly onread: DialOptions["onread"] | undefined;
  /** The other end of a pair(): what this one writes, it receives. */
  private peer: FakeSocket | null = null;

  constructor(o: FakeSocketOptions = {}) {
    super({ allowHalfOpen: true });
    this.onread = o.onread;
    this.remoteAddress = o.remoteAddress ?? "10.0.0.1";
    this.remotePort = o.remotePort ?? 40000;
    this.localAddress = o.localAddress ?? "10.0.0.2";
    this.localPort = o.localPort ?? 9080;
  }

  /**
   * Two connected ends (both established): bytes written on one are read on the other, a FIN and a
   * destroy cross over. For a real client (node:http2's `createConnection`) against the code under
   * test.
   */
  static pair(o: FakeSocketOptions = {}): [FakeSocket, FakeSocket] {
    const a = new FakeSocket({ remoteAddress: o.localAddress ?? "10.0.0.2", localAddress: o.remoteAddress ?? "10.0.0.1" });
    const b = new FakeSocket(o);
    a.peer = b;
    b.peer = a;
    a.connecting = false;
    b.connecting = false;
    return [a, b];
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.written.push(Buffer.from(chunk));
    const p = this.peer;
    if (p !== null && !p.destroyed) p.receive(Buffer.from(chunk));
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    const p = this.peer;
    if (p !== null && !p.destroyed) p.receiveEnd();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    const p = this.peer;
    this.peer = null;
    if (p !== null && !p.destroyed) p.destroy();
    cb(err);
  }

  override _read(): void {}

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** What the code under test wrote, as latin1 text. */
  writtenText(): string {
    return Buffer.concat(this.written).toString("latin1");
  }

  // ---- the peer's side, driven by the test ----

  /** The connection (or TLS handshake) completes. */
  establish(event: "connect" | "secureConnect" = "connect"): void {
    this.connecting = false;
    this.emit(event);
  }

  /** Bytes arrive from the peer (one read). */
  receive(data: string | Buffer): void {
    const b = typeof data === "string" ? Buffer.from(data, "latin1") : data;
    const r = this.onread;
    if (r === undefined) {
      this.push(b);
      return;
    }
    for (let off = 0; off < b.length; ) {
      const into = r.buffer();
      const n = b.copy(into, 0, off);
      off += n;
      r.callback(n);
    }
  }

  /** The peer half-closes (FIN). */
  receiveEnd(): void {
    this.push(null);
    // With `onread` nothing consumes the readable side: flow it so 'end' is emitted.
    if (this.onread !== undefined || this.listenerCount("data") === 0) this.resume();
  }

  /** The connection fails (refused, reset). */
  fail(code = "ECONNRESET"): void {
    this.destroy(Object.assign(new Error(code), { code }));
  }
}

/** A Dialer that returns FakeSockets (never connected until the test says so). */
export class FakeDialer {
  readonly sockets: FakeSocket[] = [];
  private waiters: { n: number; resolve: (s: FakeSocket) => void }[] = [];
  readonly dial: Dialer = (opts) => {
    const s = new FakeSocket({ ...(opts.onread !== undefined ? { onread: opts.onread } : {}), remoteAddress: opts.host, remotePort: opts.port });
    s.dialOptions = opts;
    this.sockets.push(s);
    const n = this.sockets.length - 1;
    for (const w of this.waiters.filter((x) => x.n === n)) w.resolve(s);
    this.waiters = this.waiters.filter((x) => x.n !== n);
    return s as unknown as Socket;
  };

  /** The n-th socket (0-based), once it has been dialed. */
  dialed(n: number): Promise<FakeSocket> {
    const s = this.sockets[n];
    if (s !== undefined) return Promise.resolve(s);
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** The n-th socket dialed (0-based); the last one by default. */
  socket(n = this.sockets.length - 1): FakeSocket {
    const s = this.sockets[n];
    if (s === undefined) throw new Error(`no socket #${n} was dialed (${this.sockets.length} so far)`);
    return s;
  }
}

/** Let queued callbacks run ('close' after destroy, microtask hand-overs). */
export function flush(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
