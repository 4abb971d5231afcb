// A ProxyContext for unit tests of the proxy's state machines: a config compiled as the sidecar
// does (route tables, cluster manager), on a fake clock, seeded randomness and fake sockets.
import { buildChains } from "../proxy/http/filters/registry.ts";
import type { Clock } from "../core/clock.ts";
import { seededRandom, type Random } from "../core/random.ts";
import { DEFAULT_CONNECTION_POOL, type Cluster, type ConnectionPoolConfig, type Endpoint, type ProxyConfig } from "../model/proxy-config.ts";
import { DEFAULT_LIMITS, type ProxyContext, type ProxyLimits } from "../proxy/request/context.ts";
import { RouteTable } from "../proxy/router/index.ts";
import { ClusterManager } from "../proxy/upstream/cluster-manager.ts";
import { DownstreamStats } from "../proxy/upstream/cluster-stats.ts";
import { FilterStats } from "../proxy/request/filter-stats.ts";
import type { Dialer } from "../proxy/upstream/dialer.ts";
import { FakeClock } from "./fake-clock.ts";
import { FakeDialer } from "./fake-socket.ts";
import * as rooms from "../proxy/rooms/rooms.ts";
import { registerRooms } from "../proxy/rooms/load.ts";

// A sidecar loads its lazy rooms before a config that uses them is applied (src/proxy/rooms/);
// the state machines under test here see all of them.
registerRooms(rooms);

export interface TestProxy {
  readonly ctx: ProxyContext;
  readonly clock: FakeClock;
  readonly dialer: FakeDialer;
}

export function testProxyContext(config: ProxyConfig, o: { clock?: FakeClock; random?: Random; limits?: Partial<ProxyLimits> } = {}): TestProxy {
  const clock = o.clock ?? new FakeClock();
  const random = o.random ?? seededRandom(1);
  const dialer = new FakeDialer();
  const ctx: ProxyContext = {
    clock,
    random,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
    downstream: new DownstreamStats(),
    filterStats: new FilterStats(),
    hostname: "test-host",
    runtime: compile(config, random, clock, dialer.dial),
    observer: undefined,
    telemetry: undefined,
    activeMirrors: 0,
  };
  return { ctx, clock, dialer };
}

function compile(config: ProxyConfig, random: Random, clock: Clock, dial: Dialer): ProxyContext["runtime"] {
  const routeTables = new Map<string, RouteTable>();
  for (const rc of config.routes) routeTables.set(rc.name, new RouteTable(rc));
  return { config, routeTables, clusters: new ClusterManager(config, random, clock, undefined, dial), httpFilters: buildChains(config) };
}

/** An EDS cluster with Istio's defaults (LEAST_REQUEST, unlimited pool, 10 s connect timeout). */
export function testCluster(name: string, pool: Partial<ConnectionPoolConfig> = {}, extra: Partial<Cluster> = {}): Cluster {
  return { name, direction: "outbound", discovery: "eds", protocol: "http1", lb: { policy: "LEAST_REQUEST" }, connectionPool: { ...DEFAULT_CONNECTION_POOL, ...pool }, ...extra };
}

export function testEndpoint(address: string, port = 9080, labels: Record<string, string> = {}): Endpoint {
  return { address, port, weight: 1, labels, healthy: true };
}

export function emptyConfig(extra: Partial<ProxyConfig> = {}): ProxyConfig {
  return { version: "test", node: { id: "sidecar~test.default", kind: "sidecar", workload: "test", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" }, listeners: [], routes: [], clusters: [], endpoints: {}, ...extra };
}
