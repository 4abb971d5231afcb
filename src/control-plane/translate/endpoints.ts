// Endpoints (EDS) of one outbound cluster: the instances of the service whose labels carry the
// subset's labels, at the port they expose for the service port. Not-ready instances stay, with
// healthy:false, so the proxy can still report them and panic-route as Envoy does.
import { TLS_MODE_LABEL, type Endpoint } from "../../model/proxy-config.ts";
import { endpointPort, labelsMatch, workloadOf, type Service, type ServicePort, type WorkloadInstance } from "../../model/registry.ts";
import { cmp, spiffeId } from "./common.ts";

export function serviceEndpoints(
  service: Service,
  port: ServicePort,
  subsetLabels: Readonly<Record<string, string>> | undefined,
  /** The service's instances (`instancesOf`, src/model/registry.ts). */
  backing: readonly WorkloadInstance[],
  trustDomain: string,
): Endpoint[] {
  const out: Endpoint[] = [];
  for (const inst of backing) {
    if (!inst.address || !labelsMatch(subsetLabels, inst.labels)) continue;
    const p = endpointPort(inst, port);
    if (p === undefined || p <= 0) continue;
    const e: Endpoint = {
      address: inst.address,
      port: p,
      weight: inst.weight && inst.weight > 0 ? inst.weight : 1,
      labels: endpointLabels(inst),
      healthy: inst.ready,
      workload: workloadOf(inst),
    };
    if (inst.serviceAccount) e.serviceAccount = spiffeId(trustDomain, inst.namespace, inst.serviceAccount);
    if (inst.locality) e.locality = inst.locality;
    out.push(e);
  }
  // A DNS ServiceEntry without endpoints resolves its own host (Envoy STRICT_DNS on the host).
  if (backing.length === 0 && !service.endpoints && !service.selector && (service.resolution === "DNS" || service.resolution === "DNS_ROUND_ROBIN") && !service.host.startsWith("*")) {
    out.push({ address: service.host, port: typeof port.targetPort === "number" ? port.targetPort : port.port, weight: 1, labels: {}, healthy: true });
  }
  return out.sort((a, b) => cmp(a.address, b.address) || a.port - b.port || cmp(a.workload ?? "", b.workload ?? ""));
}

/** SPIFFE identities a client should expect from a service: its instances' accounts plus declared SANs. */
export function serviceIdentities(service: Service, backing: readonly WorkloadInstance[], trustDomain: string): string[] {
  const ids = new Set<string>(service.subjectAltNames);
  for (const inst of backing) if (inst.serviceAccount) ids.add(spiffeId(trustDomain, inst.namespace, inst.serviceAccount));
  return [...ids].sort(cmp);
}

/**
 * The instance's labels, plus Istio's `security.istio.io/tlsMode: istio` when it runs a sidecar
 * (as Istio labels the endpoints of injected pods); an explicit label on the instance wins.
 */
export function endpointLabels(inst: WorkloadInstance): Record<string, string> {
  const labels = { ...inst.labels };
  if (inst.sidecar === true && labels[TLS_MODE_LABEL] === undefined) labels[TLS_MODE_LABEL] = "istio";
  return labels;
}
