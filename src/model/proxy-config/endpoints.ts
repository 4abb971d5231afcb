// Endpoints (EDS): the instances behind a cluster, and which of them auto mTLS applies to. Pure data.
import type { UpstreamTlsConfig, Cluster } from "./clusters.ts";

export interface Endpoint {
  address: string;
  port: number;
  /** Relative LB weight, default 1. */
  weight: number;
  labels: Record<string, string>;
  /** Registry health (readiness); the proxy's own outlier/health state is layered on top. */
  healthy: boolean;
  /** The workload the endpoint is a replica of (`reviews-v2`, not `reviews-v2-0`): Istio's `destination_workload`. */
  workload?: string;
  /** SPIFFE identity expected from this endpoint. */
  serviceAccount?: string;
  locality?: string;
}

/** Istio's endpoint label: `istio` on endpoints whose workload runs a sidecar that accepts mesh mTLS. */
export const TLS_MODE_LABEL = "security.istio.io/tlsMode";

/** The TLS a connection to this endpoint of the cluster originates: auto mTLS only toward tlsMode=istio endpoints. */
export function endpointTls(cluster: Pick<Cluster, "tls" | "autoMtls">, endpoint: Pick<Endpoint, "labels"> | undefined): UpstreamTlsConfig | undefined {
  const tls = cluster.tls;
  if (tls === undefined || cluster.autoMtls !== true) return tls;
  return endpoint?.labels[TLS_MODE_LABEL] === "istio" ? tls : undefined;
}
