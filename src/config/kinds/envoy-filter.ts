// EnvoyFilter (networking.istio.io/v1alpha3): patches to the generated Envoy config. Validated as
// Istio does (the CRD's schema and CEL rules, then pilot's validateEnvoyFilter: applyTo/operation/
// match line up, a value for every operation but REMOVE, filter and sub-filter names). Amime's
// sidecar is not Envoy: translation applies only the local rate-limit patches (Istio's rate-limit
// task; docs/rate-limiting.md), and every other patch, or part of one, gets an AMM1013 warning
// naming it. The rest of the config set loads as usual.
import { AnalyzerCodes } from "../analyzer-codes.ts";
import { readArray, readEnum, readInt, readObject, readObjectItem, readString, readStringMap, warnUnknownFields } from "../checks/json-shape.ts";
import { checkTargetRef, labelKeyProblem } from "../checks/policy-target.ts";
import { isObject, type FieldPath, type JsonObject, type Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";
import { appliedPatches } from "../envoy-filter/applied-patches.ts";

const APPLY_TO = ["INVALID", "LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER", "ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE", "CLUSTER", "EXTENSION_CONFIG", "BOOTSTRAP", "LISTENER_FILTER"] as const;
const OPERATIONS = ["INVALID", "MERGE", "ADD", "REMOVE", "INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST", "REPLACE", "MERGE_AND_REPLACE_LIST"] as const;
const CONTEXTS = ["ANY", "SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "GATEWAY", "WAYPOINT"] as const;
const UINT32 = { min: 0, max: 4294967295 };
const HCM = ["envoy.filters.network.http_connection_manager", "envoy.http_connection_manager"];
const LISTENER_CLASS = new Set(["LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER"]);
const ROUTE_CLASS = new Set(["ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE"]);

export const envoyFilterKind: KindDefinition = {
  group: "networking.istio.io",
  kind: "EnvoyFilter",
  versions: ["v1alpha3"],
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["workloadSelector", "targetRefs", "configPatches", "priority"]);
    if (spec.workloadSelector != null && spec.targetRefs != null) v.error(["spec"], "only one of targetRefs or workloadSelector can be set");
    const ws = readObject(v, ["spec", "workloadSelector"], spec.workloadSelector);
    if (ws) {
      warnUnknownFields(v, ["spec", "workloadSelector"], ws, ["labels"]);
      for (const [k, val] of Object.entries(readStringMap(v, ["spec", "workloadSelector", "labels"], ws.labels) ?? {})) {
        const at = ["spec", "workloadSelector", "labels", k];
        if (k === "" || k.includes("*") || val.includes("*")) v.error(at, k === "" ? "empty key is not supported in selector" : "wildcard is not supported in selector");
        else {
          const p = labelKeyProblem(k);
          if (p) v.error(at, p);
        }
        if (val.length > 63) v.error(at, `label value must be at most 63 characters`);
      }
    }
    const refs = readArray(v, ["spec", "targetRefs"], spec.targetRefs);
    if (refs && refs.length > 16) v.error(["spec", "targetRefs"], "must have at most 16 items");
    refs?.forEach((item, i) => {
      const ref = readObjectItem(v, ["spec", "targetRefs", i], item);
      if (ref) checkTargetRef(v, ["spec", "targetRefs", i], ref);
    });
    readInt(v, ["spec", "priority"], spec.priority, { min: -2147483648, max: 2147483647 });
    readArray(v, ["spec", "configPatches"], spec.configPatches)?.forEach((item, i) => {
      const at: FieldPath = ["spec", "configPatches", i];
      if (item === null) return v.error(at, "Envoy filter: null config patch");
      const cp = readObjectItem(v, at, item);
      if (cp) checkPatch(v, at, cp);
    });
    // Translation applies the local rate-limit patches (control-plane/translate/rate-limit/apply.ts; which ones: config/envoy-filter/applied-patches.ts);
    // every other patch, or part of one, keeps AMM1013 with its field path.
    const applied = appliedPatches(spec);
    if (applied.patches.length === 0 && applied.notApplied.length === 0) {
      v.warn([], "EnvoyFilter is accepted but not applied: Amime's sidecar is not Envoy, and no patch of this resource changes its config", AnalyzerCodes.kindNotApplied);
    }
    for (const p of applied.notApplied) v.warn(patchPath(p.path), `not applied: ${p.path}: ${p.message}`, AnalyzerCodes.kindNotApplied);
  },
};

/** The patch a problem path (`spec.configPatches[2].patch.value.name`) lies in, or the spec. */
function patchPath(path: string): FieldPath {
  const m = /^spec\.configPatches\[(\d+)\]/.exec(path);
  return m === null ? ["spec"] : ["spec", "configPatches", Number(m[1])];
}

function checkPatch(v: Validator, at: FieldPath, cp: JsonObject): void {
  warnUnknownFields(v, at, cp, ["applyTo", "match", "patch"]);
  const applyTo = readEnum(v, [...at, "applyTo"], cp.applyTo, APPLY_TO);
  const match = readObject(v, [...at, "match"], cp.match);
  if (match) checkMatch(v, [...at, "match"], match);
  const patch = readObject(v, [...at, "patch"], cp.patch);
  if (patch) {
    warnUnknownFields(v, [...at, "patch"], patch, ["operation", "value", "filterClass"]);
    readEnum(v, [...at, "patch", "filterClass"], patch.filterClass, ["UNSPECIFIED", "AUTHN", "AUTHZ", "STATS"]);
    readObject(v, [...at, "patch", "value"], patch.value);
  }
  // pilot's validateEnvoyFilter, in its order; each problem ends the checks of this patch.
  if (applyTo === undefined || applyTo === "INVALID") {
    if (cp.applyTo == null || applyTo === "INVALID") v.error([...at, "applyTo"], "Envoy filter: missing applyTo");
    return;
  }
  if (!patch) return v.error([...at, "patch"], "Envoy filter: missing patch");
  const op = readEnum(v, [...at, "patch", "operation"], patch.operation, OPERATIONS);
  if (op === undefined || op === "INVALID") {
    if (patch.operation == null || op === "INVALID") v.error([...at, "patch", "operation"], "Envoy filter: missing patch operation");
    return;
  }
  if (op !== "REMOVE" && patch.value == null) return v.error([...at, "patch", "value"], "Envoy filter: missing patch value for non-remove operation");
  const version = str(obj(match?.proxy)?.proxyVersion);
  if (version) {
    try {
      new RegExp(version);
    } catch (e) {
      return v.error([...at, "match", "proxy", "proxyVersion"], `Envoy filter: invalid regex for proxy version, [${(e as Error).message}]`);
    }
  }
  const objectType = match ? ["listener", "routeConfiguration", "cluster", "waypoint"].find((k) => match[k] != null) : undefined;
  if (LISTENER_CLASS.has(applyTo) && objectType !== undefined) {
    if (objectType !== "listener" && objectType !== "waypoint") return v.error([...at, "match"], "Envoy filter: applyTo for listener class objects cannot have non listener match");
    const filter = obj(obj(obj(match?.[objectType])?.filterChain)?.filter) ?? (objectType === "waypoint" ? obj(obj(match?.waypoint)?.filter) : undefined);
    if (filter) {
      if (applyTo === "LISTENER" || applyTo === "FILTER_CHAIN") v.warn([...at, "match"], `Envoy filter: filter match has no effect when used with ${applyTo}`);
      const name = str(filter.name);
      if (!name) return v.error([...at, "match"], "Envoy filter: filter match has no name to match on");
      if (filter.subFilter != null) {
        if (applyTo !== "HTTP_FILTER") return v.error([...at, "match"], "Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only");
        if (!HCM.includes(name)) return v.error([...at, "match"], `Envoy filter: subfilter match requires filter match with ${HCM[0]}`);
        if (!str(obj(filter.subFilter)?.name)) return v.error([...at, "match"], "Envoy filter: subfilter match has no name to match on");
      }
    }
  } else if (ROUTE_CLASS.has(applyTo) && objectType !== undefined && objectType !== "routeConfiguration" && objectType !== "waypoint") {
    v.error([...at, "match"], "Envoy filter: applyTo for http route class objects cannot have non route configuration match");
  } else if (applyTo === "CLUSTER" && objectType !== undefined && objectType !== "cluster" && objectType !== "waypoint") {
    v.error([...at, "match"], "Envoy filter: applyTo for cluster class objects cannot have non cluster match");
  }
}

function checkMatch(v: Validator, at: FieldPath, m: JsonObject): void {
  warnUnknownFields(v, at, m, ["context", "proxy", "listener", "routeConfiguration", "cluster", "waypoint"]);
  const context = readEnum(v, [...at, "context"], m.context, CONTEXTS);
  const waypoint = m.waypoint != null;
  if ((context === "WAYPOINT") !== waypoint) v.error(at, 'Invalid value: "object": only support waypointMatch when context is WAYPOINT');
  const set = ["listener", "routeConfiguration", "cluster", "waypoint"].filter((k) => m[k] != null);
  if (set.length > 1) v.error(at, `only one of ${set.join(", ")} may be set`);
  const listener = readObject(v, [...at, "listener"], m.listener);
  if (listener) {
    readInt(v, [...at, "listener", "portNumber"], listener.portNumber, UINT32);
    readString(v, [...at, "listener", "name"], listener.name);
    const fc = readObject(v, [...at, "listener", "filterChain"], listener.filterChain);
    if (fc) readInt(v, [...at, "listener", "filterChain", "destinationPort"], fc.destinationPort, UINT32);
  }
  const rc = readObject(v, [...at, "routeConfiguration"], m.routeConfiguration);
  if (rc) {
    readInt(v, [...at, "routeConfiguration", "portNumber"], rc.portNumber, UINT32);
    const route = obj(obj(rc.vhost)?.route);
    if (route) readEnum(v, [...at, "routeConfiguration", "vhost", "route", "action"], route.action, ["ANY", "ROUTE", "REDIRECT", "DIRECT_RESPONSE"]);
  }
  const cluster = readObject(v, [...at, "cluster"], m.cluster);
  if (cluster) readInt(v, [...at, "cluster", "portNumber"], cluster.portNumber, UINT32);
  const wp = readObject(v, [...at, "waypoint"], m.waypoint);
  if (wp && wp.portNumber != null) {
    const p = readInt(v, [...at, "waypoint", "portNumber"], wp.portNumber, UINT32);
    if (p !== undefined && (p < 1 || p > 65535)) v.error([...at, "waypoint", "portNumber"], 'Invalid value: "integer": port must be between 1-65535');
  }
}

function obj(x: unknown): JsonObject | undefined {
  return isObject(x) ? x : undefined;
}

function str(x: unknown): string | undefined {
  return typeof x === "string" ? x : undefined;
}
