// ServiceEntry spec (networking.istio.io). Istio field names exactly; see ../networking.ts.
import type { NetworkingWorkloadSelector } from "./shared.ts";
import type { WorkloadEntrySpec } from "./workload-entry.ts";

export type ServiceEntryLocation = "MESH_EXTERNAL" | "MESH_INTERNAL";
export type ServiceEntryResolution = "NONE" | "STATIC" | "DNS" | "DNS_ROUND_ROBIN";

/** A Port as used by ServiceEntry and Gateway. */
export interface Port {
  number?: number;
  /** HTTP | HTTPS | GRPC | GRPC-WEB | HTTP2 | MONGO | TCP | TLS | … (case-insensitive). */
  protocol?: string;
  name?: string;
  targetPort?: number;
}

export interface ServiceEntrySpec {
  hosts?: string[];
  addresses?: string[];
  ports?: Port[];
  location?: ServiceEntryLocation;
  resolution?: ServiceEntryResolution;
  endpoints?: WorkloadEntrySpec[];
  workloadSelector?: NetworkingWorkloadSelector;
  exportTo?: string[];
  subjectAltNames?: string[];
}
