// One upstream attempt of an HTTP/2 downstream stream, whatever the upstream speaks: the
// forwarder drives an UpstreamAttempt and hears an AttemptSink. Implementations: H1Attempt
// (HTTP/1.1 over the cluster's endpoint pool) and H2Attempt (a stream on a pooled HTTP/2 session).
import type { FlatHeaders, HeaderPairs, HeadLines } from "./headers.ts";

export type AttemptError =
  /** Connect refused / timed out / TLS handshake failed (UF). */
  | "connect-failure"
  /** Closed or reset before the response head (UC). */
  | "reset-before-response"
  /** Closed or reset while the body streamed (UC, downstream reset). */
  | "reset-during-response"
  /** The upstream spoke something else (UPE). */
  | "protocol-error"
  /** HTTP/2 REFUSED_STREAM: the upstream did not process the request (retry-safe). */
  | "refused-stream"
  /** The endpoint pool's pending limit (UO). */
  | "overflow";

/** What an attempt needs to send. Headers are regular fields, final (edits applied). */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: "http" | "https";
  readonly headers: HeaderPairs;
  /** The forwarded headers carry Content-Length (an HTTP/1.1 attempt frames the body by it). */
  readonly hasLength: boolean;
  /** The downstream stream ended with its headers: no body at all. */
  readonly noBody: boolean;
}

export interface AttemptSink extends HeadLines {
  /** Other requests are in flight: an HTTP/1.1 attempt's request head goes out with the turn's other writes (SocketWriter.writeSoon). */
  readonly batching: boolean;
  /** Request bytes may be written now. */
  onReady(): void;
  onHead(status: number, headers: FlatHeaders, endStream: boolean): void;
  /** Body bytes (owned by the callee). false = stop (the sink will call resumeResponse). */
  onData(buf: Buffer): void;
  /** The response is complete; trailers when the upstream sent some. */
  onEnd(trailers: HeaderPairs | null): void;
  onError(kind: AttemptError): void;
  /** The request side drained after write() returned false. */
  onDrain(): void;
}

export interface UpstreamAttempt {
  readonly ready: boolean;
  /** Whether the upstream can send trailers (HTTP/2); decides how the downstream response ends. */
  readonly trailersPossible: boolean;
  /** A connection existed (for outlier accounting of a route timeout). */
  readonly reachedHost: boolean;
  /** The verified server certificate's SPIFFE id once connected over TLS; "" before, or for plaintext. */
  readonly peerPrincipal: string;
  start(): void;
  write(buf: Buffer): boolean;
  endRequest(): void;
  abort(): void;
  pauseResponse(): void;
  resumeResponse(): void;
}
