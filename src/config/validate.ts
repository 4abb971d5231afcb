// validate: schema validation of each resource alone (what `amime validate` and `istioctl validate` do).
import { Codes, type Diagnostic } from "../model/diagnostic.ts";
import { findKind } from "./kinds/index.ts";
import { isIgnoredKind } from "./kinds/kind.ts";
import { isObject, resourceId, type Resource } from "../model/resource.ts";
import { Validator } from "./validator.ts";

export type ResourceStatus = "valid" | "invalid" | "ignored";

export interface ValidationResult {
  status: ResourceStatus;
  diagnostics: Diagnostic[];
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateResource(r: Resource): ValidationResult {
  const v = new Validator(r);
  const def = findKind(r.group, r.kind);
  if (!def) {
    if (isIgnoredKind(r.group, r.kind)) {
      v.add("warning", ["kind"], `${r.apiVersion} ${r.kind} is a Kubernetes kind that Amime ignores`, Codes.ignoredKind);
      return { status: "ignored", diagnostics: v.diagnostics };
    }
    v.error(["kind"], `unknown kind ${r.kind} in ${r.apiVersion}; Amime understands Istio networking, security and telemetry kinds, v1 Service and amime.dev/v1alpha1 Workload and RateLimit`, Codes.unknownKind);
    return { status: "invalid", diagnostics: v.diagnostics };
  }
  if (!def.versions.includes(r.version)) {
    v.error(["apiVersion"], `${r.kind} is not served at ${r.apiVersion}; use one of ${def.versions.map((x) => (def.group ? `${def.group}/${x}` : x)).join(", ")}`, Codes.unknownKind);
    return { status: "invalid", diagnostics: v.diagnostics };
  }
  validateMetadata(r, v, def.namespaced);
  if (r.body.spec !== undefined && r.body.spec !== null && !isObject(r.body.spec)) {
    v.error(["spec"], "spec must be an object");
  } else {
    try {
      def.validate(r, v);
    } catch (e) {
      // A validator bug must never crash the caller: report it as an error on the resource.
      v.error([], `internal error while validating ${resourceId(r)}: ${(e as Error).message}`);
    }
  }
  return { status: v.ok ? "valid" : "invalid", diagnostics: v.diagnostics };
}

function validateMetadata(r: Resource, v: Validator, namespaced: boolean): void {
  const meta = r.body.metadata;
  if (!isObject(meta)) {
    v.error(["metadata"], "metadata is required");
    return;
  }
  if (typeof meta.name !== "string" || meta.name === "") v.error(["metadata", "name"], "metadata.name is required");
  else if (meta.name.length > 253 || !DNS1123_SUBDOMAIN.test(meta.name)) v.error(["metadata", "name"], `name "${meta.name}" must be a lowercase RFC 1123 subdomain`);
  if (meta.namespace !== undefined) {
    if (!namespaced) v.warn(["metadata", "namespace"], `${r.kind} is cluster-scoped; namespace is ignored`);
    else if (typeof meta.namespace !== "string" || !DNS1123_LABEL.test(meta.namespace)) v.error(["metadata", "namespace"], `namespace ${JSON.stringify(meta.namespace)} must be a lowercase RFC 1123 label`);
  }
  for (const field of ["labels", "annotations"] as const) {
    const m = meta[field];
    if (m === undefined || m === null) continue;
    if (!isObject(m)) v.error(["metadata", field], `${field} must be a map of strings`);
    else for (const [k, val] of Object.entries(m)) if (typeof val !== "string") v.error(["metadata", field, k], `${field} values must be strings (quote ${JSON.stringify(val)})`);
  }
}
