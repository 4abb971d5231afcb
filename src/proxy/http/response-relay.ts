// ResponseRelay: streams one upstream response downstream. The head waits until the first body
// bytes (or the end of the read) so a small response leaves in ONE write: it is serialized then,
// with those bytes in the same Buffer. It waits as the parsed upstream head (a view into the read
// buffer, parseResponseHead's `view`) and its options, so it is serialized before the read callback
// that parsed it returns (the first body bytes, flush() at the end of the read, or end()); body slices that point
// into the upstream connection's reused read buffer are written as they are, and the connection
// reads into fresh memory when the downstream socket kept a slice queued. Backpressure: a full
// downstream pauses the upstream socket until 'drain'.
import type { Buffer } from "node:buffer";
import { ChunkedDecoder, encodeChunk, LAST_CHUNK, serializeResponseHead, type ResponseFramingPlan } from "../http1/index.ts";
import type { ResponseHead, SerializeResponseOptions } from "../http1/types.ts";
import type { UpstreamConnection } from "../upstream/upstream-connection.ts";
import type { Exchange } from "./exchange.ts";

export class ResponseRelay {
  private readonly x: Exchange;
  private conn: UpstreamConnection | null;
  /** The head not serialized yet, and how to serialize it. */
  private pendingHead: ResponseHead | null;
  private headOpts: SerializeResponseOptions | null;
  /** HTTP/1.0 downstream of a chunked response: send the data only, end at close. */
  private readonly dechunk: ChunkedDecoder | null;
  /** Close-delimited upstream body to an HTTP/1.1 downstream: re-frame as chunks. */
  private readonly rechunk: boolean;
  /** The downstream connection must close after this response. */
  readonly closeAfter: boolean;
  private paused = false;
  private onDecoded: ((buf: Buffer, start: number, end: number) => void) | null = null;

  constructor(x: Exchange, conn: UpstreamConnection | null, head: ResponseHead, opts: SerializeResponseOptions, plan: ResponseFramingPlan) {
    this.x = x;
    this.conn = conn;
    this.pendingHead = head;
    this.headOpts = opts;
    this.dechunk = plan.dechunk ? new ChunkedDecoder() : null;
    this.rechunk = plan.rechunk;
    this.closeAfter = plan.close;
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
    const out = serializeResponseHead(this.pendingHead as ResponseHead, this.headOpts as SerializeResponseOptions, body, start, end);
    this.pendingHead = null;
    this.headOpts = null;
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
