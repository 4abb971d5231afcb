// DownstreamStream: what an H2Exchange uses of its downstream HTTP/2 stream. node:http2's
// ServerHttp2Stream fits it as it is (TLS ALPN h2 and CONNECT-tunnelled h2c), and Amime's own
// connection codec (codec/) implements it for h2c prior knowledge. Events: 'data' (a request body
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
  /** The response head: a raw list (`[":status", "200", name, value, …]`). */
  respond(headers: OutgoingHttpHeaders, options: ServerStreamResponseOptions): void;
  write(chunk: Buffer): boolean;
  end(chunk?: string): unknown;
  sendTrailers(headers: OutgoingHttpHeaders): void;
  close(code?: number): void;
}
