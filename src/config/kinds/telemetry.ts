// Telemetry (telemetry.istio.io): tracing, access logging and metrics settings per mesh, namespace
// or workload. Rules: the CRD schema and CEL rules (provider names, customMetric, tagOverrides
// operation/value) and Istio's Go validator (sampling percentage, filter expression, warnings for
// several providers or tracing entries, which Istio does not support yet). Expressions (the access
// log filter, tag override values) must be in the CEL subset the sidecar evaluates (model/cel/).
import { readCelDuration } from "../checks/cel-duration.ts";
import { readArray, readBool, readEnum, readNumber, readObject, readObjectItem, readString, required, warnUnknownFields } from "../checks/json-shape.ts";
import { checkPolicyTargets } from "../checks/policy-target.ts";
import { isObject, type FieldPath, type JsonObject, type Resource } from "../../model/resource.ts";
import type { IstioMetric, WorkloadMode } from "../../model/specs/telemetry.ts";
import type { Validator } from "../validator.ts";
import { celProblem } from "../../model/cel/compile.ts";
import { ISTIO_TELEMETRY_VERSIONS, type KindDefinition } from "./kind.ts";

const MODES: readonly WorkloadMode[] = ["CLIENT_AND_SERVER", "CLIENT", "SERVER"];
export const ISTIO_METRICS: readonly IstioMetric[] = [
  "ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE", "TCP_OPENED_CONNECTIONS",
  "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES",
];

export const telemetryKind: KindDefinition = {
  group: "telemetry.istio.io",
  kind: "Telemetry",
  versions: ISTIO_TELEMETRY_VERSIONS,
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["selector", "targetRef", "targetRefs", "tracing", "accessLogging", "metrics"]);
    checkPolicyTargets(v, spec);
    const tracing = readArray(v, ["spec", "tracing"], spec.tracing);
    if (tracing && tracing.length > 1) v.warn(["spec", "tracing"], "multiple tracing entries are not currently supported; only the first is used");
    tracing?.forEach((item, i) => {
      const t = readObjectItem(v, ["spec", "tracing", i], item);
      if (t) checkTracing(v, ["spec", "tracing", i], t);
    });
    readArray(v, ["spec", "accessLogging"], spec.accessLogging)?.forEach((item, i) => {
      const a = readObjectItem(v, ["spec", "accessLogging", i], item);
      if (a) checkAccessLogging(v, ["spec", "accessLogging", i], a);
    });
    readArray(v, ["spec", "metrics"], spec.metrics)?.forEach((item, i) => {
      const m = readObjectItem(v, ["spec", "metrics", i], item);
      if (m) checkMetrics(v, ["spec", "metrics", i], m);
    });
  },
};

function checkMatch(v: Validator, path: FieldPath, value: unknown): void {
  const m = readObject(v, path, value);
  if (!m) return;
  warnUnknownFields(v, path, m, ["mode"]);
  readEnum(v, [...path, "mode"], m.mode, MODES);
}

function checkProviders(v: Validator, path: FieldPath, value: unknown, warnMultiple: boolean): void {
  const list = readArray(v, path, value);
  if (!list) return;
  if (warnMultiple && list.length > 1) v.warn(path, "multiple providers is not currently supported; only the first is used");
  list.forEach((item, i) => {
    const p = readObjectItem(v, [...path, i], item);
    if (!p) return;
    warnUnknownFields(v, [...path, i], p, ["name"]);
    if (required(v, [...path, i, "name"], p.name)) readString(v, [...path, i, "name"], p.name, { nonEmpty: true });
  });
}

function checkTracing(v: Validator, path: FieldPath, t: JsonObject): void {
  warnUnknownFields(v, path, t, ["match", "providers", "customTags", "disableSpanReporting", "randomSamplingPercentage", "useRequestIdForTraceSampling", "enableIstioTags"]);
  checkMatch(v, [...path, "match"], t.match);
  checkProviders(v, [...path, "providers"], t.providers, true);
  for (const f of ["disableSpanReporting", "useRequestIdForTraceSampling", "enableIstioTags"]) readBool(v, [...path, f], t[f]);
  const pct = readNumber(v, [...path, "randomSamplingPercentage"], t.randomSamplingPercentage);
  if (pct !== undefined && (pct < 0 || pct > 100 || (pct > 0 && pct < 0.0001))) {
    v.error([...path, "randomSamplingPercentage"], `percentage ${pct} is neither 0.0, nor in range [0.0001, 100.0]`);
  }
  const tags = readObject(v, [...path, "customTags"], t.customTags);
  for (const [name, value] of Object.entries(tags ?? {})) {
    const at = [...path, "customTags", name];
    const tag = readObjectItem(v, at, value);
    if (!tag) continue;
    const kinds = ["literal", "environment", "header", "formatter"];
    warnUnknownFields(v, at, tag, kinds);
    const set = kinds.filter((k) => tag[k] !== undefined && tag[k] !== null);
    if (set.length !== 1) {
      v.error(at, `custom tag must set exactly one of literal, environment, header or formatter${set.length ? ` (found ${set.join(", ")})` : ""}`);
    }
    for (const k of set) {
      const body = readObject(v, [...at, k], tag[k]);
      if (!body) continue;
      const main = k === "literal" || k === "formatter" ? "value" : "name";
      warnUnknownFields(v, [...at, k], body, main === "value" ? ["value"] : ["name", "defaultValue"]);
      if (required(v, [...at, k, main], body[main])) readString(v, [...at, k, main], body[main], { nonEmpty: true });
      if (main === "name") readString(v, [...at, k, "defaultValue"], body.defaultValue);
    }
  }
}

function checkAccessLogging(v: Validator, path: FieldPath, a: JsonObject): void {
  warnUnknownFields(v, path, a, ["match", "providers", "disabled", "filter"]);
  checkMatch(v, [...path, "match"], a.match);
  checkProviders(v, [...path, "providers"], a.providers, true);
  readBool(v, [...path, "disabled"], a.disabled);
  const filter = readObject(v, [...path, "filter"], a.filter);
  if (!filter) return;
  warnUnknownFields(v, [...path, "filter"], filter, ["expression"]);
  const expr = readString(v, [...path, "filter", "expression"], filter.expression);
  if (expr !== undefined) {
    const p = celProblem(expr, "bool");
    if (p) v.error([...path, "filter", "expression"], `must be a CEL expression Amime evaluates (docs/observability.md, "Expressions"): ${p}`);
  }
}

function checkMetrics(v: Validator, path: FieldPath, m: JsonObject): void {
  warnUnknownFields(v, path, m, ["providers", "overrides", "reportingInterval"]);
  checkProviders(v, [...path, "providers"], m.providers, false);
  readCelDuration(v, [...path, "reportingInterval"], m.reportingInterval);
  readArray(v, [...path, "overrides"], m.overrides)?.forEach((item, i) => {
    const at = [...path, "overrides", i];
    const o = readObjectItem(v, at, item);
    if (!o) return;
    warnUnknownFields(v, at, o, ["match", "disabled", "tagOverrides"]);
    readBool(v, [...at, "disabled"], o.disabled);
    const match = readObject(v, [...at, "match"], o.match);
    if (match) {
      warnUnknownFields(v, [...at, "match"], match, ["metric", "customMetric", "mode"]);
      if (match.metric != null && match.customMetric != null) v.error([...at, "match"], "only one of metric or customMetric can be set");
      readEnum(v, [...at, "match", "metric"], match.metric, ISTIO_METRICS);
      readString(v, [...at, "match", "customMetric"], match.customMetric, { nonEmpty: true });
      readEnum(v, [...at, "match", "mode"], match.mode, MODES);
    }
    const tags = readObject(v, [...at, "tagOverrides"], o.tagOverrides);
    for (const [name, value] of Object.entries(tags ?? {})) {
      const tp = [...at, "tagOverrides", name];
      if (name === "") v.warn(tp, "tagOverrides name may not be empty");
      const tag = readObjectItem(v, tp, value);
      if (!tag) continue;
      warnUnknownFields(v, tp, tag, ["operation", "value"]);
      // The proto default operation is UPSERT, so an override without one must carry a value.
      const op = readEnum(v, [...tp, "operation"], tag.operation, ["UPSERT", "REMOVE"] as const) ?? (tag.operation == null ? "UPSERT" : undefined);
      const val = readString(v, [...tp, "value"], tag.value);
      if (op === "UPSERT" && !val) v.error(tp, "value must be set when operation is UPSERT");
      // Any string is valid here, as in Istio's validator (Envoy evaluates it, an error gives the tag no
      // value); one outside Amime's CEL subset is left out by translation and warned by analyze (AMM1017).
      if (op === "REMOVE" && tag.value != null) v.error([...tp, "value"], "value must not be set when operation is REMOVE");
    }
  });
}
