// ProxyConfig (networking.istio.io/v1beta1): per-workload proxy settings (concurrency, environment
// variables, image). None of them means anything for Amime's sidecar (one event loop, no image,
// no agent environment), so the kind is accepted, validated as Istio's CRD does, and each resource
// gets an AMM1013 warning that it is not applied. The mesh-wide equivalent is MeshConfig
// defaultConfig (docs/config.md).
import { AnalyzerCodes } from "../analyzer-codes.ts";
import { readInt, readObject, readStringMap, warnUnknownFields } from "../checks/json-shape.ts";
import { checkWorkloadSelector } from "../checks/policy-target.ts";
import { isObject, type Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";

export const proxyConfigKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "ProxyConfig",
  versions: ["v1beta1"],
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["selector", "concurrency", "environmentVariables", "image"]);
    checkWorkloadSelector(v, ["spec", "selector"], spec.selector);
    const c = readInt(v, ["spec", "concurrency"], spec.concurrency, { max: 2147483647 });
    if (c !== undefined && c < 0) v.error(["spec", "concurrency"], "should be greater than or equal to 0");
    for (const [k, val] of Object.entries(readStringMap(v, ["spec", "environmentVariables"], spec.environmentVariables) ?? {})) {
      if (val.length > 2048) v.error(["spec", "environmentVariables", k], "must be at most 2048 characters");
    }
    const image = readObject(v, ["spec", "image"], spec.image);
    if (image) warnUnknownFields(v, ["spec", "image"], image, ["imageType"]);
    v.warn([], "ProxyConfig is accepted but not applied: Amime's sidecar runs one event loop and has no image or agent environment to set", AnalyzerCodes.kindNotApplied);
  },
};
