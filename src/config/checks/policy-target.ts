// Which workloads a policy (PeerAuthentication, RequestAuthentication, AuthorizationPolicy,
// Telemetry) applies to: `selector.matchLabels`, or `targetRef` / `targetRefs` naming a Service,
// ServiceEntry or Gateway. The rules are the CRD's CEL rules plus Istio's Go validator.
import { isObject, type FieldPath, type JsonObject } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { readArray, readObject, readObjectItem, readString, readStringMap, warnUnknownFields } from "./json-shape.ts";

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TARGET_GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TARGET_KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** group/kind pairs a policy targetRef may name ("" and "core" both mean the core API group). */
const ALLOWED_TARGETS = new Set(["core/Service", "networking.istio.io/ServiceEntry", "gateway.networking.k8s.io/Gateway", "gateway.networking.k8s.io/GatewayClass"]);

/** Kubernetes label key syntax: optional DNS-subdomain prefix, "/", and a name of ≤ 63 chars. Returns a problem or null. */
export function labelKeyProblem(key: string): string | null {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : "";
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (slash >= 0 && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return `label key prefix ${JSON.stringify(prefix)} must be a lowercase DNS subdomain`;
  if (name.length > 63 || !LABEL_NAME.test(name)) return `label key ${JSON.stringify(key)} must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return null;
}

export function labelValueProblem(value: string): string | null {
  if (value === "") return null;
  if (value.length > 63 || !LABEL_NAME.test(value)) return `label value ${JSON.stringify(value)} must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  return null;
}

/** `selector: {matchLabels: {...}}` of a policy. Returns the labels, or undefined when absent or broken. */
export function checkWorkloadSelector(v: Validator, path: FieldPath, value: unknown): Record<string, string> | undefined {
  const sel = readObject(v, path, value);
  if (!sel) return undefined;
  warnUnknownFields(v, path, sel, ["matchLabels"]);
  const labels = readStringMap(v, [...path, "matchLabels"], sel.matchLabels) ?? {};
  for (const [k, val] of Object.entries(labels)) {
    const at = [...path, "matchLabels", k];
    if (k === "") v.error(at, "key must not be empty");
    else if (k.includes("*")) v.error(at, `wildcard not allowed in label key match (${JSON.stringify(k)})`);
    else {
      const p = labelKeyProblem(k);
      if (p) v.error(at, p);
    }
    if (val.includes("*")) v.error(at, `wildcard not allowed in label value match (${JSON.stringify(val)})`);
    else {
      const p = labelValueProblem(val);
      if (p) v.error(at, p);
    }
  }
  if (Object.keys(labels).length === 0) v.warn(path, "selector has no matchLabels, so the policy applies to every workload in its namespace");
  return labels;
}

/** One `targetRef` (PolicyTargetReference). */
export function checkTargetRef(v: Validator, path: FieldPath, ref: JsonObject): void {
  warnUnknownFields(v, path, ref, ["group", "kind", "name", "namespace"]);
  const group = readString(v, [...path, "group"], ref.group, { maxLength: 253, pattern: TARGET_GROUP });
  let kind: string | undefined;
  if (ref.kind === undefined || ref.kind === null) v.error([...path, "kind"], "Required value");
  else kind = readString(v, [...path, "kind"], ref.kind, { nonEmpty: true, maxLength: 63, pattern: TARGET_KIND });
  if (ref.name === undefined || ref.name === null) v.error([...path, "name"], "Required value");
  else readString(v, [...path, "name"], ref.name, { nonEmpty: true, maxLength: 253 });
  const ns = readString(v, [...path, "namespace"], ref.namespace);
  if (ns) v.error([...path, "namespace"], "cross namespace referencing is not currently supported");
  // Only judge the group/kind pair when both are well formed (or group is omitted, meaning core).
  if (kind !== undefined && (group !== undefined || ref.group === undefined || ref.group === null)) {
    const g = group ?? "";
    if (!ALLOWED_TARGETS.has(`${g === "" ? "core" : g}/${kind}`)) {
      v.error(path, `targetRef must be to one of Service, ServiceEntry (networking.istio.io), Gateway or GatewayClass (gateway.networking.k8s.io), not ${g ? `${g}/` : ""}${kind}`);
    }
  }
}

/**
 * `selector`, `targetRef` and `targetRefs` of a policy spec: each checked, and at most one of the
 * three set ("only one of targetRefs or selector can be set", the CRD's wording).
 */
export function checkPolicyTargets(v: Validator, spec: JsonObject, opts: { targetRef?: boolean } = {}): void {
  const set = ["selector", "targetRef", "targetRefs"].filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (set.length > 1) v.error(["spec"], `only one of targetRefs or selector can be set (found ${set.join(" and ")})`);
  checkWorkloadSelector(v, ["spec", "selector"], spec.selector);
  if (opts.targetRef !== false && spec.targetRef !== undefined && spec.targetRef !== null) {
    const ref = readObject(v, ["spec", "targetRef"], spec.targetRef);
    if (ref) checkTargetRef(v, ["spec", "targetRef"], ref);
  }
  const refs = readArray(v, ["spec", "targetRefs"], spec.targetRefs);
  if (refs) {
    if (refs.length > 16) v.error(["spec", "targetRefs"], "must have at most 16 items");
    refs.forEach((item, i) => {
      const ref = readObjectItem(v, ["spec", "targetRefs", i], item);
      if (ref && isObject(ref)) checkTargetRef(v, ["spec", "targetRefs", i], ref);
    });
  }
}
