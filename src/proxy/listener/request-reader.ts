// How a downstream HTTP/1.1 connection's bytes become requests: request heads are parsed, request
// bodies framed (Content-Length or chunked, passed through as received), one Exchange runs at a
// time and pipelined bytes wait aside until the response in flight is done, so responses never
// reorder. After a CONNECT the tunnel's probe sees the next bytes first. These are the
// connection's own methods, kept as functions of it (DownstreamConnection is `c`): no object per
// connection or request beyond its head and its Exchange.
import { Buffer } from "../../core/builtins.ts";
import type { Socket } from "node:net";
import { bodyBytes, BODY_NONE, startBody, type BodyCursor } from "../http1/body-cursor.ts";
import { parseRequestHead, ParseError } from "../http1/index.ts";
import { Exchange, type ExchangeConn, type TunnelProbe } from "../http/exchange.ts";
import type { ListenerContext } from "../request/context.ts";
import { startRequest } from "./h1-dispatch.ts";
import type { HeaderTimeouts, HeadWaiter } from "./header-timeout.ts";
import { SHARED_READ_BUFFER } from "../io/shared-reads.ts";

/** Waiting for (the rest of) a request head. */
export const S_HEAD = 0;
/** Receiving the request body. */
export const S_BODY = 1;
/** The request is in; its response is not done: later bytes wait in `pending`. */
export const S_WAIT = 2;
export const S_CLOSED = 3;

/** Pending unparsed bytes beyond this while a request is in flight: stop reading (pipelining). */
const MAX_PIPELINED_BYTES = 64 * 1024;

/** The connection's reading state, as these functions read and write it. */
export interface ReadingConn extends ExchangeConn, HeadWaiter, BodyCursor {
  readonly socket: Socket;
  readonly listener: ListenerContext;
  state: number;
  /** Received bytes not parsed yet (a partial head, or pipelined requests). */
  pending: Buffer | null;
  exchange: Exchange | null;
  /** feed() is on the stack. */
  feeding: boolean;
  /** The bytes being fed live in SHARED_READ_BUFFER: copy whatever is kept past the call. */
  borrowed: boolean;
  /** takeOver() happened on an `onread` socket: reads go to the stream (tunnels) as copies. */
  streamMode: boolean;
  /** Bytes came in or a response finished since the last idle sweep. */
  touched: boolean;
  pausedForPipeline: boolean;
  /** After a CONNECT (src/proxy/connect/): decides, on the first bytes that follow, whether the
   * connection stays HTTP/1.1 (false), was taken over (true: a raw or HTTP/2 tunnel), or needs more bytes. */
  tunnelProbe: TunnelProbe | null;
  /** The listener's request-head deadline (null: off). */
  readonly headTimer: HeaderTimeouts | null;
  /** A head is partly received and timed (headTimer holds this connection). */
  headTimed: boolean;
  /** A malformed request: answer `status` (or reset, with a request in flight) and close. */
  protocolError(status: number): void;
}

/** `onread` socket: n bytes in SHARED_READ_BUFFER. false pauses reading (never needed here). */
export function readShared(c: ReadingConn, n: number): boolean {
  const buf = SHARED_READ_BUFFER;
  if (c.streamMode) {
    // A tunnel owns the connection now: hand it copies through the stream; its backpressure
    // (push() false) stops reading until the stream asks for more (Socket._read restarts it).
    return c.socket.push(Buffer.from(buf.subarray(0, n)));
  }
  c.borrowed = true;
  try {
    // No view of the shared buffer per read: feed it with bounds (a Buffer object less per request).
    if (c.pending === null && (c.state === S_HEAD || c.state === S_BODY)) {
      c.touched = true;
      feed(c, buf, 0, n);
    } else {
      readChunk(c, buf.subarray(0, n));
    }
  } finally {
    c.borrowed = false;
  }
  return true;
}

/** Owned bytes: a stream socket's 'data' chunk, the dispatcher's peeked bytes, or a shared read that cannot be fed in place. */
export function readChunk(c: ReadingConn, chunk: Buffer): void {
  if (c.state === S_CLOSED) return;
  c.touched = true;
  if (c.state === S_WAIT) {
    keep(c, chunk, 0, chunk.length);
    return;
  }
  if (c.pending !== null && c.state === S_HEAD) {
    const p = c.pending;
    c.pending = null;
    const joined = Buffer.concat([p, chunk]);
    feed(c, joined, 0, joined.length);
    return;
  }
  feed(c, chunk, 0, chunk.length);
}

/** Parse and run requests from buf[start, end) until the bytes run out or a request is in flight. */
export function feed(c: ReadingConn, buf: Buffer, start: number, end: number): void {
  c.feeding = true;
  let pos = start;
  for (;;) {
    while (pos < end && (c.state === S_HEAD || c.state === S_BODY)) {
      if (c.state === S_BODY) {
        pos = body(c, buf, pos, end);
        continue;
      }
      if (c.tunnelProbe !== null) {
        // Once per tunnel: the probe may keep the bytes, so they must be its own.
        const bytes = c.borrowed ? Buffer.from(buf.subarray(pos, end)) : buf.subarray(pos, end);
        const verdict = c.tunnelProbe(bytes, c);
        if (verdict === "more") {
          keep(c, buf, pos, end);
          pos = end;
          break;
        }
        c.tunnelProbe = null;
        if (verdict) {
          // The tunnel took the connection and these bytes (takeOver() took `pending`).
          c.feeding = false;
          return;
        }
      }
      // Socket chunks (and joined pending bytes) are fresh memory: the head may keep a view.
      const head = parseRequestHead(buf, pos, end, c.listener.proxy.limits.head, pos, !c.borrowed);
      if (head === null) {
        keep(c, buf, pos, end);
        pos = end;
        // Slow path only: a head that came whole never reaches here.
        if (!c.headTimed && c.headTimer !== null && c.headTimer.enabled) {
          c.headTimed = true;
          c.headTimer.start(c);
        }
        break;
      }
      if (c.headTimed) {
        c.headTimed = false;
        c.headTimer?.stop(c);
      }
      if (head instanceof ParseError) {
        c.protocolError(head.status);
        c.feeding = false;
        return;
      }
      pos += head.headLength;
      const x = new Exchange(c, head);
      c.exchange = x;
      if (startBody(c, head.framing)) {
        c.state = S_BODY;
      } else {
        c.state = S_WAIT;
        x.onBodyEnd();
      }
    }
    // Start the request once the body bytes that came with its head are in: a small request
    // then goes upstream in one write. It may also finish synchronously (local reply).
    const x = c.exchange;
    if (x !== null && !x.started) {
      try {
        startRequest(x);
      } catch {
        // A bug in a layer must cost this request, never the process (and every other request).
        c.listener.proxy.downstream.downstream_rq_internal_error++;
        if (!x.finished) x.reply(500, 0, "internal proxy error\n");
      }
    }
    if (pos >= end || c.state === S_CLOSED) break;
    if (c.state === S_HEAD) continue; // finished synchronously: next pipelined request
    // A request is in flight: hold the pipelined rest until its response is done.
    keep(c, buf, pos, end);
    break;
  }
  c.feeding = false;
}

/** Request body bytes; returns the position after what belonged to this request. */
function body(c: ReadingConn, buf: Buffer, pos: number, end: number): number {
  const x = c.exchange as Exchange;
  const used = bodyBytes(c, buf, pos, end);
  if (used < 0) {
    // Malformed chunked framing: the stream cannot be trusted any further.
    c.listener.proxy.downstream.downstream_cx_protocol_error++;
    c.destroy();
    return end;
  }
  if (used > 0) {
    // The exchange holds body chunks (replay, backpressure): never a view of the shared buffer.
    if (c.borrowed) x.onBody(Buffer.from(buf.subarray(pos, pos + used)), 0, used);
    else x.onBody(buf, pos, pos + used);
  }
  if (c.bodyKind === BODY_NONE) {
    c.state = S_WAIT;
    x.onBodyEnd();
  }
  return pos + used;
}

/** Keep unparsed bytes (a stream socket's chunks are ours: no copy needed for a single slice). */
function keep(c: ReadingConn, buf: Buffer, start: number, end: number): void {
  if (start >= end) return;
  const slice = c.borrowed ? Buffer.from(buf.subarray(start, end)) : buf.subarray(start, end);
  c.pending = c.pending === null ? slice : Buffer.concat([c.pending, slice]);
  if (c.exchange !== null && !c.pausedForPipeline && c.pending.length > MAX_PIPELINED_BYTES) {
    c.pausedForPipeline = true;
    c.socket.pause();
  }
}
