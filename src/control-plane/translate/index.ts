// Translate: the third stage of the control plane (ingest → snapshot → TRANSLATE → push). A pure
// function from the immutable mesh snapshot and one proxy's identity to that proxy's whole
// config: listeners, route configurations, clusters and endpoints. Deterministic (sorted output),
// never mutates the snapshot, never throws on valid config. See docs/translation.md.
import type { Cluster, NodeInfo, ProxyConfig } from "../../model/proxy-config.ts";
import type { Snapshot } from "../../model/snapshot.ts";
import { outboundClusters } from "./clusters.ts";
import { cmp, type ProxyInput } from "./common.ts";
import { gatewayListeners, inbound, outboundListener, ownInstance } from "./listeners.ts";
import { buildScope } from "./scope.ts";
import { telemetryConfig } from "./telemetry.ts";
import { gatewayTcpListeners, outboundTcpListeners } from "./tcp-listeners.ts";
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
  const scope = buildScope(snapshot, { ...proxy, ...node });
  const out = outboundClusters(scope);
  const config: ProxyConfig = { version: snapshot.version, node, listeners: [], routes: [], clusters: out.clusters, endpoints: out.endpoints };
  if (node.kind === "gateway") {
    const servers = gatewayServers(scope);
    config.listeners.push(...gatewayListeners(servers, ownInstance(scope)));
    config.routes.push(...gatewayRouteConfigurations(scope, servers));
    // TCP gateway servers (docs/protocols.md).
    config.listeners.push(...gatewayTcpListeners(scope, ownInstance(scope), new Set(config.listeners.map((l) => `${l.address}:${l.port}`))));
  } else {
    config.listeners.push(outboundListener(proxy));
    config.routes.push(outboundRouteConfiguration(scope));
    const inb = inbound(scope);
    config.listeners.push(...inb.listeners);
    config.clusters.push(...inb.clusters);
    Object.assign(config.endpoints, inb.endpoints);
    config.routes.push(inb.route);
    // One local TCP listener per TCP service port (docs/protocols.md); HTTP and inbound listeners keep their ports.
    config.listeners.push(...outboundTcpListeners(scope, config.clusters, new Set(config.listeners.map((l) => `${l.address}:${l.port}`))));
  }
  config.telemetry = telemetryConfig(snapshot, proxy);
  config.listeners.sort((a, b) => cmp(a.name, b.name));
  config.routes.sort((a, b) => cmp(a.name, b.name));
  config.clusters = dedupeClusters(config.clusters);
  config.endpoints = Object.fromEntries(Object.keys(config.endpoints).sort(cmp).map((k) => [k, config.endpoints[k]!]));
  return config;
}

/** Cluster names are unique in a config; the first (sorted) wins if two sources produce one. */
function dedupeClusters(list: Cluster[]): Cluster[] {
  const seen = new Set<string>();
  return [...list].sort((a, b) => cmp(a.name, b.name)).filter((c) => (seen.has(c.name) ? false : (seen.add(c.name), true)));
}
