// Outbound clusters: one per visible service port, plus one per DestinationRule subset, each with
// its load balancer, connection pool, outlier detection and TLS from the DR (Istio defaults when
// unset), active health checking from the amime.dev/health-check annotation, and its endpoints.
// Plus PassthroughCluster when unknown hosts are allowed out.
import type { Cluster, Endpoint } from "../../model/proxy-config.ts";
import { clusterKey } from "../../model/proxy-config.ts";
import { jsonEqual } from "../../model/json-equal.ts";
import type { Service, ServicePort, WorkloadInstance } from "../../model/registry.ts";
import type { DestinationRuleSpec } from "../../model/specs/networking.ts";
import { classInputs, onForget, sameClassInputs, type ClassInputs } from "./class-reuse.ts";
import { arr, obj, str, strMap } from "./common.ts";
import { serviceEndpoints, serviceIdentities } from "./endpoints.ts";
import { healthCheckFor } from "./health-check.ts";
import { backingInstances } from "./index-cache.ts";
import type { ProxyScope } from "./scope.ts";
import { connectionPoolConfig, effectivePolicy, loadBalancerConfig, outlierDetectionConfig, tlsConfig } from "./traffic-policy.ts";

export const PASSTHROUGH_CLUSTER = "PassthroughCluster";

export interface ClusterSet {
  clusters: Cluster[];
  endpoints: Record<string, Endpoint[]>;
}

/** The cluster wire protocol for a service port, given the TLS the cluster originates. */
export function clusterProtocol(protocol: string, originatesTls: boolean, h2Upgrade: boolean): Cluster["protocol"] {
  switch (protocol) {
    case "http2": case "grpc": case "grpc-web": return "http2";
    // Undeclared ports carry HTTP in the local mesh (apps talk to the sidecar as an HTTP proxy); Istio would sniff.
    case "http": case "": return h2Upgrade ? "http2" : "http1";
    // HTTP routed to a TLS port whose DR originates TLS (egress TLS origination) is HTTP/1.1 inside TLS.
    case "https": case "tls": return originatesTls ? "http1" : "tcp";
    default: return "tcp";
  }
}

/** Whether requests routed to this cluster are consistent-hashed (Istio then drops the previous-hosts retry predicate). */
export function usesConsistentHash(scope: ProxyScope, host: string, subset: string, port: number): boolean {
  const dr = scope.destinationRuleFor(host)?.spec;
  const p = effectivePolicy(dr, subset, port);
  return obj(p.loadBalancer?.consistentHash) !== undefined;
}

/** A service's part of a class's outbound clusters, with the instances it was built from. */
interface ServiceClusters {
  backing: readonly WorkloadInstance[];
  clusters: Cluster[];
  endpoints: [string, Endpoint[]][];
}

/** Per class: each service's part in the last snapshot it was translated from (class-reuse.ts). */
const lastByClass = new Map<string, { inputs: ClassInputs; byHost: Map<string, ServiceClusters> }>();
onForget(() => lastByClass.clear());

/**
 * `cls`: the proxy's class; with it, a service whose backing instances are equal to those it had
 * in the class's last snapshot, when nothing else the class reads changed (a registration), keeps
 * its cluster and endpoint objects.
 */
export function outboundClusters(scope: ProxyScope, cls?: string): ClusterSet {
  const clusters: Cluster[] = [];
  const endpoints: Record<string, Endpoint[]> = {};
  const { snapshot } = scope;
  const inputs = cls === undefined ? undefined : classInputs(snapshot);
  const last = cls === undefined ? undefined : lastByClass.get(cls);
  const kept = last !== undefined && inputs !== undefined && sameClassInputs(last.inputs, inputs) ? last.byHost : undefined;
  const byHost = new Map<string, ServiceClusters>();
  for (const service of scope.services) {
    const backing = backingInstances(snapshot, service);
    const old = kept?.get(service.host);
    const part = old !== undefined && jsonEqual(old.backing, backing) ? old : serviceClusters(scope, service, backing);
    byHost.set(service.host, part);
    clusters.push(...part.clusters);
    for (const [name, list] of part.endpoints) endpoints[name] = list;
  }
  if (cls !== undefined && inputs !== undefined) lastByClass.set(cls, { inputs, byHost });
  if (scope.outboundTrafficPolicy === "ALLOW_ANY") {
    clusters.push({
      name: PASSTHROUGH_CLUSTER,
      direction: "outbound",
      discovery: "original_dst",
      protocol: "http1",
      lb: { policy: "PASSTHROUGH" },
      connectionPool: connectionPoolConfig(undefined, false),
    });
  }
  return { clusters, endpoints };
}

function serviceClusters(scope: ProxyScope, service: Service, backing: readonly WorkloadInstance[]): ServiceClusters {
  const { snapshot } = scope;
  const drEntry = scope.destinationRuleFor(service.host);
  const dr = drEntry?.spec;
  const healthCheck = healthCheckFor(drEntry?.annotations, service.annotations);
  const identities = serviceIdentities(service, backing, snapshot.mesh.trustDomain);
  const subsets = subsetsOf(dr);
  // Auto mTLS (MeshConfig enableAutoMtls, default on), unless a DestinationRule sets tls:
  // ISTIO_MUTUAL marked autoMtls, which the proxy applies per endpoint (tlsMode=istio ones, as
  // Envoy's transport socket match does), plaintext to the others.
  const autoMtls = snapshot.mesh.config?.enableAutoMtls !== false;
  const out: ServiceClusters = { backing, clusters: [], endpoints: [] };
  for (const port of service.ports) {
    for (const subset of [{ name: "", labels: undefined }, ...subsets]) {
      const c = buildCluster(service, port, subset.name, dr, identities, autoMtls, credentialsAllowed(scope, dr));
      if (healthCheck !== undefined && c.discovery === "eds") c.healthCheck = { ...healthCheck };
      out.clusters.push(c);
      if (c.discovery === "eds") out.endpoints.push([c.name, serviceEndpoints(service, port, subset.labels, backing, snapshot.mesh.trustDomain)]);
    }
  }
  return out;
}

function subsetsOf(dr: DestinationRuleSpec | undefined): { name: string; labels: Record<string, string> | undefined }[] {
  const seen = new Set<string>();
  const out: { name: string; labels: Record<string, string> | undefined }[] = [];
  for (const s of arr(dr?.subsets)) {
    const name = str(obj(s)?.name);
    if (!name || seen.has(name)) continue;
    seen.add(name);
    out.push({ name, labels: strMap(s.labels) ?? {} });
  }
  return out;
}

/** Istio reads a DestinationRule's credentialName at gateways, and at sidecars only when the rule has a workloadSelector. */
function credentialsAllowed(scope: ProxyScope, dr: DestinationRuleSpec | undefined): boolean {
  return scope.node.kind !== "sidecar" || strMap(obj(dr?.workloadSelector)?.matchLabels) !== undefined;
}

function buildCluster(service: Service, port: ServicePort, subset: string, dr: DestinationRuleSpec | undefined, identities: string[], autoMtls: boolean, mayUseCredentials: boolean): Cluster {
  const policy = effectivePolicy(dr, subset, port.port);
  const lb = loadBalancerConfig(policy.loadBalancer);
  const passthrough = lb.policy === "PASSTHROUGH" || service.resolution === "NONE" || (service.host.startsWith("*") && service.kind === "service-entry");
  const auto = policy.tls === undefined && autoMtls && !passthrough;
  const tlsSettings = policy.tls ?? (auto ? { mode: "ISTIO_MUTUAL" as const } : undefined);
  const tls = tlsConfig(tlsSettings, { port: port.port, subset, host: service.host, identities, credentialsAllowed: mayUseCredentials });
  // Mesh mTLS wraps whatever the port carries; only SIMPLE/MUTUAL origination turns an https port into HTTP inside TLS.
  const protocol = clusterProtocol(port.protocol, tls !== undefined && tls.mode !== "ISTIO_MUTUAL", policy.connectionPool?.http?.h2UpgradePolicy === "UPGRADE");
  const c: Cluster = {
    name: clusterKey("outbound", port.port, subset, service.host),
    direction: "outbound",
    discovery: passthrough ? "original_dst" : "eds",
    service: { host: service.host, name: service.name, namespace: service.namespace, port: port.port },
    protocol,
    lb: passthrough ? { policy: "PASSTHROUGH" } : lb,
    connectionPool: connectionPoolConfig(policy.connectionPool, protocol === "tcp"),
  };
  if (subset) c.subset = subset;
  // Istio: useClientProtocol wins over h2UpgradePolicy (validation forbids both set).
  if (protocol !== "tcp" && policy.connectionPool?.http?.useClientProtocol === true) c.useClientProtocol = true;
  const od = outlierDetectionConfig(policy.outlierDetection);
  if (od) c.outlierDetection = od;
  if (tls) c.tls = tls;
  if (tls && auto) c.autoMtls = true;
  return c;
}
