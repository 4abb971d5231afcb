// What one access log line can say about a request: a flat snapshot taken when it finishes.
export interface AccessLogEntry {
  startWallMs: number;
  method: string;
  path: string;
  protocol: string;
  /** 0 when no response was sent. */
  status: number;
  /** Envoy response flags text, "-" for none. */
  flags: string;
  /** Why this response: `via_upstream`, `route_not_found`, … */
  details: string;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  /** Time to the upstream response head in ms, when the response came from upstream. */
  upstreamServiceTimeMs: number | undefined;
  authority: string;
  requestId: string;
  upstreamHost: string;
  upstreamCluster: string;
  routeName: string;
  downstreamRemoteAddress: string;
  /** The verified mTLS client certificate's URI SAN; "" when the request did not come over mTLS. */
  downstreamPeerUriSan: string;
  /** The verified upstream server certificate's URI SAN; "" when the upstream connection was not verified TLS. */
  upstreamPeerUriSan: string;
  traceId: string;
  /** Request header (lowercase name). */
  header(name: string): string | undefined;
}
