// AuthorizationPolicy (security.istio.io): allow / deny / audit / custom decisions on requests by
// source, operation and conditions. Rules: the CRD schema and CEL rules (serviceAccounts exclusive
// with namespaces/principals) and Istio's Go validator (meaningless DENY/CUSTOM, empty from/to,
// IPs, ports, path templates, condition keys).
import { ipOrCidrProblem } from "../checks/ip-address.ts";
import { readArray, readEnum, readObject, readObjectItem, readString, readStringList, required, warnUnknownFields } from "../checks/json-shape.ts";
import { checkPolicyTargets } from "../checks/policy-target.ts";
import { isObject, type FieldPath, type JsonObject, type Resource } from "../../model/resource.ts";
import type { AuthorizationAction } from "../../model/specs/security.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_SECURITY_VERSIONS, type KindDefinition } from "./kind.ts";

const ACTIONS: readonly AuthorizationAction[] = ["ALLOW", "DENY", "AUDIT", "CUSTOM"];
const SOURCE_FIELDS = [
  "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
  "serviceAccounts", "notServiceAccounts", "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
  "trustDomains", "notTrustDomains",
];
const OPERATION_FIELDS = ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"];
const IP_FIELDS = new Set(["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"]);
const EMPTY_RULE_HINT = "add an empty rule `{}` if you want it to be triggered for every request";

/** Condition keys taking a plain value; keys written `name[sub]` are in MAP_ATTRIBUTES. */
const ATTRIBUTES = new Set([
  "source.ip", "remote.ip", "source.namespace", "source.principal", "source.serviceAccount", "source.trustDomain",
  "request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port", "connection.sni",
]);
const MAP_ATTRIBUTES = ["request.headers", "request.auth.claims", "experimental."];
const IP_ATTRIBUTES = new Set(["source.ip", "remote.ip", "destination.ip"]);

export const authorizationPolicyKind: KindDefinition = {
  group: "security.istio.io",
  kind: "AuthorizationPolicy",
  versions: ISTIO_SECURITY_VERSIONS,
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["selector", "targetRef", "targetRefs", "action", "provider", "rules"]);
    checkPolicyTargets(v, spec);
    const action = readEnum(v, ["spec", "action"], spec.action, ACTIONS) ?? "ALLOW";
    const provider = readObject(v, ["spec", "provider"], spec.provider);
    const hasRules = spec.rules !== undefined && spec.rules !== null;
    if (action === "CUSTOM") {
      if (!hasRules) v.error(["spec", "rules"], `CUSTOM action without \`rules\` is meaningless as it will never be triggered; ${EMPTY_RULE_HINT}`);
      const name = provider ? readString(v, ["spec", "provider", "name"], provider.name) : undefined;
      if (!name) v.error(["spec", "provider", "name"], "`provider.name` must not be empty with action CUSTOM");
    } else if (provider) {
      v.error(["spec", "provider"], `\`provider\` must not be set with action ${action}; it is only for CUSTOM`);
    }
    if (provider) warnUnknownFields(v, ["spec", "provider"], provider, ["name"]);
    if (action === "DENY" && !hasRules) v.error(["spec", "rules"], `DENY action without \`rules\` is meaningless as it will never be triggered; ${EMPTY_RULE_HINT}`);

    const rules = readArray(v, ["spec", "rules"], spec.rules);
    if (!rules) return;
    if (rules.length > 512) v.error(["spec", "rules"], "must have at most 512 items");
    rules.forEach((item, i) => {
      const rule = readObjectItem(v, ["spec", "rules", i], item);
      if (rule) checkRule(v, ["spec", "rules", i], rule);
    });
  },
};

function checkRule(v: Validator, path: FieldPath, rule: JsonObject): void {
  warnUnknownFields(v, path, rule, ["from", "to", "when"]);
  const from = readArray(v, [...path, "from"], rule.from);
  if (from?.length === 0) v.error([...path, "from"], "`from` must not be empty; remove it to match any source");
  if (from && from.length > 512) v.error([...path, "from"], "must have at most 512 items");
  from?.forEach((item, i) => {
    const f = readObjectItem(v, [...path, "from", i], item);
    if (!f) return;
    warnUnknownFields(v, [...path, "from", i], f, ["source"]);
    const at = [...path, "from", i, "source"];
    if (f.source === undefined || f.source === null) return v.error(at, "`from.source` must not be nil");
    const source = readObject(v, at, f.source);
    if (source) checkSource(v, at, source);
  });

  const to = readArray(v, [...path, "to"], rule.to);
  if (to?.length === 0) v.error([...path, "to"], "`to` must not be empty; remove it to match any operation");
  to?.forEach((item, i) => {
    const t = readObjectItem(v, [...path, "to", i], item);
    if (!t) return;
    warnUnknownFields(v, [...path, "to", i], t, ["operation"]);
    const at = [...path, "to", i, "operation"];
    if (t.operation === undefined || t.operation === null) return v.error(at, "`to.operation` must not be nil");
    const op = readObject(v, at, t.operation);
    if (op) checkOperation(v, at, op);
  });

  const when = readArray(v, [...path, "when"], rule.when);
  when?.forEach((item, i) => {
    const c = readObjectItem(v, [...path, "when", i], item);
    if (c) checkCondition(v, [...path, "when", i], c);
  });
}

function checkSource(v: Validator, path: FieldPath, source: JsonObject): void {
  warnUnknownFields(v, path, source, SOURCE_FIELDS);
  let any = false;
  for (const field of SOURCE_FIELDS) {
    const isSa = field === "serviceAccounts" || field === "notServiceAccounts";
    const list = readStringList(v, [...path, field], source[field], isSa ? { maxItems: 16, maxLength: 320 } : {});
    if (!list) continue;
    if (list.length > 0) any = true;
    list.forEach((value, i) => {
      if (value === "") v.error([...path, field, i], `empty value not allowed, found in ${field}`);
      else if (IP_FIELDS.has(field)) {
        const p = ipOrCidrProblem(value);
        if (p) v.error([...path, field, i], p);
      } else if (isSa && value.split("/").length > 2) {
        v.error([...path, field, i], `service account ${JSON.stringify(value)} must be "name" or "namespace/name"`);
      }
    });
  }
  const has = (k: string): boolean => source[k] !== undefined && source[k] !== null;
  if ((has("serviceAccounts") || has("notServiceAccounts")) && ["principals", "notPrincipals", "namespaces", "notNamespaces"].some(has)) {
    v.error(path, "Cannot set serviceAccounts with namespaces or principals; put them in separate `from` entries");
  }
  if (!any) v.error(path, "`from.source` must not be empty; remove the `from` entry to match any source");
}

function checkOperation(v: Validator, path: FieldPath, op: JsonObject): void {
  warnUnknownFields(v, path, op, OPERATION_FIELDS);
  let any = false;
  for (const field of OPERATION_FIELDS) {
    const list = readStringList(v, [...path, field], op[field]);
    if (!list) continue;
    if (list.length > 0) any = true;
    list.forEach((value, i) => {
      const at = [...path, field, i];
      if (value === "") return v.error(at, `empty value not allowed, found in ${field}`);
      if (field === "ports" || field === "notPorts") {
        const p = portProblem(value);
        if (p) v.error(at, p);
      }
      if (field === "paths" || field === "notPaths") {
        const p = pathTemplateProblem(value);
        if (p) v.error(at, `invalid or unsupported path ${value}, found in ${field}: ${p}`);
      }
    });
  }
  if (!any) v.error(path, "`to.operation` must not be empty; remove the `to` entry to match any operation");
}

function checkCondition(v: Validator, path: FieldPath, c: JsonObject): void {
  warnUnknownFields(v, path, c, ["key", "values", "notValues"]);
  if (!required(v, [...path, "key"], c.key)) return;
  const key = readString(v, [...path, "key"], c.key, { nonEmpty: true });
  const values = readStringList(v, [...path, "values"], c.values) ?? [];
  const notValues = readStringList(v, [...path, "notValues"], c.notValues) ?? [];
  if (key === undefined) return;
  if (values.length === 0 && notValues.length === 0) {
    v.error(path, `at least one of \`values\` or \`notValues\` must be set for key ${key}`);
    return;
  }
  const keyProblem = attributeKeyProblem(key);
  if (keyProblem) {
    v.error([...path, "key"], keyProblem);
    return;
  }
  for (const [field, list] of [["values", values], ["notValues", notValues]] as const) {
    list.forEach((value, i) => {
      let p: string | null = null;
      if (IP_ATTRIBUTES.has(key)) p = ipOrCidrProblem(value);
      else if (key === "destination.port") p = portProblem(value);
      if (p) v.error([...path, field, i], `invalid \`${field === "values" ? "value" : "notValue"}\` for \`key\` ${key}: ${p}`);
    });
  }
}

/** Why a condition key is not an Istio attribute, or null. Map-like keys need the form `a[b]`. */
export function attributeKeyProblem(key: string): string | null {
  if (ATTRIBUTES.has(key)) return null;
  if (MAP_ATTRIBUTES.some((p) => key.startsWith(p))) {
    const open = key.indexOf("[");
    if (key.endsWith("]") && open > 0 && open < key.length - 2) return null;
    return `bad key (${key}): should have format a[b]`;
  }
  return `unknown attribute: ${key}`;
}

function portProblem(value: string): string | null {
  if (!/^\d+$/.test(value) || Number(value) > 65535) return `bad port (${value}): must be a number in 0..65535`;
  return null;
}

/**
 * Paths may use Envoy's URI-template segments `{*}` (one segment) and `{**}` (any number); a
 * segment holding `{`/`}` otherwise, or a `*` glob next to a template, is rejected as in Istio.
 */
export function pathTemplateProblem(path: string): string | null {
  const segments = path.split("/");
  const templated = segments.some((s) => s === "{*}" || s === "{**}");
  for (const seg of segments) {
    if (seg === "{*}" || seg === "{**}") continue;
    if (/[{}]/.test(seg)) return "contains '{' or '}' beyond a supported path template";
    if (seg.includes("*") && templated) return "contains '*' beyond a supported path template";
  }
  return null;
}
