// Typed model of Istio's telemetry.istio.io Telemetry spec (istio/api telemetry/v1alpha1, served as
// v1 and v1alpha1). Field names are Istio's camelCase JSON names; every field is optional because
// YAML may omit it, and the validator in config/kinds/telemetry.ts enforces the rest.
import type { PolicyTargets } from "./security.ts";

/** Which side of the proxy a setting applies to; default CLIENT_AND_SERVER. */
export type WorkloadMode = "CLIENT_AND_SERVER" | "CLIENT" | "SERVER";

export interface ProviderRef {
  /** An extension provider name from mesh config, e.g. "prometheus", "envoy", "otel", "zipkin". */
  name?: string;
}

export interface CustomTag {
  literal?: { value?: string };
  environment?: { name?: string; defaultValue?: string };
  header?: { name?: string; defaultValue?: string };
  /** Access-log formatter text such as "%REQ(:PATH)%". */
  formatter?: { value?: string };
}

export interface Tracing {
  match?: { mode?: WorkloadMode };
  providers?: ProviderRef[];
  customTags?: Record<string, CustomTag>;
  disableSpanReporting?: boolean;
  /** 0..100; unset means the mesh default (1%). */
  randomSamplingPercentage?: number;
  useRequestIdForTraceSampling?: boolean;
  enableIstioTags?: boolean;
}

export interface AccessLogging {
  match?: { mode?: WorkloadMode };
  providers?: ProviderRef[];
  disabled?: boolean;
  /** CEL expression: log only when it evaluates to true, e.g. `response.code >= 400`. */
  filter?: { expression?: string };
}

export type IstioMetric =
  | "ALL_METRICS" | "REQUEST_COUNT" | "REQUEST_DURATION" | "REQUEST_SIZE" | "RESPONSE_SIZE"
  | "TCP_OPENED_CONNECTIONS" | "TCP_CLOSED_CONNECTIONS" | "TCP_SENT_BYTES" | "TCP_RECEIVED_BYTES"
  | "GRPC_REQUEST_MESSAGES" | "GRPC_RESPONSE_MESSAGES";

export interface TagOverride {
  /** UPSERT (default) sets the tag to `value` (a CEL expression); REMOVE drops the tag. */
  operation?: "UPSERT" | "REMOVE";
  value?: string;
}

export interface MetricsOverrides {
  /** At most one of metric / customMetric; none = all metrics. */
  match?: { metric?: IstioMetric; customMetric?: string; mode?: WorkloadMode };
  disabled?: boolean;
  tagOverrides?: Record<string, TagOverride>;
}

export interface Metrics {
  providers?: ProviderRef[];
  overrides?: MetricsOverrides[];
  /** Duration string, e.g. "15s". */
  reportingInterval?: string;
}

export interface TelemetrySpec extends PolicyTargets {
  tracing?: Tracing[];
  accessLogging?: AccessLogging[];
  metrics?: Metrics[];
}
