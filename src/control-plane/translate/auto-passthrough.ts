// Gateway servers with `protocol: TLS` and `tls.mode: AUTO_PASSTHROUGH` (Istio's east-west gateway
// for multi-network meshes): a TCP listener that reads the ClientHello's SNI, which a sidecar's
// mTLS sets to `outbound_.<port>_.<subset>_.<host>` (docs/security.md), and forwards the bytes
// untouched to that service's endpoints — no VirtualService, no TLS termination: the mutual TLS
// stays end to end between the two sidecars. As Istio, each such SNI has an "SNI-DNAT" cluster
// of that name: the outbound cluster's endpoints and policies, carrying TCP without TLS of its own.
import type { Cluster, Endpoint, Listener, SniRoute } from "../../model/proxy-config.ts";
import { labelsMatch, type WorkloadInstance } from "../../model/registry.ts";
import { arr, hostMatches, num, obj, str, strMap } from "./common.ts";
import type { ProxyScope } from "./scope.ts";

export interface AutoPassthroughSet {
  listeners: Listener[];
  clusters: Cluster[];
  endpoints: Record<string, Endpoint[]>;
}

/** Istio's SNI for a mesh mTLS connection to a cluster: `outbound_.9080_.v1_.reviews.default.svc.cluster.local`. */
export function meshSni(port: number, subset: string, host: string): string {
  return `outbound_.${port}_.${subset}_.${host}`;
}

/**
 * The AUTO_PASSTHROUGH listeners of a gateway, with the SNI-DNAT clusters they route to, made from
 * the proxy's outbound clusters (`shared`) whose service host one of the server's hosts covers.
 * Ports the gateway instance maps bind as mapped (gatewayListeners); a port already `taken` is left.
 */
export function autoPassthrough(scope: ProxyScope, own: WorkloadInstance | undefined, taken: Set<string>, shared: { clusters: readonly Cluster[]; endpoints: Readonly<Record<string, Endpoint[]>> }): AutoPassthroughSet {
  const out: AutoPassthroughSet = { listeners: [], clusters: [], endpoints: {} };
  for (const gw of scope.snapshot.gateways) {
    if (!labelsMatch(strMap(gw.spec.selector) ?? {}, scope.node.labels)) continue;
    for (const server of arr(gw.spec.servers)) {
      const s = obj(server);
      const port = num(obj(s?.port)?.number);
      if (!s || !port || (str(obj(s.port)?.protocol) ?? "").toUpperCase() !== "TLS" || str(obj(s.tls)?.mode) !== "AUTO_PASSTHROUGH") continue;
      const hosts = arr(s.hosts).filter((h): h is string => typeof h === "string").map((h) => (h.includes("/") ? h.slice(h.indexOf("/") + 1) : h));
      const bind = str(s.bind) ?? "0.0.0.0";
      const name = `${bind}_${port}`;
      const mapped = own?.ports?.[String(port)];
      const address = mapped !== undefined && own ? own.address : bind;
      const local = mapped ?? port;
      // Port 0 (tests: any free port) never clashes.
      if ((local !== 0 && taken.has(`${address}:${local}`)) || out.listeners.some((l) => l.name === name)) continue;
      const routes: SniRoute[] = [];
      for (const c of shared.clusters) {
        const svc = c.service;
        if (svc === undefined || c.direction !== "outbound" || c.discovery !== "eds" || !hosts.some((h) => hostMatches(h, svc.host))) continue;
        const sni = meshSni(svc.port, c.subset ?? "", svc.host);
        if (!out.endpoints[sni]) {
          out.clusters.push(sniDnatCluster(c, sni));
          out.endpoints[sni] = shared.endpoints[c.name] ?? [];
        }
        routes.push({ serverNames: [sni], clusters: [{ cluster: sni, weight: 100 }] });
      }
      taken.add(`${address}:${local}`);
      // No SNI, or one that names no cluster: the connection is closed (empty tcpRoute).
      out.listeners.push({ name, direction: "gateway", address, port: local, protocol: "tcp", tcpRoute: { clusters: [] }, sniRoutes: routes });
    }
  }
  return out;
}

/** The outbound cluster as a byte pipe: same endpoints, balancing and limits; TCP, no TLS (the client's passes through). */
function sniDnatCluster(c: Cluster, name: string): Cluster {
  const { tls: _tls, useClientProtocol: _ucp, healthCheck: _hc, ...rest } = c;
  return { ...rest, name, protocol: "tcp" };
}
