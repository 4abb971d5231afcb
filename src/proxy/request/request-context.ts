// RequestContext: what an HTTP filter (HttpFilter, below) sees of one downstream request, whatever the protocol. The
// HTTP/1.1 Exchange (http/exchange.ts) and the HTTP/2 H2Exchange (http2/h2-exchange.ts) both
// implement it, so a filter (http/filters/) is written once and runs for both. It is also the
// RequestView the router matches on and the record telemetry receives.
import type { TimerHandle } from "../../core/clock.ts";
import type { CorsPolicy, ForwardAction, Route, VirtualHost, WeightedCluster } from "../../model/proxy-config.ts";
import type { ListenerContext, ProxyContext, Runtime, TelemetryRequest } from "./context.ts";
import type { RequestView } from "../router/request-view.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";

export type HeaderPairs = ReadonlyArray<readonly [string, string]>;

export interface RequestContext extends RequestView, TelemetryRequest {
  /** What the client speaks. */
  readonly downstreamProtocol: "http1" | "http2";
  readonly proxy: ProxyContext;
  readonly listenerCtx: ListenerContext;
  /** The config version this request runs on, start to end. */
  readonly runtime: Runtime;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: "http" | "https";
  /** Downstream peer address (IP). */
  readonly sourceIp: string;
  /** The connection's addresses (`ip:port` both ends; consistent-hash keys, generated cookies). */
  connAddrs(): { sourceIp: string; remoteAddress: string; localAddress: string };
  /**
   * The peer's authenticated identity (a SPIFFE URI from its mTLS certificate), "" when the
   * connection carries none.
   */
  peerPrincipal: string;
  /** A gRPC request (local replies become trailers-only gRPC answers). */
  readonly grpc: boolean;
  /** An HTTP/1.1 Upgrade request (WebSocket…): it gets a connection of its own, no mirrors. */
  readonly upgrade: boolean;

  // ---- headers ----
  /** Request header by lower-case name (edits included); repeated ones joined with `,`. */
  header(name: string): string | undefined;
  /** Replace (or add) a request header; the upstream request carries the edit. */
  setHeader(name: string, value: string): void;
  /** Remove a request header before it goes upstream. */
  removeHeader(name: string): void;

  // ---- decisions ----
  route: Route | null;
  virtualHost: VirtualHost | null;
  routeName: string;
  cluster: string;
  cors: CorsPolicy | undefined;
  /** Bit set of RF_* (response-flags.ts). */
  flags: number;
  requestId: string;
  requestIdGenerated: boolean;
  /** State filters leave for each other (an authenticated JWT's claims, a rate-limit descriptor…); null until one is set. */
  metadata: Map<string, unknown> | null;

  // ---- lifecycle ----
  readonly finished: boolean;
  /** The response head went downstream (no local reply possible any more). */
  readonly responseStarted: boolean;
  /** A timer a filter holds for this request (fault delay); cancelled when the request ends. */
  timer: TimerHandle | null;
  /** The filter list this request runs, and the index of the next filter (the chain runner's). */
  filterChain: FilterChain;
  filterIndex: number;

  // ---- answers ----
  /**
   * Answer locally with `status`, response flags, a body and extra headers. `grpcStatus` (or a
   * gRPC request) answers HTTP 200 with a trailers-only gRPC status instead.
   */
  reply(status: number, flags: number, body?: string, headers?: HeaderPairs, grpcStatus?: number): void;
  /** Hand the request to its upstream driver (the router filter's last step). */
  forward(action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void;
  /** The request as an HTTP/1.1 head for a mirror cluster (`authority` already shadowed), `extra` appended. */
  mirrorHead(authority: string, extra: HeaderPairs, body: Buffer | undefined): Buffer;
  /** The whole request body is in memory and complete (mirrors need it). */
  readonly bodyDone: boolean;
  readonly replayable: boolean;
  bodyBuffer(): Buffer | undefined;
  /** Called once when the request body completes (mirrors waiting for it); null when none waits. */
  onBodyComplete: ((x: RequestContext) => void) | null;
  /** Mirror clusters waiting for the request body. */
  pendingMirrors: readonly string[] | null;
}

// ---- HTTP filters ----
// A filter is one step of the request path (http/filters/<name>/),
// registered by name (http/filters/registry.ts); the chain runner (http/filters/chain.ts) runs a
// listener's list in order for HTTP/1.1 and HTTP/2 requests alike.
//
// onRequest returns CONTINUE (next filter) or STOP. STOP means the filter either answered the
// request (x.reply) or handed it on (the router), or suspended it: it then calls resumeChain(x)
// (http/filters/chain.ts) when its async check is done, or answers. The sync path allocates nothing.

export const CONTINUE = 0;
export const STOP = 1;
export type FilterStatus = typeof CONTINUE | typeof STOP;

export interface HttpFilter {
  /** The name config uses (ProxyConfig listener `httpFilters[].name`). */
  readonly name: string;
  /**
   * Check and compile the filter's config once per config version (listener-level and per-route
   * overrides alike). Throws Error with a clear message for bad config. Absent: config is unused.
   */
  compile?(config: unknown): unknown;
  /** `config`: the route's override when it has one, else the listener's (compiled). */
  onRequest(x: RequestContext, config: unknown): FilterStatus;
}

/** One entry of a listener's filter list: the filter and its compiled listener-level config. */
export interface FilterSlot {
  readonly filter: HttpFilter;
  readonly config: unknown;
}

export type FilterChain = readonly FilterSlot[];
