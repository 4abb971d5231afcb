// An HTTP/2 stream's attempt toward an HTTP/1.1 upstream, through the same endpoint pool, limits
// and connections as HTTP/1.1 requests (EndpointPool / UpstreamConnection): the pseudo-headers
// become the request line and Host; a body of unknown length is sent chunked; the response body
// is de-chunked into DATA (HTTP/2 has its own framing), chunked trailers are not carried.
import { Buffer } from "../../core/builtins.ts";
import { ChunkedDecoder, encodeChunk, LAST_CHUNK } from "../http1/index.ts";
import type { ResponseHead } from "../http1/types.ts";
import type { EndpointPool } from "../upstream/endpoint-pool.ts";
import type { UpstreamConnection, UpstreamErrorKind, UpstreamSink } from "../upstream/upstream-connection.ts";
import type { AttemptSink, UpstreamAttempt, UpstreamRequest } from "./attempt.ts";
import { h1RequestHead, isConnectionSpecific, type FlatHeaders } from "./headers.ts";
import { keepLastResponseHead } from "../memory/last-request.ts";

/** The upstream responses' lower-case field names by position, shared by every attempt (see forEachForwardedLower). */
const RESPONSE_NAMES: string[] = [];

export class H1Attempt implements UpstreamAttempt, UpstreamSink {
  private readonly pool: EndpointPool;
  private readonly req: UpstreamRequest;
  private readonly sink: AttemptSink;
  private conn: UpstreamConnection | null = null;
  private queued = false;
  private chunked = false;
  private decoder: ChunkedDecoder | null = null;
  private done = false;
  /** The socket is paused for downstream backpressure: resume it before it goes back to the pool. */
  private responsePaused = false;
  ready = false;
  readonly trailersPossible = false;

  constructor(pool: EndpointPool, req: UpstreamRequest, sink: AttemptSink) {
    this.pool = pool;
    this.req = req;
    this.sink = sink;
  }

  get reachedHost(): boolean {
    return this.conn?.connected === true;
  }

  get peerPrincipal(): string {
    return this.conn?.peerPrincipal ?? "";
  }

  start(): void {
    const r = this.pool.acquire(this);
    if (r === "overflow") {
      this.done = true;
      this.sink.onError("overflow");
      return;
    }
    if (r === "queued") {
      this.queued = true;
      return;
    }
    this.conn = r;
    if (r.connected) this.onUpstreamReady(r);
  }

  // ---- UpstreamSink ----

  onUpstreamReady(conn: UpstreamConnection): void {
    if (this.done || (this.conn !== null && this.conn !== conn)) {
      conn.abort();
      return;
    }
    this.queued = false;
    this.conn = conn;
    const req = this.req;
    conn.beginRequest(req.method);
    const framing = req.noBody ? "none" : req.hasLength ? "length" : "chunked";
    this.chunked = framing === "chunked";
    const head = h1RequestHead(req.method, req.path, req.authority, req.headers, framing, this.sink);
    // As the HTTP/1.1 forwarder: with other requests in flight, written with the turn's other writes.
    if (this.sink.batching) conn.writeSoon(head);
    else conn.write(head);
    this.ready = true;
    this.sink.onReady();
  }

  onUpstreamHead(head: ResponseHead): void {
    if (head.isInterim) return; // 100 Continue and friends: HTTP/2 clients need none of them.
    keepLastResponseHead(head);
    const fields: FlatHeaders = [];
    head.forEachForwardedLower((name, v) => {
      if (!isConnectionSpecific(name)) fields.push(name, v);
    }, RESPONSE_NAMES);
    const f = head.framing;
    // The body's length crosses, as with Envoy and an HTTP/2 upstream (forEachForwarded leaves it
    // out: HTTP/1.1 framing); HEAD and 304 heads keep the upstream's value, a 204 has none.
    if (f.kind === "length") fields.push("content-length", String(f.length));
    else if (f.kind === "none" && head.status !== 204) {
      const cl = head.get("content-length");
      if (cl !== undefined) fields.push("content-length", cl);
    }
    if (f.kind === "chunked") this.decoder = new ChunkedDecoder();
    const empty = f.kind === "none" || (f.kind === "length" && f.length === 0);
    this.sink.onHead(head.status, fields, empty);
  }

  onUpstreamData(buf: Buffer, start: number, end: number): void {
    // The connection's read buffer is reused: copy what goes downstream.
    const d = this.decoder;
    if (d === null) {
      this.sink.onData(Buffer.from(buf.subarray(start, end)));
      return;
    }
    d.execute(buf, start, end, (b, s, e) => this.sink.onData(Buffer.from(b.subarray(s, e))));
  }

  onUpstreamReadDone(): void {}

  onUpstreamEnd(): void {
    this.done = true;
    if (this.responsePaused) this.conn?.resume();
    this.responsePaused = false;
    this.conn = null;
    this.sink.onEnd(null);
  }

  onUpstreamError(kind: UpstreamErrorKind): void {
    this.done = true;
    this.conn = null;
    this.sink.onError(kind);
  }

  onUpstreamDrain(): void {
    this.sink.onDrain();
  }

  // ---- UpstreamAttempt ----

  write(buf: Buffer): boolean {
    const c = this.conn;
    if (c === null || buf.length === 0) return true;
    return c.write(this.chunked ? encodeChunk(buf) : buf);
  }

  endRequest(): void {
    const c = this.conn;
    if (c === null) return;
    if (this.chunked) c.write(LAST_CHUNK);
    c.endRequest();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.queued) this.pool.cancelWait(this);
    this.queued = false;
    const c = this.conn;
    this.conn = null;
    c?.abort();
  }

  pauseResponse(): void {
    if (this.conn === null) return;
    this.responsePaused = true;
    this.conn.pause();
  }

  resumeResponse(): void {
    if (!this.responsePaused) return;
    this.responsePaused = false;
    this.conn?.resume();
  }
}
