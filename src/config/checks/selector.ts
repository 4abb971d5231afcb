// Label maps and workload selectors (Kubernetes label syntax, Istio's texts).
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { checkKnownFields } from "./fields.ts";
import { readObject, readStringMap } from "./shape.ts";

const QUALIFIED_NAME = "(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const DNS_LABEL = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?";
const KEY = new RegExp(`^(${DNS_LABEL}(?:\\.${DNS_LABEL})*/)?(${QUALIFIED_NAME})$`);
const VALUE = new RegExp(`^(?:${QUALIFIED_NAME})?$`);

export function labelKeyError(k: string): string | null {
  const m = KEY.exec(k);
  if (!m) return `invalid tag key: ${JSON.stringify(k)}`;
  if (m[1] && m[1].length - 1 > 253) return `invalid tag key: ${JSON.stringify(k)} (DNS prefix is too long)`;
  if ((m[2] ?? "").length > 63) return `invalid tag key: ${JSON.stringify(k)} (name is too long)`;
  return null;
}

export function labelValueError(val: string): string | null {
  return VALUE.test(val) && val.length <= 63 ? null : `invalid tag value: ${JSON.stringify(val)}`;
}

/** Read a label map and check its keys and values. */
export function checkLabels(v: Validator, path: FieldPath, x: unknown): Record<string, string> | undefined {
  const m = readStringMap(v, path, x);
  if (!m) return undefined;
  for (const [k, val] of Object.entries(m)) {
    const err = labelKeyError(k) ?? labelValueError(val);
    if (err) v.error([...path, k], err);
  }
  return m;
}

/** `workloadSelector: {matchLabels: {...}}`. Istio rejects an empty key and a `*` in labels. */
export function checkWorkloadSelector(v: Validator, path: FieldPath, x: unknown): Record<string, string> | undefined {
  const obj = readObject(v, path, x);
  if (!obj) return undefined;
  checkKnownFields(v, path, obj, ["matchLabels"]);
  const labels = checkLabels(v, [...path, "matchLabels"], obj.matchLabels);
  for (const [k, val] of Object.entries(labels ?? {})) {
    if (k === "") v.error([...path, "matchLabels"], "empty key is not supported in selector");
    if (k.includes("*") || val.includes("*")) v.error([...path, "matchLabels", k], "wildcard is not supported in selector");
  }
  return labels ?? {};
}
