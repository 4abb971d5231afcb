// RequestAuthentication (security.istio.io): schema validation. Placeholder until its validator lands.
import type { Resource } from "../resource.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_SECURITY_VERSIONS, type KindDefinition } from "./kind.ts";

export const requestAuthenticationKind: KindDefinition = {
  group: "security.istio.io",
  kind: "RequestAuthentication",
  versions: ISTIO_SECURITY_VERSIONS,
  namespaced: true,
  validate(_r: Resource, _v: Validator): void {},
};
