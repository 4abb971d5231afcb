// Kubernetes core v1 Service: schema validation. Placeholder until its validator lands.
import type { Resource } from "../resource.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";

export const serviceKind: KindDefinition = {
  group: "",
  kind: "Service",
  versions: ["v1"],
  namespaced: true,
  validate(_r: Resource, _v: Validator): void {},
};
