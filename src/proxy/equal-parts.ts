// Equal small parts of a checked config made one object (issue 15). A config of 1,000 services
// repeats a few values thousands of times: every cluster's connection pool and load-balancer
// settings (3,016 equal objects each), the three clusters of a service their ServiceRef, the clusters
// of a namespace their SAN list, every route of a translated VirtualService its retry policy (2,007),
// mirror list and match, each subset's endpoints their labels. Sharing them took the 1,000-service
// sidecar's heap after a collection from 13.7 to 12.1 MB (docs/performance.md, "Session 8").
//
// Only parts nothing writes after the config check (which completes them first), keyed by their JSON
// (small objects: the key is short-lived), so values and key order are exactly as they were.
import type { ProxyConfig } from "../model/proxy-config.ts";

export function shareEqualParts(config: ProxyConfig): void {
  const held = new Map<string, unknown>();
  const one = <T>(v: T): T => {
    if (typeof v !== "object" || v === null) return v;
    const key = JSON.stringify(v);
    const h = held.get(key);
    if (h !== undefined) return h as T;
    held.set(key, v);
    return v;
  };
  for (const cl of config.clusters) {
    cl.connectionPool = one(cl.connectionPool);
    cl.lb = one(cl.lb);
    if (cl.service !== undefined) cl.service = one(cl.service);
    if (cl.tls !== undefined) cl.tls.subjectAltNames = one(cl.tls.subjectAltNames);
  }
  for (const eps of Object.values(config.endpoints)) for (const e of eps) e.labels = one(e.labels);
  for (const rc of config.routes) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes) {
        r.match = one(r.match);
        if (r.action.kind !== "forward") continue;
        r.action.retry = one(r.action.retry);
        r.action.mirrors = one(r.action.mirrors);
      }
    }
  }
}
