// The shared state the request pipeline reads: the engine-wide ProxyContext (clock, randomness,
// limits, counters, the current config) and the per-config Runtime that a request pins when it
// starts, so a config push never changes a request half-way.
import type { Socket } from "node:net";
import type { Clock } from "../../core/clock.ts";
import type { Random } from "../../core/random.ts";
import type { ListenerDirection, ProxyConfig } from "../../model/proxy-config.ts";
import type { HeadLimits, HeaderNameSet, ResponseHead } from "../http1/types.ts";
import type { RouteTable } from "../router/index.ts";
import type { ClusterManager } from "../upstream/cluster-manager.ts";
import type { DownstreamStats } from "../upstream/cluster-stats.ts";

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
  header(name: string): string | undefined;
  /** Owned by the telemetry hooks (per-request trace and peer state). */
  telemetry: unknown;
}

/** Header edits asked for by telemetry on one message: `drop` replaces (and covers) the forwarder's. */
export interface HeaderEdit {
  readonly drop: HeaderNameSet;
  readonly add: readonly [string, string][];
}

/**
 * Telemetry hooks (src/proxy/telemetry): tracing and peer-identity headers on forwarded requests
 * and their responses, and the finished request. Installed only when the config has telemetry.
 */
export interface TelemetryHooks {
  /** Once per forwarded request, before its first attempt. */
  onForward(x: TelemetryRequest, drop: HeaderNameSet): HeaderEdit | null;
  /** The upstream response head about to go downstream. */
  onResponse(x: TelemetryRequest, head: Pick<ResponseHead, "get">, drop: HeaderNameSet | undefined): HeaderEdit | null;
  /** The request is over (called after the observer). */
  onFinish(x: TelemetryRequest): void;
  /**
   * A proxied TCP connection (tcp listener, tunnel) to `cluster`'s endpoint `upstreamHost`
   * (`address:port`): the counters of its Istio TCP series (looked up once per connection), or
   * null when metrics are off for that side or the series cap is reached.
   */
  tcpCounters?(direction: ListenerDirection, cluster: string, upstreamHost: string): TcpCounters | null;
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
  readonly hostname: string;
  runtime: Runtime;
  observer: RequestObserver | undefined;
  telemetry: TelemetryHooks | undefined;
  activeMirrors: number;
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
