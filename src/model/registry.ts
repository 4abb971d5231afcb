// Registry: the services and workload instances of the mesh, as pure data. Sources (Kubernetes
// Services, ServiceEntries, WorkloadEntries, the local runtime) fill it; the snapshot builder
// merges them; translation reads it to produce clusters and endpoints.

/** Istio protocol of a port, lowercase (`http`, `http2`, `grpc`, `grpc-web`, `https`, `tls`, `tcp`, `mongo`, …); "" = not declared (Istio would sniff). */
export type PortProtocolName = string;

export interface ServicePort {
  /** Port name (Kubernetes `ports[].name`, ServiceEntry `ports[].name`); may be "". */
  name: string;
  /** The service port clients call. */
  port: number;
  /** Where instances listen: a number, or a named container port. Defaults to `port`. */
  targetPort: number | string;
  protocol: PortProtocolName;
}

export type Resolution = "STATIC" | "DNS" | "DNS_ROUND_ROBIN" | "NONE";
export type Location = "MESH_INTERNAL" | "MESH_EXTERNAL";

export interface Service {
  /** FQDN (`reviews.default.svc.cluster.local`) or a ServiceEntry host (`*.example.com` allowed). */
  host: string;
  /** Short name: the Kubernetes name, or the host for ServiceEntries. */
  name: string;
  namespace: string;
  /** Where it came from: `Service default/reviews`, `ServiceEntry default/googleapis`, or a registry id. */
  origin: string;
  kind: "kubernetes" | "service-entry" | "registry";
  ports: ServicePort[];
  /**
   * Labels selecting instances in the service's namespace. Absent: the service selects no
   * instances by label (ServiceEntry with inline endpoints, DNS, or a selector-less Service).
   */
  selector?: Record<string, string>;
  /** Instances owned by this service alone (ServiceEntry inline endpoints). */
  endpoints?: WorkloadInstance[];
  resolution: Resolution;
  location: Location;
  /** Namespaces this service is visible to: `*` all (default), `.` own, `~` none, or names. */
  exportTo: string[];
  /** ServiceEntry `addresses` / Kubernetes clusterIP, when known. */
  addresses: string[];
  /** Expected peer identities (ServiceEntry `subjectAltNames`). */
  subjectAltNames: string[];
  /** Amime annotations of a Kubernetes Service (`amime.dev/*`, e.g. amime.dev/health-check). */
  annotations?: Record<string, string>;
}

export interface WorkloadInstance {
  /** e.g. `reviews-v2-0` (a pod name / a local process name / a WorkloadEntry name). */
  name: string;
  /**
   * The workload it is a replica of (`reviews-v2`: a Deployment, a local `Workload`), which Istio's
   * metrics label by (`destination_workload`). Absent: the instance is its own workload
   * (a WorkloadEntry, a ServiceEntry endpoint).
   */
  workload?: string;
  namespace: string;
  labels: Record<string, string>;
  /** Kubernetes service account name (not the SPIFFE URI). */
  serviceAccount: string;
  /** Address peers connect to. */
  address: string;
  /**
   * Ports peers connect to, keyed by the service's targetPort (as a string: "9080") or by port
   * name ("http"). Absent key: the numeric targetPort itself (Kubernetes pods).
   */
  ports?: Record<string, number>;
  /**
   * Where this instance's own sidecar forwards inbound traffic (the app's real port), same keys
   * as `ports`. Absent key: the targetPort itself. Only the local runtime needs this.
   */
  appPorts?: Record<string, number>;
  /** Readiness: not-ready instances stay in EDS with healthy:false. */
  ready: boolean;
  /**
   * It runs a sidecar that accepts mesh mutual TLS: auto mTLS sends it ISTIO_MUTUAL. Istio's
   * endpoint label `security.istio.io/tlsMode` (`istio` / `disabled`) overrides it.
   */
  sidecar?: boolean;
  /** Relative LB weight, default 1. */
  weight?: number;
  locality?: string;
}

export interface Registry {
  services: readonly Service[];
  instances: readonly WorkloadInstance[];
  /**
   * Per `namespace/name` of a Kubernetes Service: the endpoints its EndpointSlices list, taken
   * only for a Service without a selector (as Istio takes them for it). Each instance's `ports`
   * are keyed by the slice port's name (`""` for an unnamed one).
   */
  serviceEndpoints?: ReadonlyMap<string, readonly WorkloadInstance[]>;
}

export const EMPTY_REGISTRY: Registry = Object.freeze({ services: Object.freeze([]), instances: Object.freeze([]) });

/** The workload name of an instance (Istio's `destination_workload`): its workload, else its own name. */
export function workloadOf(instance: WorkloadInstance): string {
  return instance.workload || instance.name;
}

/** Every key of `selector` is in `labels` with the same value. An empty selector matches everything. */
export function labelsMatch(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

/** The instances backing a service: its own endpoints, or the labelled instances of its namespace. */
export function instancesOf(service: Service, instances: readonly WorkloadInstance[]): WorkloadInstance[] {
  if (service.endpoints) return service.endpoints;
  const selector = service.selector;
  if (!selector) return [];
  return instances.filter((i) => i.namespace === service.namespace && labelsMatch(selector, i.labels));
}

function lookup(map: Readonly<Record<string, number>> | undefined, port: ServicePort): number | undefined {
  if (!map) return undefined;
  const byTarget = map[String(port.targetPort)];
  if (typeof byTarget === "number") return byTarget;
  const byName = port.name ? map[port.name] : undefined;
  return typeof byName === "number" ? byName : undefined;
}

/**
 * The port a peer connects to on this instance for a service port, or undefined when the
 * instance does not expose it (a named targetPort the instance does not declare).
 */
export function endpointPort(instance: WorkloadInstance, port: ServicePort): number | undefined {
  const mapped = lookup(instance.ports, port);
  if (mapped !== undefined) return mapped;
  return typeof port.targetPort === "number" ? port.targetPort : undefined;
}

/** The app's own port behind the instance's sidecar (inbound forwarding target). */
export function appPort(instance: WorkloadInstance, port: ServicePort): number | undefined {
  const mapped = lookup(instance.appPorts, port);
  if (mapped !== undefined) return mapped;
  return typeof port.targetPort === "number" ? port.targetPort : lookup(instance.ports, port);
}
