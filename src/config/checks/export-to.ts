// exportTo: which namespaces see a resource (`.` this namespace, `*` all, or namespace names).
import type { FieldPath } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { isK8sLabelName } from "./host.ts";
import { readStringArray } from "./shape.ts";

export interface ExportToOptions {
  /** The resource's own namespace (for `.` duplicates). */
  namespace: string;
  /** ServiceEntry may use `~` (visible to no one). */
  isServiceEntry?: boolean;
  /** A DestinationRule with a workloadSelector may not be exported beyond its namespace. */
  isDestinationRuleWithSelector?: boolean;
}

export function checkExportTo(v: Validator, path: FieldPath, x: unknown, opts: ExportToOptions): string[] | undefined {
  const list = readStringArray(v, path, x);
  if (!list || list.length === 0) return list;
  const ns = opts.namespace || "default";
  const seen = new Set<string>();
  list.forEach((e, i) => {
    const key = e === "." ? ns : e;
    if (seen.has(key)) {
      v.error([...path, i], key !== e ? `duplicate entries in exportTo: . and current namespace ${ns}` : `duplicate entries in exportTo for entry ${e}`);
      return;
    }
    if (e === "~" && opts.isServiceEntry) {
      seen.add(key);
      return;
    }
    if (e === "~") v.error([...path, i], "exportTo ~ (none) is not allowed for Istio configuration objects");
    else if (e !== "." && e !== "*" && !isK8sLabelName(e)) v.error([...path, i], `only .,*, or a valid DNS 1123 label is allowed as exportTo entry (got ${JSON.stringify(e)})`);
    else seen.add(key);
  });
  if (opts.isDestinationRuleWithSelector && seen.size > 0) {
    if (!seen.has(ns)) v.error(path, "destination rule with workload selector cannot have exportTo beyond current namespace");
    else if (seen.size > 1) v.error(path, "destination rule with workload selector cannot have multiple entries in exportTo");
  }
  if (seen.has("*") && list.length > 1) v.error(path, "cannot have both public (*) and non-public exportTo values for a resource");
  if (seen.has("~") && list.length > 1) v.error(path, "cannot export service entry to no one (~) and someone");
  return list;
}
