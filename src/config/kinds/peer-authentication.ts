// PeerAuthentication (security.istio.io): which mTLS mode a workload's inbound side accepts, mesh-,
// namespace-, workload- or port-wide. Rules: the CRD schema (enum, portLevelMtls keys and size, the
// "portLevelMtls requires selector" CEL rule) and Istio's Go validator.
import { readEnum, readObject, readObjectItem, warnUnknownFields } from "../checks/json-shape.ts";
import { checkWorkloadSelector } from "../checks/policy-target.ts";
import { isObject, type Resource } from "../../model/resource.ts";
import type { MutualTLSMode } from "../../model/specs/security.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_SECURITY_VERSIONS, type KindDefinition } from "./kind.ts";

export const MTLS_MODES: readonly MutualTLSMode[] = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];

export const peerAuthenticationKind: KindDefinition = {
  group: "security.istio.io",
  kind: "PeerAuthentication",
  versions: ISTIO_SECURITY_VERSIONS,
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["selector", "mtls", "portLevelMtls"]);
    const labels = checkWorkloadSelector(v, ["spec", "selector"], spec.selector);
    checkMtls(v, ["spec", "mtls"], spec.mtls, false);
    const ports = readObject(v, ["spec", "portLevelMtls"], spec.portLevelMtls);
    if (!ports) return;
    if (Object.keys(ports).length === 0) v.error(["spec", "portLevelMtls"], "should have at least 1 properties (remove portLevelMtls or name a port)");
    else if (!labels || Object.keys(labels).length === 0) v.error(["spec", "portLevelMtls"], "portLevelMtls requires selector: port-level mTLS only applies to the workloads a selector picks");
    for (const [key, value] of Object.entries(ports)) {
      const at = ["spec", "portLevelMtls", key];
      if (!/^\d+$/.test(key)) v.error(at, `port key ${JSON.stringify(key)} is not a port number (type conversion error from string to int)`);
      else if (Number(key) < 1 || Number(key) > 65535) v.error(at, `port must be between 1-65535 (got ${key})`);
      checkMtls(v, at, value, true);
    }
  },
};

function checkMtls(v: Validator, path: (string | number)[], value: unknown, item: boolean): void {
  const mtls = item ? readObjectItem(v, path, value) : readObject(v, path, value);
  if (!mtls) return;
  warnUnknownFields(v, path, mtls, ["mode"]);
  readEnum(v, [...path, "mode"], mtls.mode, MTLS_MODES);
}
