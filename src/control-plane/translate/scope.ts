// ProxyScope: what one proxy can see of the snapshot — services exported to its namespace (and
// allowed by its Sidecar's egress hosts), the VirtualServices that apply to it, and the
// DestinationRule for a host (Istio's lookup order: proxy namespace, service namespace, root).
import type { ConfigEntry, Snapshot } from "../../model/snapshot.ts";
import { resolveHost } from "../../model/snapshot.ts";
import { labelsMatch, type Service } from "../../model/registry.ts";
import type { DestinationRuleSpec, SidecarSpec, VirtualServiceSpec } from "../../model/specs/networking.ts";
import { arr, exportedTo, hostMatches, hostSpecificity, obj, str, strMap, type ProxyInput } from "./common.ts";
import { destinationRulesCovering } from "./index-cache.ts";

export interface ProxyScope {
  snapshot: Snapshot;
  node: ProxyInput;
  sidecar?: ConfigEntry<SidecarSpec>;
  /** Visible services, sorted by host. */
  services: Service[];
  /** The VirtualServices visible to this proxy (exportTo), any gateway binding. */
  virtualServices: ConfigEntry<VirtualServiceSpec>[];
  outboundTrafficPolicy: "ALLOW_ANY" | "REGISTRY_ONLY";
  serviceFor(host: string): Service | undefined;
  destinationRuleFor(host: string): ConfigEntry<DestinationRuleSpec> | undefined;
}

export function buildScope(snapshot: Snapshot, node: ProxyInput): ProxyScope {
  const proxyNs = node.namespace || "default";
  const sidecar = node.kind === "sidecar" ? findSidecar(snapshot, node) : undefined;
  const egressHosts = sidecar ? arr(sidecar.spec.egress).flatMap((e) => arr(obj(e)?.hosts).filter((h): h is string => typeof h === "string")) : undefined;
  const egressAllows = (ns: string, host: string): boolean => {
    if (!egressHosts || egressHosts.length === 0) return true;
    return egressHosts.some((entry) => {
      const slash = entry.indexOf("/");
      const nsPart = slash < 0 ? "*" : entry.slice(0, slash);
      const hostPart = slash < 0 ? entry : entry.slice(slash + 1);
      const nsOk = nsPart === "*" || nsPart === ns || (nsPart === "." && ns === proxyNs);
      return nsOk && hostMatches(hostPart, host);
    });
  };

  // Same host from several namespaces (ServiceEntries): the proxy's own namespace wins, then the first.
  const byHost = new Map<string, Service>();
  for (const s of snapshot.services) {
    if (!exportedTo(s.exportTo, s.namespace, proxyNs) || !egressAllows(s.namespace, s.host)) continue;
    const prev = byHost.get(s.host);
    if (!prev || (prev.namespace !== proxyNs && s.namespace === proxyNs)) byHost.set(s.host, s);
  }
  const services = [...byHost.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));

  const virtualServices = snapshot.virtualServices.filter((vs) => {
    if (!exportedTo(vs.spec.exportTo, vs.namespace, proxyNs)) return false;
    const hosts = arr(vs.spec.hosts).filter((h): h is string => typeof h === "string");
    // Delegates (no hosts) are reached through their root; keep them for lookup.
    if (hosts.length === 0) return true;
    return hosts.some((h) => egressAllows(vs.namespace, resolveHost(h, vs.namespace, snapshot.mesh.domainSuffix)));
  });

  const drCache = new Map<string, ConfigEntry<DestinationRuleSpec> | undefined>();
  const destinationRuleFor = (host: string): ConfigEntry<DestinationRuleSpec> | undefined => {
    if (drCache.has(host)) return drCache.get(host);
    const svcNs = byHost.get(host)?.namespace;
    const order = [proxyNs, ...(svcNs && svcNs !== proxyNs ? [svcNs] : []), snapshot.mesh.rootNamespace];
    let found: ConfigEntry<DestinationRuleSpec> | undefined;
    for (const ns of order) {
      const candidates = destinationRulesCovering(snapshot, ns, host).map((at) => snapshot.destinationRules[at]!).filter((dr) => {
        if (!exportedTo(dr.spec.exportTo, dr.namespace, proxyNs)) return false;
        const sel = strMap(obj(dr.spec.workloadSelector)?.matchLabels);
        // A DR with a workloadSelector applies only to the selected workloads of its own namespace.
        return !sel || (dr.namespace === proxyNs && labelsMatch(sel, node.labels));
      });
      if (candidates.length === 0) continue;
      candidates.sort((a, b) => {
        const sa = obj(a.spec.workloadSelector) ? 1 : 0;
        const sb = obj(b.spec.workloadSelector) ? 1 : 0;
        if (sa !== sb) return sb - sa;
        return hostSpecificity(resolveHost(str(b.spec.host) ?? "", b.namespace, snapshot.mesh.domainSuffix)) -
          hostSpecificity(resolveHost(str(a.spec.host) ?? "", a.namespace, snapshot.mesh.domainSuffix));
      });
      found = candidates[0];
      break;
    }
    drCache.set(host, found);
    return found;
  };

  const mode = sidecar?.spec.outboundTrafficPolicy?.mode;
  return {
    snapshot,
    node,
    ...(sidecar ? { sidecar } : {}),
    services,
    virtualServices,
    outboundTrafficPolicy: mode === "REGISTRY_ONLY" || mode === "ALLOW_ANY" ? mode : snapshot.mesh.outboundTrafficPolicy,
    serviceFor: (host) => byHost.get(host),
    destinationRuleFor,
  };
}

/** Istio's Sidecar selection: a selecting Sidecar in the proxy's namespace, else its namespace default, else the root namespace default. */
function findSidecar(snapshot: Snapshot, node: ProxyInput): ConfigEntry<SidecarSpec> | undefined {
  const ns = node.namespace || "default";
  const inNs = snapshot.sidecars.filter((s) => s.namespace === ns);
  const selecting = inNs.find((s) => {
    const sel = strMap(obj(s.spec.workloadSelector)?.labels);
    return sel !== undefined && labelsMatch(sel, node.labels);
  });
  if (selecting) return selecting;
  const nsDefault = inNs.find((s) => !obj(s.spec.workloadSelector));
  if (nsDefault) return nsDefault;
  return snapshot.sidecars.find((s) => s.namespace === snapshot.mesh.rootNamespace && !obj(s.spec.workloadSelector));
}
