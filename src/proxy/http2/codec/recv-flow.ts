// RecvFlow: a connection's request side of flow control (RFC 9113 §6.9) — the windows this side
// gives the peer: the connection's (opened to 1 MiB at the start; streams keep the protocol's
// 65,535) and each stream's. DATA takes from them as it arrives; the window comes back in
// WINDOW_UPDATE steps of half a window as the exchange takes the bytes (padding, and DATA nobody
// will read, at once), so a client never has more in flight than the proxy agreed to hold.
// The counterpart of SendFlow (the response side, within the peer's windows).
import type { H2Output } from "./output.ts";
import * as F from "./frames.ts";

/** The request side of a stream, as RecvFlow counts it (H2ServerStream is one). */
export interface RecvStream {
  readonly id: number;
  readonly destroyed: boolean;
  /** END_STREAM received: the stream's window no longer matters. */
  readonly remoteEnded: boolean;
  /** Bytes the peer may still send on this stream. */
  recvWindow: number;
  /** Bytes taken by the exchange, not yet given back with WINDOW_UPDATE. */
  unacked: number;
}

/** The connection window we open (streams keep the protocol's default 65,535). */
const CONNECTION_WINDOW = 1024 * 1024;
/** Give window back once this much of it is consumed. */
const STREAM_UPDATE_AT = F.DEFAULT_WINDOW >>> 1;
const CONNECTION_UPDATE_AT = CONNECTION_WINDOW >>> 1;

export class RecvFlow {
  private readonly output: H2Output;
  /** Bytes the peer may still send on the connection, and bytes taken but not yet given back. */
  private window = CONNECTION_WINDOW;
  private unacked = 0;

  /** Opens the connection window: construct it after the SETTINGS frame that starts our preface. */
  constructor(output: H2Output) {
    this.output = output;
    output.windowUpdate(0, CONNECTION_WINDOW - F.DEFAULT_WINDOW);
  }

  /** A DATA frame of `length` bytes (padding included): false when it overflows the connection window. */
  take(length: number): boolean {
    if (length > this.window) return false;
    this.window -= length;
    return true;
  }

  /** The same frame on its open stream: false when it overflows the stream's window (the connection gets its bytes back). */
  takeStream(s: RecvStream, length: number): boolean {
    if (length > s.recvWindow) {
      this.giveBack(null, length);
      return false;
    }
    s.recvWindow -= length;
    return true;
  }

  /**
   * `n` bytes of `s` were consumed (`s` null: bytes no stream will read, only the connection's window
   * counts them). Window goes back in WINDOW_UPDATE steps of half a window: the windows grow when they are sent.
   */
  giveBack(s: RecvStream | null, n: number): void {
    this.unacked += n;
    if (this.unacked >= CONNECTION_UPDATE_AT) {
      this.output.windowUpdate(0, this.unacked);
      this.window += this.unacked;
      this.unacked = 0;
    }
    if (s === null || s.remoteEnded || s.destroyed) return;
    s.unacked += n;
    if (s.unacked >= STREAM_UPDATE_AT) {
      this.output.windowUpdate(s.id, s.unacked);
      s.recvWindow += s.unacked;
      s.unacked = 0;
    }
  }
}
