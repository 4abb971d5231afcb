// Which resources of a translated config are shared with other proxies. Translation builds the
// outbound clusters, endpoints and the `outbound` route configuration once per proxy class
// (control-plane/translate/proxy-class.ts) and merges them with each proxy's own (inbound) ones;
// it records the split here, keyed by the config's collections (the arrays and record survive a
// `{ ...config }` copy, the config object does not). The push diffs the shared part once per class
// and only the small own part per proxy (control-plane/push/delta.ts). A collection without a
// record is diffed whole, as before. Pure: no node:* imports.
import type { Cluster, Endpoint, RouteConfiguration } from "./proxy-config.ts";

/** A collection as its class-shared part and the proxy's own part (the collection is their union). */
export interface SharedSplit<T> {
  shared: T;
  own: T;
}

export type EndpointMap = Record<string, Endpoint[]>;

const clusterSplits = new WeakMap<readonly Cluster[], SharedSplit<readonly Cluster[]>>();
const endpointSplits = new WeakMap<EndpointMap, SharedSplit<EndpointMap>>();
const routeSplits = new WeakMap<readonly RouteConfiguration[], RouteConfiguration>();

/** `clusters` (sorted by name) is `split.shared` and `split.own` merged. */
export function markSharedClusters(clusters: readonly Cluster[], split: SharedSplit<readonly Cluster[]>): void {
  clusterSplits.set(clusters, split);
}

/** `endpoints` holds the keys of `split.shared` and of `split.own`. */
export function markSharedEndpoints(endpoints: EndpointMap, split: SharedSplit<EndpointMap>): void {
  endpointSplits.set(endpoints, split);
}

/** `routes` holds `shared` (the very object), whose virtual hosts are shared with the class. */
export function markSharedRoute(routes: readonly RouteConfiguration[], shared: RouteConfiguration): void {
  routeSplits.set(routes, shared);
}

export function sharedClusters(clusters: readonly Cluster[]): SharedSplit<readonly Cluster[]> | undefined {
  return clusterSplits.get(clusters);
}

export function sharedEndpoints(endpoints: EndpointMap): SharedSplit<EndpointMap> | undefined {
  return endpointSplits.get(endpoints);
}

export function sharedRoute(routes: readonly RouteConfiguration[]): RouteConfiguration | undefined {
  return routeSplits.get(routes);
}
