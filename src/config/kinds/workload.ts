// amime.dev/v1alpha1 Workload: a process (or several replicas) that Amime runs with a sidecar.
// Placeholder until its validator lands.
import type { Resource } from "../resource.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";

export const workloadKind: KindDefinition = {
  group: "amime.dev",
  kind: "Workload",
  versions: ["v1alpha1"],
  namespaced: true,
  validate(_r: Resource, _v: Validator): void {},
};
