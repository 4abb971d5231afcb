// RateLimit (amime.dev/v1alpha1): Amime's own rate-limit kind, for people who do not want to write
// Envoy filter YAML. The workloads a `selector` picks (or those behind a `service` host) limit the
// requests they receive: each rule matches requests (uri, method, headers — VirtualService's
// StringMatch), allows `limit.requests` per `limit.per` second/minute/hour/day, optionally per
// key (a header, a JWT claim, the source principal, the remote address), in each proxy (`local`,
// a token bucket) or shared by all of them (`global`, through the rate-limit service).
// Translation: control-plane/translate/rate-limit/kind.ts; docs/rate-limiting.md.
import { checkKnownFields } from "../checks/fields.ts";
import { headerMatchNameError } from "../checks/headers.ts";
import { fqdnError } from "../checks/host.ts";
import { readArray, readEnum, readInt, readObject, readObjectItem, readString, required } from "../checks/json-shape.ts";
import { checkWorkloadSelector } from "../checks/policy-target.ts";
import { checkStringMatch } from "../checks/string-match.ts";
import { isObject, type FieldPath, type Resource } from "../../model/resource.ts";
import type { Validator } from "../validator.ts";
import type { KindDefinition } from "./kind.ts";

export const RATE_LIMIT_UNITS = ["second", "minute", "hour", "day"] as const;
export const RATE_LIMIT_SCOPES = ["local", "global"] as const;
export const RATE_LIMIT_KEYS = ["sourcePrincipal", "remoteAddress"] as const;

export const rateLimitKind: KindDefinition = {
  group: "amime.dev",
  kind: "RateLimit",
  versions: ["v1alpha1"],
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    checkKnownFields(v, ["spec"], spec, ["selector", "service", "rules", "rateLimitService", "failureMode"]);
    if (spec.selector !== undefined && spec.service !== undefined) v.error(["spec"], "set selector or service, not both");
    if (spec.selector !== undefined) checkWorkloadSelector(v, ["spec", "selector"], spec.selector);
    const host = readString(v, ["spec", "service"], spec.service);
    if (host !== undefined) {
      const e = host.includes("*") ? "a service host without wildcards" : fqdnError(host);
      if (e) v.error(["spec", "service"], e);
    }
    readEnum(v, ["spec", "failureMode"], spec.failureMode, ["allow", "deny"] as const);
    const rls = readObject(v, ["spec", "rateLimitService"], spec.rateLimitService);
    if (rls) {
      checkKnownFields(v, ["spec", "rateLimitService"], rls, ["host", "port"]);
      const h = readString(v, ["spec", "rateLimitService", "host"], rls.host);
      if (required(v, ["spec", "rateLimitService", "host"], rls.host) && h !== undefined) {
        const e = fqdnError(h);
        if (e) v.error(["spec", "rateLimitService", "host"], e);
      }
      if (required(v, ["spec", "rateLimitService", "port"], rls.port)) readInt(v, ["spec", "rateLimitService", "port"], rls.port, { min: 1, max: 65535 });
    }
    if (!required(v, ["spec", "rules"], spec.rules)) return;
    const rules = readArray(v, ["spec", "rules"], spec.rules);
    if (rules === undefined) return;
    if (rules.length === 0) v.error(["spec", "rules"], "at least one rule");
    let global = false;
    rules.forEach((item, i) => {
      const at: FieldPath = ["spec", "rules", i];
      const rule = readObjectItem(v, at, item);
      if (!rule) return;
      checkKnownFields(v, at, rule, ["name", "match", "limit", "key", "scope"]);
      readString(v, [...at, "name"], rule.name);
      if (readEnum(v, [...at, "scope"], rule.scope, RATE_LIMIT_SCOPES) === "global") global = true;
      checkMatch(v, [...at, "match"], rule.match);
      if (required(v, [...at, "limit"], rule.limit)) {
        const limit = readObject(v, [...at, "limit"], rule.limit);
        if (limit) {
          checkKnownFields(v, [...at, "limit"], limit, ["requests", "per"]);
          if (required(v, [...at, "limit", "requests"], limit.requests)) readInt(v, [...at, "limit", "requests"], limit.requests, { min: 1, max: 0xffffffff });
          if (required(v, [...at, "limit", "per"], limit.per)) readEnum(v, [...at, "limit", "per"], limit.per, RATE_LIMIT_UNITS);
        }
      }
      checkKey(v, [...at, "key"], rule.key);
    });
    if (!global && (rls !== undefined || spec.failureMode !== undefined)) v.warn(["spec", "rateLimitService"], "only global rules call the rate-limit service; every rule here is local");
  },
};

function checkMatch(v: Validator, path: FieldPath, x: unknown): void {
  const m = readObject(v, path, x);
  if (!m) return;
  checkKnownFields(v, path, m, ["uri", "method", "headers"]);
  if (m.uri !== undefined) checkStringMatch(v, [...path, "uri"], m.uri, { where: "uri", allowEmptyPrefix: true });
  if (m.method !== undefined) checkStringMatch(v, [...path, "method"], m.method, { where: "method", allowEmptyPrefix: false });
  const headers = readObject(v, [...path, "headers"], m.headers);
  for (const [name, sm] of Object.entries(headers ?? {})) {
    const at = [...path, "headers", name];
    const e = headerMatchNameError(name) ?? (name !== name.toLowerCase() || name.startsWith("@") ? "a lower-case header name" : null);
    if (e) v.error(at, e);
    if (sm === null) v.error(at, `header match ${name} cannot be null`);
    else checkStringMatch(v, at, sm, { where: "headers" });
  }
}

function checkKey(v: Validator, path: FieldPath, x: unknown): void {
  if (x === undefined) return;
  if (typeof x === "string") {
    readEnum(v, path, x, RATE_LIMIT_KEYS);
    return;
  }
  const k = readObject(v, path, x);
  if (!k) return;
  const fields = Object.keys(k);
  if (fields.length !== 1 || (fields[0] !== "header" && fields[0] !== "claim")) {
    v.error(path, "one of {header: NAME}, {claim: NAME}, sourcePrincipal or remoteAddress");
    return;
  }
  const name = readString(v, [...path, fields[0]], k[fields[0]]);
  if (name === undefined) return;
  if (fields[0] === "header" && !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(name)) v.error([...path, "header"], "a lower-case header name");
  if (fields[0] === "claim" && (name === "" || name.split(".").some((p) => p === ""))) v.error([...path, "claim"], "a claim name, nested with \".\" (e.g. sub, or realm.role)");
}
