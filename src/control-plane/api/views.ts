// What the API and the dashboard show of the control plane's state (`amime get`, `amime
// proxy-status`): read-only views of the config store, the change log and the push state.
import type { Clock } from "../../core/clock.ts";
import { resourceId } from "../../model/resource.ts";
import type { ProxyStatus, ResourceList } from "../../model/wire.ts";
import { syncState, type ProxyState } from "../push/proxy-state.ts";
import { parseNodeId, type InstanceRegistry } from "../registry/instance-registry.ts";
import type { ChangeLog } from "../store/change-log.ts";
import { withVersions, type ConfigStore } from "../store/config-store.ts";

export interface ResourceFilter {
  kind?: string;
  namespace?: string;
  name?: string;
}

/** The stored resources that pass `filter`; those applied through the API say who last changed them. */
export function resourceList(store: ConfigStore, changes: ChangeLog, filter: ResourceFilter): ResourceList {
  const items = store.entries()
    .filter(({ resource: r }) => (!filter.kind || r.kind.toLowerCase() === filter.kind.toLowerCase()) &&
      (!filter.namespace || (r.metadata.namespace || "default") === filter.namespace) && (!filter.name || r.metadata.name === filter.name))
    .map(({ resource: r, origin, resourceVersion, generation }) => ({
      apiVersion: r.apiVersion, kind: r.kind, namespace: r.metadata.namespace || "default", name: r.metadata.name,
      body: withVersions(origin === "apply" ? changes.annotate(resourceId(r), r.body) : r.body, resourceVersion, generation),
      source: { file: r.source.file, line: r.source.line }, origin,
    }));
  return { items };
}

/** Every proxy the push knows: what it was sent, what it ACKed, when it was last heard of. */
export function proxyStatuses(states: readonly ProxyState[], registry: InstanceRegistry, clock: Clock): ProxyStatus[] {
  const now = clock.now();
  const wall = clock.wallNow();
  return states.map((s) => {
    const reg = registry.forNode(s.node);
    const parsed = parseNodeId(s.node);
    return {
      node: s.node,
      workload: reg?.node.workload ?? parsed.name,
      namespace: reg?.instance.namespace ?? parsed.namespace,
      connected: s.connected,
      sentVersion: s.sentVersion,
      ackedVersion: s.ackedVersion,
      state: syncState(s),
      ...(s.nackError !== null ? { error: s.nackError } : {}),
      lastSeen: new Date(wall - (now - s.lastSeen)).toISOString(),
      ...(s.delta ? { types: Object.fromEntries([...s.types].map(([t, v]) => [t, { ...v }])) } : {}),
    };
  });
}
