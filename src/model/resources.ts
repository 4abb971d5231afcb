// A ProxyConfig as named, typed resources, the unit of delta push (Envoy's delta xDS): listeners,
// route configurations, clusters and endpoints by name, the CA's material as `secret` resources,
// and the remaining top-level fields (node, telemetry, overload…) as `bootstrap` resources. The
// virtual hosts of a route configuration are resources of their own (`virtual_host`, named
// `<route configuration>/<virtual host>`, as Envoy's VHDS): the `outbound` route configuration
// holds one virtual host per service, so a changed VirtualService is one virtual host to send, not
// the whole table; the `route` resource keeps the order of its virtual hosts by name. Both
// ends use it: the control plane splits a translated config into resources to diff them
// (src/control-plane/push/delta.ts), the sidecar folds the resources it received back into one
// ProxyConfig (src/proxy/control/resource-state.ts). Pure: no node:* imports.
import type { ProxyConfig, RouteConfiguration, VirtualHost } from "./proxy-config.ts";

export type ResourceType = "listener" | "route" | "virtual_host" | "cluster" | "endpoints" | "secret" | "bootstrap";

/** Every type, in the order a sidecar is told about them (Envoy's: CDS, EDS, LDS, RDS, VHDS; then the rest). */
export const RESOURCE_TYPES: readonly ResourceType[] = ["cluster", "endpoints", "listener", "route", "virtual_host", "secret", "bootstrap"];

/** A route configuration as a `route` resource: its virtual hosts by name, in order (they travel as `virtual_host` resources). */
export type RouteHeader = Omit<RouteConfiguration, "virtualHosts"> & { virtualHostNames: string[] };

const headers = new WeakMap<RouteConfiguration, RouteHeader>();

/** The `route` resource of a route configuration; the same object for the same configuration (its version is computed once). */
export function routeHeader(rc: RouteConfiguration): RouteHeader {
  let h = headers.get(rc);
  if (h === undefined) {
    const { virtualHosts, ...rest } = rc;
    h = { ...rest, virtualHostNames: virtualHosts.map((vh) => vh.name) };
    headers.set(rc, h);
  }
  return h;
}

/** The `virtual_host` resource name of a virtual host of route configuration `rc`. */
export function virtualHostName(rc: string, vh: string): string {
  return `${rc}/${vh}`;
}

/** Top-level ProxyConfig fields carried as `secret` resources (named by the field). */
export const SECRET_FIELDS: readonly string[] = ["trustBundle", "signingRoot", "revocations"];

/** Fields that are not resources of their own: the collections, and the version (per message). */
const COLLECTIONS = new Set(["version", "listeners", "routes", "clusters", "endpoints"]);
const SECRETS = new Set(SECRET_FIELDS);

/** A visitor over a config's resources of one type, in the config's order: `(name, resource)`. */
export type ResourceVisitor = (name: string, resource: unknown) => void;

/** Call `visit` for each resource of `type` in `config` (fields left undefined are no resource). */
export function forEachResource(config: ProxyConfig, type: ResourceType, visit: ResourceVisitor): void {
  switch (type) {
    case "listener":
      for (const l of config.listeners) visit(l.name, l);
      return;
    case "route":
      for (const r of config.routes) visit(r.name, routeHeader(r));
      return;
    case "virtual_host":
      for (const r of config.routes) for (const vh of r.virtualHosts) visit(virtualHostName(r.name, vh.name), vh);
      return;
    case "cluster":
      for (const c of config.clusters) visit(c.name, c);
      return;
    case "endpoints":
      for (const name of Object.keys(config.endpoints)) visit(name, config.endpoints[name]);
      return;
    case "secret":
    case "bootstrap": {
      const fields = config as unknown as Record<string, unknown>;
      for (const k of Object.keys(fields)) {
        if (COLLECTIONS.has(k) || fields[k] === undefined || SECRETS.has(k) !== (type === "secret")) continue;
        visit(k, fields[k]);
      }
    }
  }
}

/**
 * The ProxyConfig made of these resources (per type: name → resource), sorted by name as
 * translation sorts them, so the sidecar's config equals the control plane's. Throws when a route
 * configuration names a virtual host it does not have. Not checked otherwise: the sidecar's
 * `checkProxyConfig` judges it as it judges any config.
 */
export function assembleConfig(version: string, resources: ReadonlyMap<ResourceType, ReadonlyMap<string, unknown>>): ProxyConfig {
  // The names in the default order (UTF-16 code units, as translation's `<`): no comparator called
  // from JavaScript for the 1,000-service config's 3,016 clusters and 3,015 endpoint lists.
  const sorted = (type: ResourceType): [string, unknown][] => {
    const m = resources.get(type);
    return m === undefined ? [] : [...m.keys()].sort().map((name) => [name, m.get(name)]);
  };
  const config: Record<string, unknown> = {};
  config.version = version;
  for (const [k, v] of sorted("bootstrap")) config[k] = v;
  config.listeners = sorted("listener").map(([, v]) => v);
  const vhosts = resources.get("virtual_host") ?? new Map<string, unknown>();
  config.routes = sorted("route").map(([name, v]) => {
    const { virtualHostNames, ...rest } = v as RouteHeader;
    const virtualHosts = (Array.isArray(virtualHostNames) ? virtualHostNames : []).map((vh) => {
      const host = vhosts.get(virtualHostName(name, vh));
      if (host === undefined) throw new Error(`route ${JSON.stringify(name)}: virtual host ${JSON.stringify(vh)} was not received`);
      return host as VirtualHost;
    });
    return { ...rest, virtualHosts };
  });
  config.clusters = sorted("cluster").map(([, v]) => v);
  config.endpoints = Object.fromEntries(sorted("endpoints"));
  for (const [k, v] of sorted("secret")) config[k] = v;
  return config as unknown as ProxyConfig;
}
