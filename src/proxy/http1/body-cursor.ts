// Where an HTTP/1.1 message body being received ends (RFC 9112 §6.3), for a codec that passes the
// body on as it arrives: a Content-Length counts down, a chunked body runs through ChunkedDecoder
// (which only counts: the chunk framing stays in the bytes), a close-delimited response body ends
// with the connection. The cursor is three fields of the connection that reads the body (no
// object per message), used by both sides of the proxy: downstream requests, upstream responses.
import { ChunkedDecoder } from "./chunked.ts";
import type { ResponseBodyFraming } from "./types.ts";

/** No body is being received (none was announced, or it ended). */
export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;
/** A response body that ends when the connection does. */
export const BODY_CLOSE = 3;

/** The receiving connection's body state (its own fields). */
export interface BodyCursor {
  bodyKind: number;
  /** BODY_LENGTH: bytes still to come. */
  bodyRemaining: number;
  /** BODY_CHUNKED: the chunk framing's state. */
  bodyDecoder: ChunkedDecoder | null;
}

/** A head with `f` arrived: true when a body follows it (false: none, or Content-Length 0). */
export function startBody(c: BodyCursor, f: ResponseBodyFraming): boolean {
  if (f.kind === "length") {
    if (f.length === 0) {
      c.bodyKind = BODY_NONE;
      return false;
    }
    c.bodyKind = BODY_LENGTH;
    c.bodyRemaining = f.length;
  } else if (f.kind === "chunked") {
    c.bodyKind = BODY_CHUNKED;
    c.bodyDecoder = new ChunkedDecoder();
  } else if (f.kind === "close") {
    c.bodyKind = BODY_CLOSE;
  } else {
    c.bodyKind = BODY_NONE;
    return false;
  }
  return true;
}

/**
 * How many of the bytes buf[pos, end) belong to the body; -1: malformed chunked framing (the
 * stream cannot be trusted any further). When they end it, bodyKind is BODY_NONE again.
 */
export function bodyBytes(c: BodyCursor, buf: Buffer, pos: number, end: number): number {
  if (c.bodyKind === BODY_LENGTH) {
    const n = Math.min(c.bodyRemaining, end - pos);
    c.bodyRemaining -= n;
    if (c.bodyRemaining === 0) c.bodyKind = BODY_NONE;
    return n;
  }
  if (c.bodyKind === BODY_CHUNKED) {
    const dec = c.bodyDecoder as ChunkedDecoder;
    const used = dec.execute(buf, pos, end);
    if (used >= 0 && dec.done) {
      c.bodyKind = BODY_NONE;
      c.bodyDecoder = null;
    }
    return used;
  }
  return c.bodyKind === BODY_CLOSE ? end - pos : 0;
}
