// ForwardStream: what H2Forwarder needs of the downstream side of one request, whatever the
// downstream speaks. H2Exchange (an HTTP/2 stream) implements it; H1Stream adapts an HTTP/1.1
// Exchange, so an HTTP/1.1 request can go to an HTTP/2 upstream (h2UpgradePolicy UPGRADE, http2
// and grpc ports) through the same retry/timeout/balance layers and H2Attempt.
import type { CorsPolicy, Route } from "../../model/proxy-config.ts";
import type { ListenerContext, ProxyContext, TelemetryRequest } from "../request/context.ts";
import type { RequestView } from "../router/index.ts";
import type { FlatHeaders, HeaderPairs } from "./headers.ts";
import type { XfccPlan } from "../detect/xfcc.ts";

/** What the downstream side tells whoever forwards it (set by the forwarder). */
export interface ForwardStreamSink {
  onRequestData(): void;
  onDownstreamDrain(): void;
  abort(): void;
}

export interface ForwardStream {
  readonly proxy: ProxyContext;
  readonly listenerCtx: ListenerContext;
  readonly route: Route | null;
  readonly cors: CorsPolicy | undefined;
  readonly sourceIp: string;
  /** What the connection does to x-forwarded-client-cert (detect/xfcc.ts); null: removed. */
  readonly xfcc: XfccPlan | null;
  readonly scheme: "http" | "https";
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly grpc: boolean;
  /** What the client speaks (for clusters with useClientProtocol). */
  readonly downstreamProtocol: "http1" | "http2";
  readonly requestId: string;
  readonly requestIdGenerated: boolean;
  /** The request as the router and telemetry see it (the exchange itself). */
  readonly record: TelemetryRequest & RequestView;
  /** State the request's filters left (ext_authz's response headers). */
  readonly metadata: Map<string, unknown> | null;
  attempts: number;
  upstreamHost: string;
  upstreamPrincipal: string;
  flags: number;
  readonly responseStarted: boolean;
  readonly bodyDone: boolean;
  readonly bodyChunks: Buffer[];
  bodyHeld: number;
  readonly replayable: boolean;
  sink: ForwardStreamSink | null;
  header(name: string): string | undefined;
  /** Each end-to-end request header (connection-specific fields and `drop` left out; filters' edits applied). */
  forEachForwardHeader(drop: (name: string) => boolean, put: (name: string, value: string) => void): void;
  /** Connection addresses for hash-based load balancing. */
  connAddrs(): { sourceIp: string; remoteAddress: string; localAddress: string };
  pauseBody(): void;
  resumeBody(): void;
  /** Send the response head; `endStream`: no body and no trailers follow. false = gone. `headers` is read during the call, not kept (the forwarder reuses it). */
  respond(status: number, headers: FlatHeaders, endStream: boolean, wantTrailers: boolean): boolean;
  write(buf: Buffer): boolean;
  end(trailers: HeaderPairs | null, wantTrailers: boolean): void;
  finish(): void;
  reply(status: number, flags: number, body?: string, headers?: HeaderPairs): void;
  reset(): void;
}

/**
 * Does this request go upstream as HTTP/2? gRPC always does (there is no gRPC over HTTP/1.1);
 * a cluster with useClientProtocol follows the client; else the cluster's protocol decides
 * (http2 for http2/grpc ports and DestinationRule h2UpgradePolicy UPGRADE).
 */
export function upstreamIsH2(cluster: { readonly protocol: string; readonly useClientProtocol?: boolean }, downstream: "http1" | "http2", grpc: boolean): boolean {
  if (grpc) return true;
  if (cluster.useClientProtocol === true) return downstream === "http2";
  return cluster.protocol === "http2";
}
