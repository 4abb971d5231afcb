// Types shared by the networking kinds. Istio field names exactly; see ../networking.ts.

/** Protobuf Duration in JSON/YAML form: "10s", "1.5s", "100ms"; Go style "1m30s" is accepted too. */
export type Duration = string;

/** Exactly one of exact / prefix / regex (RE2, must match the whole value). */
export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

/** `{value: 0..100}` (a double). */
export interface Percent {
  value?: number;
}

export interface PortSelector {
  number?: number;
}

/** istio.type.v1beta1.WorkloadSelector (DestinationRule, security and telemetry kinds). */
export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

/** networking.v1alpha3.WorkloadSelector (ServiceEntry, Sidecar): note `labels`, not `matchLabels`. */
export interface NetworkingWorkloadSelector {
  labels?: Record<string, string>;
}
