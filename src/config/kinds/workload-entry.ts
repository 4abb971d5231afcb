// WorkloadEntry (networking.istio.io): schema validation. Placeholder until its validator lands.
import type { Resource } from "../resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";

export const workloadEntryKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "WorkloadEntry",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate(_r: Resource, _v: Validator): void {},
};
