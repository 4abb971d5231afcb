// DestinationRule (networking.istio.io): schema validation matching Istio's validator. Traffic
// policy parts live in destination-rule/.
import { checkExportTo } from "../checks/export-to.ts";
import { checkKnownFields } from "../checks/fields.ts";
import { checkHealthCheckAnnotation } from "../checks/health-check.ts";
import { wildcardDomainError } from "../checks/host.ts";
import { checkLabels, checkWorkloadSelector } from "../checks/selector.ts";
import { readArray, readObject, readString } from "../checks/shape.ts";
import type { Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import { checkTrafficPolicy } from "./destination-rule/traffic-policy.ts";
import { ISTIO_VERSIONS, type KindDefinition } from "./kind.ts";
import { subsetNameError } from "./virtual-service/destination.ts";

export function validateDestinationRule(r: Resource, v: Validator): void {
  if (r.body.spec == null) {
    v.error(["spec"], "Required value: spec is required");
    return;
  }
  const spec = readObject(v, ["spec"], r.body.spec) ?? {};
  checkKnownFields(v, ["spec"], spec, ["host", "trafficPolicy", "subsets", "exportTo", "workloadSelector"]);
  const host = readString(v, ["spec", "host"], spec.host ?? "");
  const hostErr = host === undefined ? null : wildcardDomainError(host);
  if (hostErr) v.error(["spec", "host"], hostErr);
  checkTrafficPolicy(v, ["spec", "trafficPolicy"], spec.trafficPolicy);
  checkHealthCheckAnnotation(v, r.metadata.annotations);
  const names = new Set<string>();
  readArray(v, ["spec", "subsets"], spec.subsets)?.forEach((s, i) => {
    const at = ["spec", "subsets", i];
    if (s === null) {
      v.error(at, "subset may not be null");
      return;
    }
    const subset = readObject(v, at, s);
    if (!subset) return;
    checkKnownFields(v, at, subset, ["name", "labels", "trafficPolicy"]);
    const name = readString(v, [...at, "name"], subset.name) ?? "";
    if (names.has(name)) v.error([...at, "name"], `duplicate subset names: ${name}`);
    names.add(name);
    const err = subsetNameError(name);
    if (err) v.error([...at, "name"], err);
    const labels = checkLabels(v, [...at, "labels"], subset.labels);
    if (!labels || Object.keys(labels).length === 0) v.warn([...at, "labels"], `subset ${name} has no labels, so it selects every endpoint of ${host}`);
    checkTrafficPolicy(v, [...at, "trafficPolicy"], subset.trafficPolicy);
  });
  const hasSelector = spec.workloadSelector != null;
  checkExportTo(v, ["spec", "exportTo"], spec.exportTo, { namespace: r.metadata.namespace || "default", isDestinationRuleWithSelector: hasSelector });
  if (hasSelector) {
    const labels = checkWorkloadSelector(v, ["spec", "workloadSelector"], spec.workloadSelector);
    if (labels && Object.keys(labels).length === 0) v.warn(["spec", "workloadSelector"], "workload selector specified without labels");
  }
}

export const destinationRuleKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "DestinationRule",
  versions: ISTIO_VERSIONS,
  namespaced: true,
  validate: validateDestinationRule,
};
