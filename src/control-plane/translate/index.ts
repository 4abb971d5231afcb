// Translate: the third stage of the control plane (ingest → snapshot → TRANSLATE → push). A pure
// function from the immutable mesh snapshot and one proxy's identity to that proxy's whole
// config: listeners, route configurations, clusters and endpoints. Deterministic (sorted output),
// never mutates the snapshot, never throws on valid config. See docs/translation.md.
import type { Cluster, Endpoint, ExtAuthzConfig, NodeInfo, ProxyConfig, RouteConfiguration } from "../../model/proxy-config.ts";
import { jsonEqual } from "../../model/json-equal.ts";
import { markSharedClusters, markSharedEndpoints, markSharedRoute } from "../../model/shared-parts.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { outboundClusters, type ClusterSet } from "./clusters.ts";
import { securityFilters } from "./authn.ts";
import { cmp, type ProxyInput } from "./common.ts";
import { gatewayListeners, httpFilters, inbound, outboundListener, ownInstance } from "./listeners.ts";
import { proxyClassKey, sharedByClass } from "./proxy-class.ts";
import { proxyRuntime } from "./proxy-runtime.ts";
import { reusedRoutes } from "./class-reuse.ts";
import { applyRateLimitKinds } from "./rate-limit/kind.ts";
import { applyRateLimits } from "./rate-limit/apply.ts";
import { buildScope, type ProxyScope } from "./scope.ts";
import { effectivePolicy, tlsConfig } from "./traffic-policy.ts";
import { telemetryConfig } from "./telemetry.ts";
import { gatewayTcpListeners, outboundTcpListeners } from "./tcp-listeners.ts";
import { autoPassthrough } from "./auto-passthrough.ts";
import { gatewayRouteConfigurations, gatewayServers, outboundRouteConfiguration } from "./virtual-hosts.ts";

export type { ProxyInput } from "./common.ts";

export function translate(snapshot: Snapshot, proxy: ProxyInput): ProxyConfig {
  const node: NodeInfo = {
    id: proxy.id,
    kind: proxy.kind,
    workload: proxy.workload,
    namespace: proxy.namespace || "default",
    labels: { ...proxy.labels },
    serviceAccount: proxy.serviceAccount,
    trustDomain: proxy.trustDomain || snapshot.mesh.trustDomain,
    ip: proxy.ip,
  };
  // The outbound part is shared by every proxy of the same class (proxy-class.ts); built once per snapshot.
  const cls = proxyClassKey(snapshot, node);
  // What the proxy can see depends on its class only (namespace, kind, selected labels): looked up once per class.
  const input: ProxyInput = { ...proxy, ...node };
  const scope: ProxyScope = { ...sharedByClass(snapshot, `scope ${cls}`, () => buildScope(snapshot, input)), node: input };
  const out = sharedByClass(snapshot, `clusters ${cls}`, () => stableClusterSet(cls, sortedClusterSet(outboundClusters(scope, cls))));
  const config: ProxyConfig = { version: snapshot.version, node, listeners: [], routes: [], clusters: [], endpoints: {} };
  const extra: ClusterSet = { clusters: [], endpoints: {} };
  let sharedRc: RouteConfiguration | undefined;
  if (node.kind === "gateway") {
    const servers = gatewayServers(scope);
    config.listeners.push(...gatewayListeners(servers, ownInstance(scope), snapshot.mesh.config));
    config.routes.push(...gatewayRouteConfigurations(scope, servers));
    // TCP gateway servers (docs/protocols.md).
    const taken = new Set(config.listeners.map((l) => `${l.address}:${l.port}`));
    config.listeners.push(...gatewayTcpListeners(scope, ownInstance(scope), taken));
    // AUTO_PASSTHROUGH servers (east-west): SNI-routed to the services' endpoints, mTLS untouched.
    const east = autoPassthrough(scope, ownInstance(scope), taken, out);
    config.listeners.push(...east.listeners);
    extra.clusters.push(...east.clusters);
    Object.assign(extra.endpoints, east.endpoints);
  } else {
    config.listeners.push(outboundListener(proxy));
    sharedRc = sharedByClass(snapshot, `routes ${cls}`, () => reusedRoutes(snapshot, cls, () => outboundRouteConfiguration(scope)));
    config.routes.push(sharedRc);
    const inb = inbound(scope);
    config.listeners.push(...inb.listeners);
    extra.clusters.push(...inb.clusters);
    Object.assign(extra.endpoints, inb.endpoints);
    config.routes.push(inb.route);
    // One local TCP listener per TCP service port (docs/protocols.md); HTTP and inbound listeners keep their ports.
    config.listeners.push(...outboundTcpListeners(scope, out.byName, new Set(config.listeners.map((l) => `${l.address}:${l.port}`))));
  }
  // RequestAuthentication: the jwt_authn filter on inbound and gateway HTTP listeners (authn.ts).
  const filters = securityFilters(snapshot, { ...proxy, ...node });
  if (filters.length > 0) {
    for (const l of config.listeners) if (l.direction !== "outbound" && l.protocol !== "tcp") l.httpFilters = [...filters, ...(l.httpFilters ?? httpFilters())];
  }
  // AuthorizationPolicy on TCP: the rbac network filter before tcp_proxy on inbound and gateway
  // listeners that carry TCP (an "auto" listener's TCP side); none without a policy (fast path).
  // CUSTOM with a gRPC provider goes first (Istio: CUSTOM, then AUDIT/DENY/ALLOW); an HTTP provider has no TCP filter, as in Istio.
  const tcpFilters = filters.filter((f) => f.name === "rbac" || (f.name === "ext_authz" && (f.config as ExtAuthzConfig).provider.protocol === "grpc"));
  if (tcpFilters.length > 0) {
    for (const l of config.listeners) if (l.direction !== "outbound" && l.protocol !== "http") l.networkFilters = [...tcpFilters, { name: "tcp_proxy" }];
  }
  // EnvoyFilters' local rate limits: local_ratelimit before router, per-route buckets (rate-limit/apply.ts).
  applyRateLimits(snapshot, { ...proxy, ...node }, config);
  // RateLimit resources (amime.dev): their local_ratelimit / ratelimit filters after those (rate-limit/kind.ts).
  applyRateLimitKinds(snapshot, { ...proxy, ...node }, config);
  // A collector's TLS comes from the DestinationRule for its host, as Istio's tracer cluster does.
  config.telemetry = telemetryConfig(snapshot, proxy, (host, port) =>
    tlsConfig(effectivePolicy(scope.destinationRuleFor(host)?.spec, "", port).tls, { port, subset: "", host, identities: [], credentialsAllowed: false }),
  );
  proxyRuntime(config, snapshot.mesh);
  config.listeners.sort((a, b) => cmp(a.name, b.name));
  config.routes.sort((a, b) => cmp(a.name, b.name));
  const merged = mergedCollections(out, sortedClusters(extra.clusters), extra.endpoints);
  config.clusters = merged.clusters;
  config.endpoints = merged.endpoints;
  if (sharedRc !== undefined && config.routes.includes(sharedRc)) markSharedRoute(config.routes, sharedRc);
  return config;
}

/** The shared outbound set, sorted once: clusters by name, endpoint names, clusters by name for lookups. */
interface SortedClusterSet {
  clusters: Cluster[];
  endpoints: Record<string, Endpoint[]>;
  endpointNames: string[];
  byName: ReadonlyMap<string, Cluster>;
}

function sortedClusterSet(set: ClusterSet): SortedClusterSet {
  const byName = new Map<string, Cluster>();
  for (const c of set.clusters) byName.set(c.name, c);
  return { clusters: sortedClusters(set.clusters), endpoints: set.endpoints, endpointNames: Object.keys(set.endpoints).sort(cmp), byName };
}

/**
 * The latest outbound set of each proxy class, across snapshots. A new set equal to it is replaced
 * by it, and equal clusters and endpoint lists of a changed set by the older objects: "unchanged"
 * is then identity for the push (no structural compare per proxy) and a proxy's merged collections
 * are reused (mergedCollections). Sound because translated objects are never mutated; bounded by
 * the number of classes.
 */
const latestSets = new Map<string, SortedClusterSet>();

function stableClusterSet(cls: string, fresh: SortedClusterSet): SortedClusterSet {
  const old = latestSets.get(cls);
  if (old === undefined) {
    latestSets.set(cls, fresh);
    return fresh;
  }
  let same = old.clusters.length === fresh.clusters.length && old.endpointNames.length === fresh.endpointNames.length;
  const clusters = fresh.clusters.map((c) => {
    const o = old.byName.get(c.name);
    if (o !== undefined && jsonEqual(o, c)) return o;
    same = false;
    return c;
  });
  const endpoints: Record<string, Endpoint[]> = {};
  for (const name of fresh.endpointNames) {
    const o = Object.hasOwn(old.endpoints, name) ? old.endpoints[name] : undefined;
    const f = fresh.endpoints[name]!;
    if (o !== undefined && jsonEqual(o, f)) endpoints[name] = o;
    else {
      endpoints[name] = f;
      same = false;
    }
  }
  // Same sizes and every new member found equal by (unique) name: the same set.
  if (same) return old;
  const set: SortedClusterSet = { clusters, endpoints, endpointNames: fresh.endpointNames, byName: new Map(clusters.map((c) => [c.name, c])) };
  latestSets.set(cls, set);
  return set;
}

interface Merged {
  clusters: Cluster[];
  endpoints: Record<string, Endpoint[]>;
}

/** Per class set: the merged collections by the proxy's own part (its content), reused while neither changes. */
const merges = new WeakMap<SortedClusterSet, Map<string, Merged>>();

function mergedCollections(out: SortedClusterSet, own: Cluster[], ownEndpoints: Record<string, Endpoint[]>): Merged {
  let byOwn = merges.get(out);
  if (byOwn === undefined) merges.set(out, (byOwn = new Map()));
  const key = JSON.stringify([own, ownEndpoints]);
  let m = byOwn.get(key);
  if (m === undefined) {
    m = { clusters: mergeClusters(out.clusters, own), endpoints: mergeEndpoints(out.endpointNames, out.endpoints, ownEndpoints) };
    // The push diffs the class-shared part once per class, the proxy's own part per proxy (model/shared-parts.ts).
    markSharedClusters(m.clusters, { shared: out.clusters, own });
    markSharedEndpoints(m.endpoints, { shared: out.endpoints, own: ownEndpoints });
    byOwn.set(key, m);
  }
  return m;
}

function sortedClusters(list: readonly Cluster[]): Cluster[] {
  return [...list].sort((a, b) => cmp(a.name, b.name));
}

/**
 * Cluster names are unique in a config; the first (sorted, shared before extra) wins if two
 * sources produce one. Both inputs are sorted (stably); this is a merge, not a re-sort of thousands.
 */
function mergeClusters(shared: readonly Cluster[], extra: readonly Cluster[]): Cluster[] {
  const out: Cluster[] = [];
  let i = 0;
  let j = 0;
  while (i < shared.length || j < extra.length) {
    const c = j >= extra.length || (i < shared.length && cmp(shared[i]!.name, extra[j]!.name) <= 0) ? shared[i++]! : extra[j++]!;
    if (out.length === 0 || out[out.length - 1]!.name !== c.name) out.push(c);
  }
  return out;
}

/** Endpoints keyed by cluster name in sorted order; `extra` (the proxy's inbound) overrides `shared` on a clash. */
function mergeEndpoints(sharedNames: readonly string[], shared: Record<string, Endpoint[]>, extra: Record<string, Endpoint[]>): Record<string, Endpoint[]> {
  const extraNames = Object.keys(extra).sort(cmp);
  const out: Record<string, Endpoint[]> = {};
  let i = 0;
  let j = 0;
  while (i < sharedNames.length || j < extraNames.length) {
    const a = sharedNames[i];
    const b = extraNames[j];
    if (b === undefined || (a !== undefined && cmp(a, b) < 0)) {
      out[a!] = shared[a!]!;
      i++;
    } else {
      if (a === b) i++;
      out[b] = extra[b]!;
      j++;
    }
  }
  return out;
}
