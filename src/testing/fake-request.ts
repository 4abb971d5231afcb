// A RequestContext without sockets for the filters' unit tests: plain values in, and the local
// replies and upstream hand-offs it was asked for recorded. Imported by the filters' tests and bench/authz-filters.ts.
import type { TimerHandle } from "../core/clock.ts";
import type { Random } from "../core/random.ts";
import type { CorsPolicy, ForwardAction, ListenerDirection, Route, RouteConfiguration, VirtualHost, WeightedCluster } from "../model/proxy-config.ts";
import { FakeClock } from "./fake-clock.ts";
import { FilterStats } from "../proxy/request/filter-stats.ts";
import { HeaderEdits, withEdits } from "../proxy/request/header-edits.ts";
import { RouteTable } from "../proxy/router/index.ts";
import type { ClusterManager, ClusterState } from "../proxy/upstream/cluster-manager.ts";
import type { DownstreamStats } from "../proxy/upstream/cluster-stats.ts";
import { DEFAULT_LIMITS, type FilterChain, type HeaderPairs, type ListenerContext, type ProxyContext, type RequestContext, type Runtime } from "../proxy/request/context.ts";

export interface Reply {
  status: number;
  flags: number;
  body: string | undefined;
  headers: HeaderPairs | undefined;
  grpcStatus: number | undefined;
}

export interface FakeInit {
  method?: string;
  path?: string;
  authority?: string;
  headers?: Record<string, string>;
  routes?: RouteConfiguration;
  /** Cluster names the runtime knows. */
  clusters?: string[];
  clock?: FakeClock;
  random?: Random;
}

/** Always the same draw: 0 (every percentage hits, the first weighted cluster wins). */
export const ZERO_RANDOM: Random = { next: () => 0, int: () => 0 };

export class FakeRequest implements RequestContext {
  readonly downstreamProtocol = "http1";
  readonly proxy: ProxyContext;
  readonly listenerCtx: ListenerContext;
  readonly runtime: Runtime;
  readonly clock: FakeClock;
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme = "http";
  readonly port = 9080;
  readonly sourceIp = "10.0.0.7";
  readonly listener = "outbound";
  readonly direction: ListenerDirection = "outbound";
  readonly grpc = false;
  readonly upgrade = false;
  peerPrincipal = "";
  xfcc = null;
  route: Route | null = null;
  virtualHost: VirtualHost | null = null;
  routeName = "";
  cluster = "";
  cors: CorsPolicy | undefined = undefined;
  flags = 0;
  status = 0;
  requestId = "";
  requestIdGenerated = true;
  metadata: Map<string, unknown> | null = null;
  finished = false;
  responseStarted = false;
  timer: TimerHandle | null = null;
  filterChain: FilterChain = [];
  filterIndex = 0;
  bodyDone = true;
  replayable = true;
  onBodyComplete: ((x: RequestContext) => void) | null = null;
  pendingMirrors: readonly string[] | null = null;
  telemetry: unknown = undefined;
  startMs = 0;
  startWallMs = 0;
  durationMs = 0;
  upstreamHost = "";
  upstreamPrincipal = "";
  attempts = 0;
  bytesReceived = 0;
  bytesSent = 0;
  edits: HeaderEdits | null = null;
  private readonly headers: Map<string, string>;

  readonly replies: Reply[] = [];
  readonly forwarded: { action: ForwardAction; wc: WeightedCluster; cluster: string }[] = [];

  constructor(init: FakeInit = {}) {
    this.method = init.method ?? "GET";
    this.path = init.path ?? "/";
    this.authority = init.authority ?? "reviews:9080";
    this.headers = new Map(Object.entries(init.headers ?? {}));
    this.clock = init.clock ?? new FakeClock();
    const known = new Set(init.clusters ?? []);
    const clusters = { get: (name: string) => (known.has(name) ? ({ name } as unknown as ClusterState) : undefined) } as unknown as ClusterManager;
    this.runtime = {
      config: {} as Runtime["config"],
      routeTables: new Map(init.routes === undefined ? [] : [["outbound", RouteTable.compile(init.routes)]]),
      clusters,
      httpFilters: new Map(),
    };
    this.proxy = {
      clock: this.clock,
      random: init.random ?? ZERO_RANDOM,
      limits: DEFAULT_LIMITS,
      downstream: { downstream_rq_internal_error: 0 } as unknown as DownstreamStats,
      filterStats: new FilterStats(),
      hostname: "test",
      runtime: this.runtime,
      observer: undefined,
      telemetry: undefined,
      activeMirrors: 0,
    };
    this.listenerCtx = { name: "outbound", direction: "outbound", routeConfigName: "outbound", port: 9080, proxy: this.proxy };
  }

  header(name: string): string | undefined {
    const v = this.edits?.get(name);
    if (v !== undefined) return v ?? undefined;
    return this.headers.get(name);
  }
  setHeader(name: string, value: string): void {
    (this.edits ??= new HeaderEdits()).put(name, value);
  }
  removeHeader(name: string): void {
    (this.edits ??= new HeaderEdits()).remove(name);
  }
  headerNames(): string[] {
    return withEdits(new Set(this.headers.keys()), this.edits);
  }

  reply(status: number, flags: number, body?: string, headers?: HeaderPairs, grpcStatus?: number): void {
    if (this.finished) return;
    this.flags |= flags;
    this.status = status;
    this.replies.push({ status, flags, body, headers, grpcStatus });
    this.finished = true;
    this.timer?.cancel();
    this.timer = null;
  }

  forward(action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
    this.forwarded.push({ action, wc, cluster: cluster.name });
  }

  connAddrs(): { sourceIp: string; remoteAddress: string; localAddress: string } {
    return { sourceIp: this.sourceIp, remoteAddress: `${this.sourceIp}:40000`, localAddress: "10.0.0.1:9080" };
  }

  mirrorHead(): Buffer {
    return Buffer.alloc(0);
  }
  bodyBuffer(): Buffer | undefined {
    return undefined;
  }
}
