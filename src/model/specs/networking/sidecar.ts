// Sidecar spec (networking.istio.io). Istio field names exactly; see ../networking.ts.
import type { ConnectionPoolSettings } from "./destination-rule.ts";
import type { ServerTLSSettings } from "./gateway.ts";
import type { NetworkingWorkloadSelector } from "./shared.ts";
import type { Destination } from "./virtual-service.ts";

export type CaptureMode = "DEFAULT" | "IPTABLES" | "NONE";

export interface SidecarPort {
  number?: number;
  protocol?: string;
  name?: string;
  targetPort?: number;
}

export interface IstioIngressListener {
  port?: SidecarPort;
  bind?: string;
  captureMode?: CaptureMode;
  defaultEndpoint?: string;
  tls?: ServerTLSSettings;
  connectionPool?: ConnectionPoolSettings;
}

export interface IstioEgressListener {
  port?: SidecarPort;
  bind?: string;
  captureMode?: CaptureMode;
  /** `namespace/dnsName`; `./x`, `*\/x`, `~/x`. */
  hosts?: string[];
}

export interface OutboundTrafficPolicy {
  mode?: "REGISTRY_ONLY" | "ALLOW_ANY";
  egressProxy?: Destination;
}

export interface SidecarSpec {
  workloadSelector?: NetworkingWorkloadSelector;
  ingress?: IstioIngressListener[];
  egress?: IstioEgressListener[];
  inboundConnectionPool?: ConnectionPoolSettings;
  outboundTrafficPolicy?: OutboundTrafficPolicy;
}
