// Services and instances derived from resources while building a snapshot: Kubernetes v1
// Service, ServiceEntry (one service per host) and WorkloadEntry (one instance).
import { isObject, type Json, type Resource } from "./resource.ts";
import type { ServiceEntrySpec, WorkloadEntrySpec } from "./specs/networking.ts";
import { portProtocol } from "./specs/kubernetes.ts";
import type { Location, Resolution, Service, ServicePort, WorkloadInstance } from "./registry.ts";
import type { ConfigEntry } from "./config-entry.ts";

const EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo";

/** A v1 Service → Service; undefined when it has no usable port. UDP ports are skipped, as Istio does. */
export function serviceFromKubernetes(r: Resource, namespace: string, domainSuffix: string): Service | undefined {
  const spec = isObject(r.body.spec) ? r.body.spec : {};
  const ports: ServicePort[] = [];
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!isObject(p) || typeof p.port !== "number") continue;
    if (typeof p.protocol === "string" && p.protocol.toUpperCase() === "UDP") continue;
    const name = typeof p.name === "string" ? p.name : "";
    const appProtocol = typeof p.appProtocol === "string" ? p.appProtocol : undefined;
    const targetPort = typeof p.targetPort === "number" || (typeof p.targetPort === "string" && p.targetPort !== "") ? p.targetPort : p.port;
    ports.push({ name, port: p.port, targetPort, protocol: protocolFromPort(name, appProtocol) });
  }
  const annotation = r.metadata.annotations?.[EXPORT_TO_ANNOTATION];
  const exportTo = typeof annotation === "string" && annotation.trim() !== "" ? annotation.split(",").map((s) => s.trim()).filter(Boolean) : ["*"];
  const clusterIp = typeof spec.clusterIP === "string" && spec.clusterIP !== "None" && spec.clusterIP !== "" ? [spec.clusterIP] : [];
  return {
    host: `${r.metadata.name}.${namespace}.svc.${domainSuffix}`,
    name: r.metadata.name,
    namespace,
    origin: `Service ${namespace}/${r.metadata.name}`,
    kind: "kubernetes",
    ports: ports.sort((a, b) => a.port - b.port),
    ...(isObject(spec.selector) ? { selector: stringMap(spec.selector) } : {}),
    resolution: spec.clusterIP === "None" ? "NONE" : "STATIC",
    location: "MESH_INTERNAL",
    exportTo,
    addresses: clusterIp,
    subjectAltNames: [],
    ...amimeAnnotations(r.metadata.annotations),
  };
}

/**
 * A selector-less Service's endpoints from its EndpointSlices (ports keyed by slice port name):
 * each service port takes the slice port of the same name, as Kubernetes matches them, keyed by
 * the service port's targetPort and name as instancesOf's users look ports up.
 */
export function slicedEndpoints(service: Service, sliced: readonly WorkloadInstance[]): WorkloadInstance[] {
  return sliced.map((inst) => {
    const ports: Record<string, number> = {};
    for (const p of service.ports) {
      const port = inst.ports?.[p.name];
      if (port === undefined) continue;
      ports[String(p.targetPort)] = port;
      if (p.name) ports[p.name] = port;
    }
    return { ...structuredClone(inst), ports };
  });
}

/** The `amime.dev/` annotations, when there are any. */
function amimeAnnotations(all: Record<string, string> | undefined): { annotations?: Record<string, string> } {
  const own = Object.entries(all ?? {}).filter(([k, v]) => k.startsWith("amime.dev/") && typeof v === "string");
  return own.length > 0 ? { annotations: Object.fromEntries(own) } : {};
}

/** A ServiceEntry → one Service per host, sharing ports, endpoints and selection. */
export function servicesFromServiceEntry(se: ConfigEntry<ServiceEntrySpec>, domainSuffix: string): Service[] {
  const spec = se.spec;
  const ports: ServicePort[] = [];
  for (const p of arr(spec.ports)) {
    if (!isObject(p as Json) || typeof p.number !== "number") continue;
    ports.push({ name: p.name ?? "", port: p.number, targetPort: p.targetPort ?? p.number, protocol: (p.protocol ?? "").toLowerCase() });
  }
  ports.sort((a, b) => a.port - b.port);
  const resolution: Resolution = spec.resolution === "DNS" || spec.resolution === "DNS_ROUND_ROBIN" || spec.resolution === "STATIC" ? spec.resolution : "NONE";
  const location: Location = spec.location === "MESH_INTERNAL" ? "MESH_INTERNAL" : "MESH_EXTERNAL";
  const endpoints = arr(spec.endpoints).filter((e) => isObject(e as Json)).map((e, i) => seEndpoint(se, e, i));
  const selector = isObject(spec.workloadSelector as Json) && isObject(spec.workloadSelector?.labels as Json) ? stringMap(spec.workloadSelector!.labels as Json) : undefined;
  const out: Service[] = [];
  for (const host of arr(spec.hosts)) {
    if (typeof host !== "string" || host === "") continue;
    // A short ServiceEntry host is a Kubernetes-style name in the entry's namespace, as in Istio.
    const fqdn = host.includes(".") || host.startsWith("*") ? host : `${host}.${se.namespace}.svc.${domainSuffix}`;
    out.push({
      host: fqdn,
      name: host,
      namespace: se.namespace,
      origin: se.id,
      kind: "service-entry",
      ports: ports.map((p) => ({ ...p })),
      ...(selector ? { selector } : endpoints.length > 0 ? { endpoints: endpoints.map((e) => structuredClone(e)) } : {}),
      resolution,
      location,
      exportTo: arr(spec.exportTo).length > 0 ? [...arr(spec.exportTo)] : ["*"],
      addresses: [...arr(spec.addresses)],
      subjectAltNames: [...arr(spec.subjectAltNames)],
    });
  }
  return out;
}

function seEndpoint(se: ConfigEntry<ServiceEntrySpec>, e: WorkloadEntrySpec, i: number): WorkloadInstance {
  return {
    name: `${se.name}-${i}`,
    namespace: se.namespace,
    labels: stringMap((e.labels ?? {}) as Json),
    serviceAccount: e.serviceAccount ?? "",
    address: e.address ?? "",
    ...(isObject(e.ports as Json) ? { ports: numberMap(e.ports as Json) } : {}),
    ready: true,
    ...(typeof e.weight === "number" && e.weight > 0 ? { weight: e.weight } : {}),
    ...(e.locality ? { locality: e.locality } : {}),
  };
}

/** A WorkloadEntry is one instance (always ready: Istio has no readiness for it without health checks). */
export function instanceFromWorkloadEntry(we: ConfigEntry<WorkloadEntrySpec>): WorkloadInstance {
  const e = we.spec;
  return {
    name: we.name,
    namespace: we.namespace,
    labels: { ...we.labels, ...stringMap((e.labels ?? {}) as Json) },
    serviceAccount: e.serviceAccount ?? "default",
    address: e.address ?? "",
    ...(isObject(e.ports as Json) ? { ports: numberMap(e.ports as Json) } : {}),
    ready: true,
    ...(typeof e.weight === "number" && e.weight > 0 ? { weight: e.weight } : {}),
    ...(e.locality ? { locality: e.locality } : {}),
  };
}

/**
 * Istio's protocol for a Kubernetes port (appProtocol, else the name prefix), via the config
 * layer's `portProtocol`; "unknown" (Istio would sniff) is "" here.
 */
export function protocolFromPort(name: string, appProtocol?: string): string {
  const p = portProtocol({ name, ...(appProtocol ? { appProtocol } : {}) });
  return p === "unknown" ? "" : p;
}

function arr<T>(v: T[] | undefined): T[] {
  return Array.isArray(v) ? v : [];
}

function stringMap(v: Json): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

function numberMap(v: Json): Record<string, number> {
  const out: Record<string, number> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === "number") out[k] = x;
  return out;
}
