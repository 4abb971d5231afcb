// ResponseRelay: streams one upstream response downstream. The head waits until the first body
// bytes (or the end of the read) so a small response leaves in ONE write: it is serialized then,
// with those bytes in the same Buffer. It waits as the parsed upstream head (a view into the read
// buffer, parseResponseHead's `view`) and its options, so it is serialized before the read callback
// that parsed it returns (the first body bytes, flush() at the end of the read, or end()); body slices that point
// into the upstream connection's reused read buffer are written as they are, and the connection
// reads into fresh memory when the downstream socket kept a slice queued. Backpressure: a full
// downstream pauses the upstream socket until 'drain'.
import type { Buffer } from "node:buffer";
import { chooseResponseFraming, ChunkedDecoder, encodeChunk, LAST_CHUNK, serializeResponseHead, type HeaderLineWriter } from "../http1/index.ts";
import type { HeaderNameSet, OutboundFraming, ResponseHead, SerializeResponseOptions } from "../http1/types.ts";
import type { UpstreamConnection } from "../upstream/upstream-connection.ts";
import type { Exchange } from "./exchange.ts";

/**
 * The relay is also the options its head is serialized with (SerializeResponseOptions): one object
 * per response instead of three (the relay, an options bag and a framing plan).
 */
export class ResponseRelay implements SerializeResponseOptions {
  private readonly x: Exchange;
  private conn: UpstreamConnection | null;
  /** The head not serialized yet. */
  private pendingHead: ResponseHead | null;
  // How to serialize it (SerializeResponseOptions).
  readonly drop: HeaderNameSet | undefined;
  readonly lines: HeaderLineWriter;
  readonly extra: ReadonlyArray<readonly [string, string]> | undefined;
  readonly framing: OutboundFraming;
  readonly downstreamMinor: 0 | 1;
  /** The downstream connection must close after this response (`Connection: close`). */
  readonly close: boolean;
  /** HTTP/1.0 downstream of a chunked response: send the data only, end at close. */
  private readonly dechunk: ChunkedDecoder | null;
  /** Close-delimited upstream body to an HTTP/1.1 downstream: re-frame as chunks. */
  private readonly rechunk: boolean;
  private paused = false;
  private onDecoded: ((buf: Buffer, start: number, end: number) => void) | null = null;

  /**
   * `lines` must stay as they are until the head is serialized (before the upstream read callback
   * that parsed `head` returns); `keepAlive`: the downstream connection may stay open.
   */
  constructor(
    x: Exchange,
    conn: UpstreamConnection | null,
    head: ResponseHead,
    drop: HeaderNameSet | undefined,
    lines: HeaderLineWriter,
    extra: ReadonlyArray<readonly [string, string]> | undefined,
    keepAlive: boolean,
  ) {
    this.x = x;
    this.conn = conn;
    this.pendingHead = head;
    this.drop = drop;
    this.lines = lines;
    this.extra = extra;
    const minor = x.head.versionMinor;
    this.downstreamMinor = minor;
    const plan = chooseResponseFraming(head.framing, minor, keepAlive);
    this.framing = plan.framing;
    this.close = plan.close;
    this.dechunk = plan.dechunk ? new ChunkedDecoder() : null;
    this.rechunk = plan.rechunk;
  }

  /** The downstream connection must close after this response. */
  get closeAfter(): boolean {
    return this.close;
  }

  /** Body bytes as framed by the upstream (valid only during the call). */
  data(buf: Buffer, start: number, end: number): void {
    if (this.dechunk !== null) {
      this.dechunk.execute(buf, start, end, (this.onDecoded ??= (b, s, e) => this.relay(b, s, e)));
      return;
    }
    this.relay(buf, start, end);
  }

  /** End of one upstream read: the head goes out now if no body came with it. */
  flush(): void {
    if (this.pendingHead !== null) this.x.writeSoon(this.takeHead(undefined, 0, 0));
  }

  /** The pending head serialized, with body[start, end) in the same Buffer. */
  private takeHead(body: Buffer | undefined, start: number, end: number): Buffer {
    const out = serializeResponseHead(this.pendingHead as ResponseHead, this, body, start, end);
    this.pendingHead = null;
    return out;
  }

  /** The upstream response is complete. */
  end(): void {
    if (this.rechunk) this.send(LAST_CHUNK);
    else this.flush();
    this.conn = null;
  }

  /** The downstream socket drained. */
  drain(): void {
    if (this.paused) {
      this.paused = false;
      this.conn?.resume();
    }
  }

  /** The upstream connection is gone (reset, timeout). */
  detach(): void {
    this.conn = null;
    this.paused = false;
  }

  private relay(buf: Buffer, start: number, end: number): void {
    if (start >= end) return;
    const x = this.x;
    let ok: boolean;
    if (this.rechunk) {
      ok = this.send(encodeChunk(buf, start, end));
    } else if (this.pendingHead !== null) {
      // Head and body in one write (one syscall; one TCP segment for a small response), made
      // with the turn's other writes (SocketWriter.writeSoon): backpressure shows on the next write.
      x.writeSoon(this.takeHead(buf, start, end));
      return;
    } else {
      ok = x.write(buf.subarray(start, end));
      // The slice points into the connection's reused read buffer: if the socket kept it queued,
      // the next read must not overwrite it.
      if (x.conn.writeQueued) this.conn?.detachReadBuffer();
    }
    this.backpressure(ok);
  }

  /** Write an owned buffer, flushing the pending head with it. */
  private send(buf: Buffer): boolean {
    return this.x.write(this.pendingHead !== null ? this.takeHead(buf, 0, buf.length) : buf);
  }

  private backpressure(ok: boolean): void {
    if (!ok && this.conn !== null && !this.paused) {
      this.paused = true;
      this.conn.pause();
    }
  }
}
