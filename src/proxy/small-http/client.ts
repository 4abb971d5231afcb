// SmallHttpClient: the sidecar's own HTTP/1.1 requests off the request path (span and metric
// exports, the control plane's ACKs and certificates) on node:net / node:tls and the proxy's codec
// (http1/response-head.ts, chunked.ts), not node:http (≈ 1.7–2 MB of RSS in every sidecar, issue 15).
// One request at a time per connection; a connection whose response allowed it is kept for the
// next request to the same pool key (unref'd, closed after IDLE_MS unused, as node:http's agent's
// 5 s). Content-Length, chunked and close-delimited responses; 1xx answers are skipped. A deadline
// (`timeoutMs`, the whole exchange) through the Clock.
import type { Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.ts";
import { Buffer, net, tlsModule } from "../../core/builtins.ts";
import { ChunkedDecoder } from "../http1/chunked.ts";
import { ParseError } from "../http1/parse-error.ts";
import { parseResponseHead } from "../http1/response-head.ts";
import type { ResponseHead } from "../http1/types.ts";

const { connect: netConnect, isIP } = net;

const IDLE_MS = 5_000;
/** Every connection keeps one error listener of its own: an error between exchanges (a reset of a closing connection) must not throw. */
const ignore = (): void => {};
/** A response body beyond this fails the request (these answers are small). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export type SmallHttpErrorCode = "E_CONNECT" | "E_TIMEOUT" | "E_CLOSED" | "E_BAD_RESPONSE" | "E_TOO_LARGE" | "E_BAD_REQUEST";

/** A request that got no complete response (layer: proxy/small-http). */
export class SmallHttpError extends Error {
  readonly code: SmallHttpErrorCode;
  /** It went out on a kept connection and failed before any byte of the answer: the server may have closed it idle. */
  readonly reused: boolean;
  constructor(code: SmallHttpErrorCode, message: string, reused = false) {
    super(`${code}: ${message}`);
    this.name = "SmallHttpError";
    this.code = code;
    this.reused = reused;
  }
}

export interface SmallHttpRequest {
  readonly method: string;
  /** Lower-case names; host and content-length are added. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** The whole exchange, connect included. */
  readonly timeoutMs: number;
  /** For an https URL: node:tls options (ca, cert, key, secureContext, servername, rejectUnauthorized). */
  readonly tls?: ConnectionOptions;
  /**
   * Kept connections are shared between requests of the same origin and key: give one that names
   * the TLS options (a CA, a client certificate), so that other credentials never reuse the
   * connection. Absent: the connection is not kept.
   */
  readonly poolKey?: string;
}

export interface SmallHttpResponse {
  readonly status: number;
  readonly head: ResponseHead;
  readonly body: Buffer;
}

export class SmallHttpClient {
  private readonly clock: Clock;
  private readonly idle = new Map<string, KeptSocket>();

  constructor(clock: Clock = systemClock) {
    this.clock = clock;
  }

  request(url: URL, r: SmallHttpRequest): Promise<SmallHttpResponse> {
    const https = url.protocol === "https:";
    if (!https && url.protocol !== "http:") return Promise.reject(new SmallHttpError("E_BAD_REQUEST", `unsupported scheme ${url.protocol}`));
    const body = r.body === undefined ? null : typeof r.body === "string" ? Buffer.from(r.body, "utf8") : Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength);
    let head = `${r.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [n, v] of Object.entries(r.headers ?? {})) {
      if (n === "host" || n === "content-length") continue;
      if (/[\r\n\0]/.test(n) || /[\r\n\0]/.test(v)) return Promise.reject(new SmallHttpError("E_BAD_REQUEST", `header ${JSON.stringify(n)} has a line break or NUL`));
      head += `${n}: ${v}\r\n`;
    }
    if (body !== null || r.method === "POST" || r.method === "PUT") head += `content-length: ${body?.length ?? 0}\r\n`;
    head += "\r\n";
    const key = r.poolKey === undefined ? null : `${url.origin} ${r.poolKey}`;
    const kept = key === null ? undefined : this.take(key);
    const socket = kept ?? this.connect(url, https, r.tls).on("error", ignore);
    return new Promise((resolve, reject) => {
      const x = new Exchange(socket, r.method, kept !== undefined, (e, res) => {
        timer.cancel();
        x.detach();
        if (e !== null) {
          socket.destroy();
          reject(e);
          return;
        }
        if (key !== null && res!.head.keepAlive && !socket.destroyed) this.keep(key, socket);
        else socket.destroy();
        resolve(res!);
      });
      const timer = this.clock.setTimeout(() => x.fail(new SmallHttpError("E_TIMEOUT", `no answer within ${r.timeoutMs} ms`)), r.timeoutMs);
      socket.write(body === null || body.length === 0 ? head : Buffer.concat([Buffer.from(head, "latin1"), body]));
    });
  }

  /** Close the kept connections. */
  close(): void {
    for (const k of [...this.idle.values()]) k.drop();
    this.idle.clear();
  }

  private connect(url: URL, https: boolean, tls: ConnectionOptions | undefined): Socket {
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = Number(url.port) || (https ? 443 : 80);
    if (!https) return netConnect({ host, port, noDelay: true });
    // As https.request: the host name as SNI (never an IP address), verified against `tls`'s roots.
    return tlsModule().connect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...tls, ALPNProtocols: ["http/1.1"] });
  }

  private take(key: string): Socket | undefined {
    const k = this.idle.get(key);
    if (k === undefined) return undefined;
    this.idle.delete(key);
    k.release();
    return k.socket.destroyed ? undefined : k.socket.ref();
  }

  private keep(key: string, s: Socket): void {
    this.idle.get(key)?.drop();
    this.idle.set(key, new KeptSocket(s, this.clock, () => {
      if (this.idle.get(key)?.socket === s) this.idle.delete(key);
    }));
  }
}

/** A connection waiting for the next request: unref'd, closed after IDLE_MS, or at once if the server closes it or sends anything. */
class KeptSocket {
  readonly socket: Socket;
  private readonly timer: TimerHandle;
  private readonly onGone: () => void;
  private readonly dropFn = (): void => this.drop();

  constructor(socket: Socket, clock: Clock, onGone: () => void) {
    this.socket = socket;
    this.onGone = onGone;
    socket.on("close", this.dropFn);
    socket.on("error", this.dropFn);
    // Bytes on an idle connection answer nothing: the connection cannot be trusted any more.
    socket.on("data", this.dropFn);
    socket.unref();
    this.timer = clock.setTimeout(this.dropFn, IDLE_MS).unref();
  }

  /** Taken for a request: no longer watched. */
  release(): void {
    this.timer.cancel();
    this.socket.off("close", this.dropFn);
    this.socket.off("error", this.dropFn);
    this.socket.off("data", this.dropFn);
  }

  drop(): void {
    this.release();
    this.socket.destroy();
    this.onGone();
  }
}

/** One request's response, read off the socket. */
class Exchange {
  private readonly socket: Socket;
  private readonly method: string;
  private readonly reused: boolean;
  private done: ((e: SmallHttpError | null, r?: SmallHttpResponse) => void) | null;
  private pending: Buffer | null = null;
  private head: ResponseHead | null = null;
  private left = 0;
  private chunked: ChunkedDecoder | null = null;
  private readonly parts: Buffer[] = [];
  private size = 0;
  private gotBytes = false;
  private readonly onData = (buf: Buffer, start: number, end: number): void => this.keepBody(buf, start, end);

  constructor(socket: Socket, method: string, reused: boolean, done: (e: SmallHttpError | null, r?: SmallHttpResponse) => void) {
    this.socket = socket;
    this.method = method;
    this.reused = reused;
    this.done = done;
    socket.on("data", this.onRead);
    socket.on("error", this.onError);
    socket.on("end", this.onClosed);
    socket.on("close", this.onClosed);
  }

  private readonly onRead = (b: Buffer): void => this.read(b);
  private readonly onError = (e: Error): void => this.fail(new SmallHttpError(this.gotBytes || this.reused ? "E_CLOSED" : "E_CONNECT", e.message, this.reused && !this.gotBytes));
  private readonly onClosed = (): void => this.closed();

  /** The exchange is over: the socket is no longer read for it. */
  detach(): void {
    const s = this.socket;
    s.off("data", this.onRead);
    s.off("end", this.onClosed);
    s.off("close", this.onClosed);
    s.off("error", this.onError);
  }

  fail(e: SmallHttpError): void {
    const d = this.done;
    this.done = null;
    d?.(e);
  }

  private closed(): void {
    if (this.head !== null && this.head.framing.kind === "close") return this.finish();
    this.fail(new SmallHttpError("E_CLOSED", this.gotBytes ? "connection closed before the end of the answer" : "connection closed before any answer", this.reused && !this.gotBytes));
  }

  private finish(): void {
    const d = this.done;
    this.done = null;
    d?.(null, { status: this.head!.status, head: this.head!, body: this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.size) });
  }

  private read(chunk: Buffer): void {
    if (this.done === null) return;
    this.gotBytes = true;
    let buf = chunk;
    let at = 0;
    while (this.head === null) {
      if (this.pending !== null) buf = Buffer.concat([this.pending, buf.subarray(at)]);
      else buf = buf.subarray(at);
      this.pending = null;
      at = 0;
      const r = parseResponseHead(buf, 0, buf.length, this.method);
      if (r === null) {
        this.pending = Buffer.from(buf);
        return;
      }
      if (r instanceof ParseError) return this.fail(new SmallHttpError("E_BAD_RESPONSE", r.message));
      at = r.headLength;
      if (r.isInterim) continue;
      this.head = r;
      if (r.framing.kind === "none") return this.finish();
      if (r.framing.kind === "chunked") this.chunked = new ChunkedDecoder();
      else if (r.framing.kind === "length") this.left = r.framing.length;
    }
    if (this.chunked !== null) {
      if (this.chunked.execute(buf, at, buf.length, this.onData) < 0) return this.fail(new SmallHttpError("E_BAD_RESPONSE", this.chunked.error?.message ?? "chunked framing"));
      if (this.chunked.done && this.done !== null) this.finish();
    } else if (this.head.framing.kind === "length") {
      const take = Math.min(this.left, buf.length - at);
      this.keepBody(buf, at, at + take);
      this.left -= take;
      if (this.left === 0 && this.done !== null) this.finish();
    } else this.keepBody(buf, at, buf.length);
  }

  private keepBody(buf: Buffer, start: number, end: number): void {
    if (start === end || this.done === null) return;
    this.size += end - start;
    if (this.size > MAX_BODY_BYTES) return this.fail(new SmallHttpError("E_TOO_LARGE", `answer over ${MAX_BODY_BYTES} bytes`));
    this.parts.push(Buffer.from(buf.subarray(start, end)));
  }
}
