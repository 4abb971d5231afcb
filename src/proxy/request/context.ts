// The shared state the request path reads: the engine-wide ProxyContext (clock, randomness,
// limits, counters, the current config), the per-config Runtime that a request pins when it
// starts, so a config push never changes a request half-way, and the RequestContext every HTTP
// filter runs on with the filter interface itself.
import type { Socket } from "node:net";
import type { Clock, TimerHandle } from "../../core/clock.ts";
import type { Random } from "../../core/random.ts";
import type { CorsPolicy, ForwardAction, ListenerDirection, ProxyConfig, Route, VirtualHost, WeightedCluster } from "../../model/proxy-config.ts";
import type { HeadLimits, HeaderNameSet, ResponseHead } from "../http1/types.ts";
import type { HeaderLineWriter } from "../http1/line-writer.ts";
import type { RouteTable } from "../router/index.ts";
import type { RequestView } from "../router/request-view.ts";
import type { ClusterManager, ClusterState } from "../upstream/cluster-manager.ts";
import type { DownstreamStats } from "../upstream/cluster-stats.ts";
import type { MeshCredentials } from "../identity/mesh-credentials.ts";
import type { SecretStore } from "../tls/secrets/secret-store.ts";
import type { FilterStats } from "./filter-stats.ts";
import type { XfccPlan } from "../detect/xfcc.ts";

/** What the proxy records for each request; handed to the observer once the request is over. */
export interface RequestRecord {
  readonly listener: string;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly requestId: string;
  /** Bit set of RF_* (response-flags.ts); formatResponseFlags renders it. */
  readonly flags: number;
  /** Status sent downstream (0 when none was sent). */
  readonly status: number;
  /** Wall-clock start, ms since the epoch. */
  readonly startWallMs: number;
  readonly durationMs: number;
  /** `address:port` of the last upstream host tried, "" when none. */
  readonly upstreamHost: string;
  /** The SPIFFE id of the server certificate the last attempt's upstream connection verified; "" for plaintext or none. */
  readonly upstreamPrincipal: string;
  readonly cluster: string;
  readonly routeName: string;
  readonly attempts: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  readonly sourceIp: string;
}

/**
 * Called once per finished request, synchronously, with a record that is only valid during the
 * call (copy what you keep). Keep it cheap: it runs on the request path.
 */
export type RequestObserver = (record: RequestRecord) => void;

/** What telemetry sees of a request: the record, its side, its request headers, a state slot. */
export interface TelemetryRequest extends RequestRecord {
  readonly direction: ListenerDirection;
  /** Monotonic clock ms (Clock.now) at the request's start. */
  readonly startMs: number;
  /** The verified mTLS client certificate's SPIFFE URI; "" for plaintext. */
  readonly peerPrincipal: string;
  header(name: string): string | undefined;
  /** Owned by the telemetry hooks (per-request trace and peer state). */
  telemetry: unknown;
}

/** Header edits asked for by telemetry on one message: `drop` replaces (and covers) the forwarder's. */
export interface HeaderEdit {
  readonly drop: HeaderNameSet;
  /** Headers to add (none with onForward(…, true): writeForwardLines writes them). */
  readonly add: readonly [string, string][];
}

/**
 * Telemetry hooks (src/proxy/telemetry): tracing and peer-identity headers on forwarded requests
 * and their responses, and the finished request. Installed only when the config has telemetry.
 */
export interface TelemetryHooks {
  /**
   * Once per forwarded request, before its first attempt. `asLines` (an HTTP/1.1 upstream): the
   * headers to add are written by writeForwardLines into each attempt's head, else returned as `add`.
   */
  onForward(x: TelemetryRequest, drop: HeaderNameSet, asLines?: boolean): HeaderEdit | null;
  /** After onForward(x, …, true), per attempt: the headers it decided, as lines into the upstream head's writer. */
  writeForwardLines(x: TelemetryRequest, w: HeaderLineWriter): void;
  /**
   * The upstream response head about to go downstream. `atMs`: Clock.now() when it came, when the
   * caller has read it already (one clock read per event); else read here.
   */
  onResponse(x: TelemetryRequest, head: Pick<ResponseHead, "get">, drop: HeaderNameSet | undefined, atMs?: number): HeaderEdit | null;
  /** The request is over (called after the observer). */
  onFinish(x: TelemetryRequest): void;
  /**
   * A proxied TCP connection (tcp listener, tunnel) to `cluster`'s endpoint `upstreamHost`
   * (`address:port`): the counters of its Istio TCP series (looked up once per connection), or
   * null when metrics are off for that side or the series cap is reached. `peerPrincipal`: the
   * other side's verified certificate (the client's inbound, the upstream server's outbound).
   */
  tcpCounters?(direction: ListenerDirection, cluster: string, upstreamHost: string, peerPrincipal?: string): TcpCounters | null;
}

/** Istio's TCP metrics of one label set, added to by the TCP proxy. */
export interface TcpCounters {
  opened: number;
  closed: number;
  /** Bytes sent to the downstream. */
  sentBytes: number;
  /** Bytes received from the downstream. */
  receivedBytes: number;
}

/** One config version, compiled. */
export interface Runtime {
  readonly config: ProxyConfig;
  readonly routeTables: ReadonlyMap<string, RouteTable>;
  readonly clusters: ClusterManager;
  /** Each HTTP (and auto) listener's filter chain, by listener name (http/filters/registry.ts). */
  readonly httpFilters: ReadonlyMap<string, FilterChain>;
}

export interface ProxyLimits {
  readonly head: HeadLimits;
  /** Request bodies up to this size are kept for retry replay and mirroring. */
  readonly maxReplayBodyBytes: number;
  /** Downstream connection idle timeout (no request in flight). */
  readonly downstreamIdleTimeoutMs: number;
  /** Mirrored requests in flight beyond which new mirrors are skipped. */
  readonly maxActiveMirrors: number;
  /** Mirrors are abandoned after this long (no route timeout applies to them). */
  readonly mirrorTimeoutMs: number;
}

export const DEFAULT_LIMITS: ProxyLimits = Object.freeze({
  head: Object.freeze({ maxHeadBytes: 60 * 1024, maxHeaders: 100 }),
  maxReplayBodyBytes: 64 * 1024,
  downstreamIdleTimeoutMs: 300_000,
  maxActiveMirrors: 1024,
  mirrorTimeoutMs: 10_000,
});

export interface ProxyContext {
  readonly clock: Clock;
  readonly random: Random;
  readonly limits: ProxyLimits;
  readonly downstream: DownstreamStats;
  /** Counters of the HTTP filters (local rate limit…), listed on the admin /stats page. */
  readonly filterStats: FilterStats;
  readonly hostname: string;
  runtime: Runtime;
  observer: RequestObserver | undefined;
  telemetry: TelemetryHooks | undefined;
  activeMirrors: number;
  /** Open downstream connections across every listener (the global connection limit reads it). */
  downstreamActive?: () => number;
  /** The workload certificate for mutual TLS (inbound termination, ISTIO_MUTUAL); absent without one. */
  readonly mesh?: MeshCredentials | undefined;
  /** The local secret store for `credentialName` (`amime proxy --secret-dir`); absent without one. */
  readonly secrets?: SecretStore | undefined;
}

export interface ListenerContext {
  readonly name: string;
  readonly direction: ListenerDirection;
  readonly routeConfigName: string;
  /** The listener terminates TLS: requests have scheme https. */
  readonly secure?: boolean;
  /** The port the listener is bound to (destination port for route matching). */
  port: number;
  readonly proxy: ProxyContext;  /**
   * The listener's HTTP/2 side: takes a connection whose next bytes (unshifted) are the h2c
   * preface. Used after a CONNECT on the outbound listener (src/proxy/connect/); the connection
   * stays counted once in the downstream stats.
   */
  acceptH2?: (socket: Socket) => void;
}

// ---- the request context ----
// RequestContext: what an HTTP filter (HttpFilter, below) sees of one downstream request, whatever
// the protocol. The HTTP/1.1 Exchange (http/exchange.ts) and the HTTP/2 H2Exchange (http2/h2-exchange.ts) both
// implement it, so a filter (http/filters/) is written once and runs for both. It is also the
// RequestView the router matches on and the record telemetry receives.

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
  /** What the connection does to x-forwarded-client-cert (detect/xfcc.ts); null: removed. Mirrors carry it as the main request does. */
  readonly xfcc: XfccPlan | null;
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
  /** Lower-case names of the request's headers, edits included, each once (allocates: ext_authz's check). */
  headerNames(): string[];

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
  /**
   * Called once when the request body completes, or when the proxy stops buffering it before the
   * request is forwarded (over maxReplayBodyBytes: `bodyDone` false, `replayable` false); mirrors
   * and ext_authz's body check wait on it. Null when none waits.
   */
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

/** x.metadata key of headers a filter adds to the client's response (ext_authz's headersToDownstreamOnAllow); HeaderPairs. */
export const EXT_AUTHZ_RESPONSE_HEADERS = "ext_authz.response_headers";

/** Adds headers to the client's response of a request that passes (the forwarders add EXT_AUTHZ_RESPONSE_HEADERS' list). */
export function addResponseHeaders(x: { metadata: Map<string, unknown> | null }, headers: HeaderPairs): void {
  const meta = (x.metadata ??= new Map());
  const prev = meta.get(EXT_AUTHZ_RESPONSE_HEADERS) as HeaderPairs | undefined;
  meta.set(EXT_AUTHZ_RESPONSE_HEADERS, prev === undefined ? headers : [...prev, ...headers]);
}

export const CONTINUE = 0;
export const STOP = 1;
export type FilterStatus = typeof CONTINUE | typeof STOP;

export interface HttpFilter {
  /** The name config uses (ProxyConfig listener `httpFilters[].name`). */
  readonly name: string;
  /**
   * Check the filter's config (listener-level and per-route overrides alike) when a config is
   * applied: throws Error with a clear message, and the config is NACKed. Absent: any config goes.
   */
  check?(config: unknown): void;
  /**
   * `config`: the route's override when it has one, else the listener's, as pushed (a filter
   * that derives something costly from it caches that per config object).
   */
  onRequest(x: RequestContext, config: unknown): FilterStatus;
}

/** One entry of a listener's filter list: the filter and its listener-level config. */
export interface FilterSlot {
  readonly filter: HttpFilter;
  readonly config: unknown;
}

export type FilterChain = readonly FilterSlot[];
