// SmallHttpServer: the sidecar's HTTP/1.1 listeners off the request path (admin, status, Prometheus)
// on a node:net server and the proxy's own codec (http1/request-head.ts), not node:http: loading
// node:http cost every sidecar ≈ 1.7–2 MB of RSS (issue 15, docs/performance.md "Session 12").
// Answers are small and made at once (the handler is synchronous); request bodies are read past,
// never kept. A bad head gets its codec status (400, 431, 505…) and the connection is closed; a
// head that does not complete within HEAD_TIMEOUT_MS gets 408; an idle kept-alive connection is
// closed after IDLE_TIMEOUT_MS, as node:http's keepAliveTimeout; nothing a client sends throws.
import { Buffer, net } from "../../core/builtins.ts";
import type { Server, Socket } from "node:net";
import { systemClock, type Clock, type TimerHandle } from "../../core/clock.ts";
import { listenOn } from "../../core/listen.ts";
import { BODY_NONE, bodyBytes, startBody, type BodyCursor } from "../http1/body-cursor.ts";
import type { ChunkedDecoder } from "../http1/chunked.ts";
import { ParseError } from "../http1/parse-error.ts";
import { reasonPhrase } from "../http1/reason-phrase.ts";
import { parseRequestHead } from "../http1/request-head.ts";
import type { HeadLimits, RequestHead } from "../http1/types.ts";

const { createServer } = net;

/** Envoy's default max_request_headers_kb (60) and 100 header lines. */
const LIMITS: HeadLimits = Object.freeze({ maxHeadBytes: 60 * 1024, maxHeaders: 100 });
/** A request body beyond this is refused (413) and the connection closed: these endpoints take none. */
const MAX_BODY_BYTES = 1024 * 1024;
export const HEAD_TIMEOUT_MS = 10_000;
export const IDLE_TIMEOUT_MS = 5_000;
/** Answers waiting in the socket beyond this: stop reading until the client takes them. */
const MAX_QUEUED_BYTES = 1024 * 1024;

/** What a handler sees of a request. */
export interface SmallRequest {
  readonly method: string;
  /** The path without its query. */
  readonly path: string;
  /** The request-target as sent (query included). */
  readonly target: string;
  readonly head: RequestHead;
}

export interface SmallResponse {
  readonly status: number;
  readonly body: string;
  /** Default `text/plain; charset=utf-8` (only sent with a body). */
  readonly contentType?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

export type SmallHandler = (req: SmallRequest) => SmallResponse;

export class SmallHttpServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  port = 0;

  constructor(handler: SmallHandler, clock: Clock = systemClock) {
    this.server = createServer({ noDelay: true }, (socket) => {
      const c = new Connection(socket, handler, clock, this.connections);
      this.connections.add(c);
    });
  }

  /** Bind host:port; resolves with the bound port, rejects on a bind error (the port is taken…). */
  async listen(port: number, host: string): Promise<number> {
    this.port = await listenOn(this.server, host, port);
    // Later errors of the listening socket (EMFILE on accept) must not take the sidecar down.
    this.server.on("error", () => {});
    return this.port;
  }

  /** Stop listening and close every connection, idle or not. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
      for (const c of this.connections) c.destroy();
      this.connections.clear();
    });
  }
}

/** One client connection: heads parsed as they complete, answered in order, bodies skipped. */
class Connection implements BodyCursor {
  bodyKind = BODY_NONE;
  bodyRemaining = 0;
  bodyDecoder: ChunkedDecoder | null = null;
  private readonly socket: Socket;
  private readonly handler: SmallHandler;
  private readonly clock: Clock;
  private readonly all: Set<Connection>;
  /** Bytes of an incomplete head (it may span reads). */
  private pending: Buffer | null = null;
  private bodySeen = 0;
  private timer: TimerHandle | null = null;
  private closing = false;

  constructor(socket: Socket, handler: SmallHandler, clock: Clock, all: Set<Connection>) {
    this.socket = socket;
    this.handler = handler;
    this.clock = clock;
    this.all = all;
    socket.on("data", (b: Buffer) => this.read(b));
    socket.on("error", () => this.destroy());
    socket.on("end", () => this.end());
    socket.on("close", () => this.destroy());
    socket.on("drain", () => socket.resume());
    this.arm(IDLE_TIMEOUT_MS);
  }

  destroy(): void {
    this.closing = true;
    this.timer?.cancel();
    this.timer = null;
    this.all.delete(this);
    this.socket.destroy();
  }

  private end(): void {
    // The client is done sending: answers already written still go out.
    this.closing = true;
    this.timer?.cancel();
    this.socket.end();
  }

  private arm(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => this.timedOut(), ms).unref();
  }

  private timedOut(): void {
    this.timer = null;
    if (this.pending !== null) this.fail(408, "request head not complete in time");
    else this.destroy();
  }

  private read(chunk: Buffer): void {
    if (this.closing) return;
    let buf = chunk;
    if (this.pending !== null) buf = Buffer.concat([this.pending, chunk]);
    const wasPending = this.pending !== null;
    this.pending = null;
    let pos = 0;
    while (pos < buf.length && !this.closing) {
      if (this.bodyKind !== BODY_NONE) {
        const n = bodyBytes(this, buf, pos, buf.length);
        if (n < 0) return this.fail(400, "malformed chunked body");
        this.bodySeen += n;
        if (this.bodySeen > MAX_BODY_BYTES) return this.fail(413, "request body too large");
        pos += n;
        continue;
      }
      const r = parseRequestHead(buf, pos, buf.length, LIMITS);
      if (r === null) {
        this.pending = Buffer.from(buf.subarray(pos));
        if (!wasPending) this.arm(HEAD_TIMEOUT_MS);
        return;
      }
      if (r instanceof ParseError) return this.fail(r.status, r.code);
      pos += r.headLength;
      if (r.framing.kind === "length" && r.framing.length > MAX_BODY_BYTES) return this.fail(413, "request body too large");
      this.bodySeen = 0;
      const hasBody = startBody(this, r.framing);
      if (hasBody && r.expectContinue) this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      this.answer(r);
    }
    if (!this.closing) this.arm(IDLE_TIMEOUT_MS);
  }

  private answer(head: RequestHead): void {
    const q = head.path.indexOf("?");
    const path = q < 0 ? head.path : head.path.slice(0, q);
    let res: SmallResponse;
    try {
      res = this.handler({ method: head.method, path, target: head.path, head });
    } catch (e) {
      res = { status: 500, body: `internal error: ${(e as Error).message}\n` };
    }
    // An upgrade or CONNECT is never granted here: answer, then close (the bytes after are not HTTP/1.1).
    const close = !head.keepAlive || head.upgrade !== null || head.method === "CONNECT";
    this.write(res, head.method === "HEAD", close);
  }

  /** A bad request: its status, a one-line reason, and the connection closed. */
  private fail(status: number, why: string): void {
    this.write({ status, body: `${reasonPhrase(status)}: ${why}\n` }, false, true);
  }

  private write(res: SmallResponse, headOnly: boolean, close: boolean): void {
    const body = Buffer.from(res.body, "utf8");
    let head = `HTTP/1.1 ${res.status} ${reasonPhrase(res.status)}\r\n`;
    if (body.length > 0) head += `content-type: ${res.contentType ?? "text/plain; charset=utf-8"}\r\n`;
    head += `content-length: ${body.length}\r\n`;
    for (const [n, v] of res.headers ?? []) head += `${n}: ${v}\r\n`;
    head += close ? "connection: close\r\n\r\n" : "\r\n";
    const s = this.socket;
    if (s.destroyed) return;
    s.write(headOnly || body.length === 0 ? head : Buffer.concat([Buffer.from(head, "latin1"), body]));
    if (close) {
      this.closing = true;
      this.timer?.cancel();
      this.timer = null;
      this.pending = null;
      s.end();
      // A client that never reads must not keep the socket: give the answer a moment, then drop it.
      this.timer = this.clock.setTimeout(() => this.destroy(), IDLE_TIMEOUT_MS).unref();
    } else if (s.writableLength > MAX_QUEUED_BYTES) s.pause();
  }
}
