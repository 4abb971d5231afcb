// Typed model of the Kubernetes core v1 Service fields Amime uses, and how Istio derives a port's
// protocol from it. Field names are Kubernetes' JSON names; every field is optional because YAML may
// omit it, and config/kinds/service.ts enforces the rest.

export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";
export type TransportProtocol = "TCP" | "UDP" | "SCTP";

export interface ServicePort {
  /** DNS-1123 label; required when the Service has more than one port. Istio reads `<protocol>[-suffix]` from it. */
  name?: string;
  /** Default TCP. */
  protocol?: TransportProtocol;
  /** e.g. "http", "grpc", "kubernetes.io/h2c"; takes precedence over the name prefix. */
  appProtocol?: string;
  /** The Service port (1..65535), required. */
  port?: number;
  /** Workload port number or the name of a workload port; default: same as `port`. */
  targetPort?: number | string;
  nodePort?: number;
}

export interface ServiceSpec {
  /** Label selector of the workloads behind the Service; none = endpoints managed elsewhere. */
  selector?: Record<string, string>;
  ports?: ServicePort[];
  type?: ServiceType;
  /** "" (allocate), "None" (headless) or an IP. */
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  sessionAffinity?: "None" | "ClientIP";
}

/** Protocols Istio distinguishes for a port; "unknown" means "detect from the first bytes" (protocol sniffing). */
export type MeshProtocol = "http" | "http2" | "https" | "grpc" | "grpc-web" | "tcp" | "tls" | "udp" | "mongo" | "mysql" | "redis" | "unknown";

const BY_NAME: Record<string, MeshProtocol> = {
  http: "http", http2: "http2", https: "https", grpc: "grpc", "grpc-web": "grpc-web", tcp: "tcp", tls: "tls",
  udp: "udp", mongo: "mongo", mysql: "mysql", redis: "redis", http_proxy: "http",
};

/**
 * The protocol Istio assigns to a Service port (kube ConvertProtocol): UDP ports are UDP; otherwise
 * `appProtocol` if set (with Kubernetes' `kubernetes.io/h2c|ws|wss` names), else the port name's
 * prefix before the first "-" ("http-web" → http, "grpc-web-x" → grpc-web), case-insensitive.
 * Anything else is "unknown": the proxy detects HTTP from the first bytes and falls back to TCP.
 */
export function portProtocol(port: Pick<ServicePort, "name" | "protocol" | "appProtocol">): MeshProtocol {
  if (port.protocol === "UDP") return "udp";
  let name = port.name ?? "";
  if (port.appProtocol !== undefined && port.appProtocol !== "") {
    name = port.appProtocol;
    if (name === "kubernetes.io/h2c") return "http2";
    if (name === "kubernetes.io/ws") return "http";
    if (name === "kubernetes.io/wss") return "https";
  }
  const lower = name.toLowerCase();
  if (lower.startsWith("grpc-web")) return "grpc-web";
  const dash = lower.indexOf("-");
  return BY_NAME[dash >= 0 ? lower.slice(0, dash) : lower] ?? "unknown";
}

/** Whether traffic on a port of this protocol is handled as HTTP (routing, retries, HTTP metrics). */
export function isHttpLike(p: MeshProtocol): boolean {
  return p === "http" || p === "http2" || p === "grpc" || p === "grpc-web";
}
