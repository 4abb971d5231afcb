// WasmPlugin (extensions.istio.io/v1alpha1): a WebAssembly filter for Envoy. Amime's sidecar runs
// no Wasm, so the kind is accepted, validated as Istio's CRD does (url scheme, sha256, phase,
// match ports, vmConfig env, one of selector/targetRef/targetRefs), and each resource gets an
// AMM1013 warning that it is not applied.
import { AnalyzerCodes } from "../analyzer-codes.ts";
import { readArray, readEnum, readInt, readObject, readObjectItem, readString, required, warnUnknownFields } from "../checks/json-shape.ts";
import { checkPolicyTargets } from "../checks/policy-target.ts";
import { isObject, type Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";

const URL_SCHEMES = ["", "http", "https", "oci", "file"];

export const wasmPluginKind: KindDefinition = {
  group: "extensions.istio.io",
  kind: "WasmPlugin",
  versions: ["v1alpha1"],
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    if (r.body.spec === null || r.body.spec === undefined) return v.error(["spec"], 'must be of type object: "null"');
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["selector", "targetRef", "targetRefs", "url", "sha256", "imagePullPolicy", "imagePullSecret", "verificationKey", "pluginConfig", "pluginName", "phase", "priority", "failStrategy", "vmConfig", "match", "type"]);
    checkPolicyTargets(v, spec);
    if (spec.url === null) v.error(["spec", "url"], 'must be of type string: "null"');
    else if (required(v, ["spec", "url"], spec.url)) {
      const url = readString(v, ["spec", "url"], spec.url, { nonEmpty: true });
      if (url !== undefined && !URL_SCHEMES.includes(schemeOf(url))) v.error(["spec", "url"], "url must have schema one of [http, https, file, oci]");
    }
    readString(v, ["spec", "sha256"], spec.sha256, { pattern: /(^$|^[a-f0-9]{64}$)/ });
    readEnum(v, ["spec", "imagePullPolicy"], spec.imagePullPolicy, ["UNSPECIFIED_POLICY", "IfNotPresent", "Always"]);
    readString(v, ["spec", "imagePullSecret"], spec.imagePullSecret, { nonEmpty: true, maxLength: 253 });
    readString(v, ["spec", "pluginName"], spec.pluginName, { nonEmpty: true, maxLength: 256 });
    readEnum(v, ["spec", "phase"], spec.phase, ["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"]);
    readEnum(v, ["spec", "failStrategy"], spec.failStrategy, ["FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD"]);
    readEnum(v, ["spec", "type"], spec.type, ["UNSPECIFIED_PLUGIN_TYPE", "HTTP", "NETWORK"]);
    readInt(v, ["spec", "priority"], spec.priority, { min: -2147483648, max: 2147483647 });
    readArray(v, ["spec", "match"], spec.match)?.forEach((item, i) => {
      const m = readObjectItem(v, ["spec", "match", i], item);
      if (!m) return;
      warnUnknownFields(v, ["spec", "match", i], m, ["mode", "ports"]);
      readEnum(v, ["spec", "match", i, "mode"], m.mode, ["UNDEFINED", "CLIENT", "SERVER", "CLIENT_AND_SERVER"]);
      readArray(v, ["spec", "match", i, "ports"], m.ports)?.forEach((p, j) => {
        const port = readObjectItem(v, ["spec", "match", i, "ports", j], p);
        if (port && required(v, ["spec", "match", i, "ports", j, "number"], port.number)) readInt(v, ["spec", "match", i, "ports", j, "number"], port.number, { min: 1, max: 65535 });
      });
    });
    const vm = readObject(v, ["spec", "vmConfig"], spec.vmConfig);
    if (vm) {
      warnUnknownFields(v, ["spec", "vmConfig"], vm, ["env"]);
      const env = readArray(v, ["spec", "vmConfig", "env"], vm.env) ?? [];
      if (env.length > 256) v.error(["spec", "vmConfig", "env"], "must have at most 256 items");
      const seen = new Set<string>();
      env.forEach((item, i) => {
        const at = ["spec", "vmConfig", "env", i];
        const e = readObjectItem(v, at, item);
        if (!e) return;
        warnUnknownFields(v, at, e, ["name", "value", "valueFrom"]);
        if (required(v, [...at, "name"], e.name)) {
          const n = readString(v, [...at, "name"], e.name, { nonEmpty: true, maxLength: 256 });
          if (n !== undefined && seen.has(n)) v.error([...at, "name"], `Duplicate value: ${JSON.stringify(n)}`);
          else if (n !== undefined) seen.add(n);
        }
        const from = readEnum(v, [...at, "valueFrom"], e.valueFrom, ["INLINE", "HOST"]);
        const value = readString(v, [...at, "value"], e.value);
        if (from === "HOST" && e.value != null) v.error(at, "value may only be set when valueFrom is INLINE");
        if (value !== undefined && value.length > 2048) v.error([...at, "value"], "must be at most 2048 characters");
      });
    }
    v.warn([], "WasmPlugin is accepted but not applied: Amime's sidecar does not run WebAssembly filters", AnalyzerCodes.kindNotApplied);
  },
};

/** The URL's scheme as the CRD reads it: a string that is not a URL is tried as `http://` + it. */
function schemeOf(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (m) {
    try {
      new URL(url);
      return (m[1] ?? "").toLowerCase();
    } catch {
      return "invalid";
    }
  }
  try {
    new URL(`http://${url}`);
    return "";
  } catch {
    return "invalid";
  }
}
