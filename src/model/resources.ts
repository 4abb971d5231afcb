// A ProxyConfig as named, typed resources, the unit of delta push (Envoy's delta xDS): listeners,
// route configurations, clusters and endpoints by name, the CA's material as `secret` resources,
// and the remaining top-level fields (node, telemetry, overload…) as `bootstrap` resources. Both
// ends use it: the control plane splits a translated config into resources to diff them
// (src/control-plane/push/delta.ts), the sidecar folds the resources it received back into one
// ProxyConfig (src/proxy/control/resource-state.ts). Pure: no node:* imports.
import type { ProxyConfig } from "./proxy-config.ts";

export type ResourceType = "listener" | "route" | "cluster" | "endpoints" | "secret" | "bootstrap";

/** Every type, in the order a sidecar is told about them (Envoy's: CDS, EDS, LDS, RDS; then the rest). */
export const RESOURCE_TYPES: readonly ResourceType[] = ["cluster", "endpoints", "listener", "route", "secret", "bootstrap"];

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
      for (const r of config.routes) visit(r.name, r);
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

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The ProxyConfig made of these resources (per type: name → resource), sorted by name as
 * translation sorts them, so the sidecar's config equals the control plane's. Not checked here:
 * the sidecar's `checkProxyConfig` judges it as it judges any config.
 */
export function assembleConfig(version: string, resources: ReadonlyMap<ResourceType, ReadonlyMap<string, unknown>>): ProxyConfig {
  const sorted = (type: ResourceType): [string, unknown][] => [...(resources.get(type) ?? new Map<string, unknown>())].sort((a, b) => byName(a[0], b[0]));
  const config: Record<string, unknown> = {};
  config.version = version;
  for (const [k, v] of sorted("bootstrap")) config[k] = v;
  config.listeners = sorted("listener").map(([, v]) => v);
  config.routes = sorted("route").map(([, v]) => v);
  config.clusters = sorted("cluster").map(([, v]) => v);
  config.endpoints = Object.fromEntries(sorted("endpoints"));
  for (const [k, v] of sorted("secret")) config[k] = v;
  return config as unknown as ProxyConfig;
}
