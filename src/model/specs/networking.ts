// Typed model of Istio's networking.istio.io specs (istio/api networking/v1alpha3, served as v1,
// v1beta1 and v1alpha3). Field names are Istio's exact camelCase JSON names, so a validated spec can
// be cast to these types. Every field is optional because YAML may omit it; "required" is enforced
// by the validators in config/kinds/, not by the types. Durations stay strings ("1.5s"); use
// parseDuration() from config/defaults.ts to read them. Enums are string unions of the proto names.
// The specs live in networking/, one file per kind; this file gathers them.
export * from "./networking/shared.ts";
export * from "./networking/virtual-service.ts";
export * from "./networking/destination-rule.ts";
export * from "./networking/service-entry.ts";
export * from "./networking/workload-entry.ts";
export * from "./networking/gateway.ts";
export * from "./networking/sidecar.ts";
