// Builders for hand-made RouteConfigurations in the router's tests (and explain's). Only tests
// import this file.

import type { ForwardAction, Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, WeightedCluster } from "../../model/proxy-config.ts";
import { DEFAULT_RETRY_POLICY, clusterKey } from "../../model/proxy-config.ts";

export function match(partial: Partial<RouteMatch> = {}): RouteMatch {
  return { headers: [], queryParams: [], ignoreUriCase: false, ...partial };
}

export function forward(clusters: (string | WeightedCluster)[], extra: Partial<ForwardAction> = {}): ForwardAction {
  return {
    kind: "forward",
    clusters: clusters.map((c) => (typeof c === "string" ? { cluster: c, weight: 100 } : c)),
    timeoutMs: 0,
    retry: { ...DEFAULT_RETRY_POLICY },
    mirrors: [],
    ...extra,
  };
}

export function route(name: string, m: Partial<RouteMatch>, action: RouteAction = forward([name])): Route {
  return { name, match: match(m), action, origin: { resource: "test", ruleIndex: -1, matchIndex: -1 } };
}

export function vhost(name: string, domains: string[], routes: Route[]): VirtualHost {
  return { name, domains, routes };
}

export function routeConfig(virtualHosts: VirtualHost[]): RouteConfiguration {
  return { name: "test", virtualHosts };
}

/** The domains Istio lists for a Kubernetes service seen from the same namespace. */
export function serviceDomains(name: string, namespace: string, port: number): string[] {
  const fqdn = `${name}.${namespace}.svc.cluster.local`;
  const names = [fqdn, name, `${name}.${namespace}`, `${name}.${namespace}.svc`];
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

export function subsetCluster(name: string, subset: string, port = 9080): string {
  return clusterKey("outbound", port, subset, `${name}.default.svc.cluster.local`);
}

/** Bookinfo virtual-service-reviews-test-v2.yaml: end-user jason → v2, everyone else → v1. */
export function reviewsTestV2(): RouteConfiguration {
  return routeConfig([
    vhost("reviews.default.svc.cluster.local:9080", serviceDomains("reviews", "default", 9080), [
      route("reviews.jason", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] }, forward([subsetCluster("reviews", "v2")])),
      route("reviews.default", {}, forward([subsetCluster("reviews", "v1")])),
    ]),
  ]);
}

/** Bookinfo virtual-service-ratings-test-abort.yaml: end-user jason → abort 500 at 100%, else v1. */
export function ratingsTestAbort(): RouteConfiguration {
  return routeConfig([
    vhost("ratings.default.svc.cluster.local:9080", serviceDomains("ratings", "default", 9080), [
      route(
        "ratings.jason",
        { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }] },
        forward([subsetCluster("ratings", "v1")], { fault: { abort: { httpStatus: 500, percentage: 100 } } }),
      ),
      route("ratings.default", {}, forward([subsetCluster("ratings", "v1")])),
    ]),
  ]);
}
