// DownstreamStream: what an H2Exchange uses of its downstream HTTP/2 stream; Amime's own
// connection codec (codec/) implements it for h2c prior knowledge, CONNECT-tunnelled h2c and TLS
// ALPN h2. Events: 'data' (a request body
// chunk), 'end' (the request body ended), 'close' (the stream is over, reset or not), 'drain'
// (write() returned false and the stream can take more), 'error' (ignored: 'close' follows),
// 'wantTrailers' (after end() of a response sent with waitForTrailers: sendTrailers() now).
import type { Buffer } from "node:buffer";
import type { OutgoingHttpHeaders, ServerStreamResponseOptions } from "node:http2";

/** The connection's addresses, as net.Socket has them. */
export interface DownstreamSocketInfo {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

export interface DownstreamStream {
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  readonly session: { readonly socket: DownstreamSocketInfo } | undefined;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "end" | "close" | "drain" | "error", listener: () => void): unknown;
  once(event: "wantTrailers", listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  /** An interim `100 Continue` head (HEADERS without END_STREAM) before the response's own. */
  continue100(): void;
  /** The response head: a raw list (`[":status", "200", name, value, …]`), encoded during the call and not kept (the caller reuses it). */
  respond(headers: OutgoingHttpHeaders, options: ServerStreamResponseOptions): void;
  write(chunk: Buffer): boolean;
  end(chunk?: string): unknown;
  sendTrailers(headers: OutgoingHttpHeaders): void;
  close(code?: number): void;
}
