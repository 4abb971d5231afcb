// Telemetry (telemetry.istio.io): schema validation. Placeholder until its validator lands.
import type { Resource } from "../resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_TELEMETRY_VERSIONS, type KindDefinition } from "./kind.ts";

export const telemetryKind: KindDefinition = {
  group: "telemetry.istio.io",
  kind: "Telemetry",
  versions: ISTIO_TELEMETRY_VERSIONS,
  namespaced: true,
  validate(_r: Resource, _v: Validator): void {},
};
