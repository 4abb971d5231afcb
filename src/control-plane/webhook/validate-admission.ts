// The validating admission webhook's decision (what istiod's `/validate` does): an Istio object
// about to be created or updated is judged by the same validator as `amime validate`, alone
// (no cross-resource analysis, as istiod). Errors deny the request with their field paths;
// warnings (deprecated fields…) come back as the API server's warnings. Pure.
import type { Diagnostic } from "../../model/diagnostic.ts";
import { resourceFromJson } from "../../config/parse.ts";
import type { JsonObject } from "../../model/resource.ts";
import { validateResource } from "../../config/validate.ts";
import { allow, deny, type AdmissionRequest, type AdmissionResponse } from "./admission-review.ts";

/** The API groups the webhook judges (the rules of its ValidatingWebhookConfiguration). */
export const VALIDATED_GROUPS = ["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"] as const;

export function validateAdmission(req: AdmissionRequest): AdmissionResponse {
  // Only creations and updates of Istio kinds are judged; deleting is always allowed (istiod too).
  if (req.operation === "DELETE" || req.operation === "CONNECT" || req.object === null) return allow(req.uid);
  if (!(VALIDATED_GROUPS as readonly string[]).includes(req.kind.group)) return allow(req.uid);
  const body = withNamespace(req.object, req.namespace);
  const problems: Diagnostic[] = [];
  const resource = resourceFromJson(body, { file: "", line: 0, column: 0 }, problems);
  if (resource === null) return deny(req.uid, `configuration is invalid: ${problems.map((d) => d.message).join("; ")}`);
  const { diagnostics } = validateResource(resource);
  const warnings = diagnostics.filter((d) => d.level === "warning").map(line);
  const errors = diagnostics.filter((d) => d.level === "error");
  if (errors.length === 0) return allow(req.uid, warnings);
  return deny(req.uid, `configuration is invalid: ${errors.map(line).join("; ")}`, warnings);
}

/** `spec.http[0].route[0].weight: weight must be … [AMM0012]` */
function line(d: Diagnostic): string {
  return `${d.path ? `${d.path}: ` : ""}${d.message} [${d.code}]`;
}

/** On CREATE the object may carry no namespace yet: the request's is where it is going. */
function withNamespace(object: JsonObject, namespace: string): JsonObject {
  const meta = object.metadata;
  if (namespace === "" || typeof meta !== "object" || meta === null || Array.isArray(meta) || typeof meta.namespace === "string") return object;
  return { ...object, metadata: { ...meta, namespace } };
}
