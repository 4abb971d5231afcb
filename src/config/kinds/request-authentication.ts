// RequestAuthentication (security.istio.io): which JWTs a workload accepts (issuer, JWKS, where the
// token is read from). Rules: the CRD schema and CEL rules, and Istio's Go validator (issuer
// required, JWKS URI scheme, inline JWKS must parse).
import { readCelDuration } from "../checks/cel-duration.ts";
import { readArray, readBool, readEnum, readObjectItem, readString, readStringList, required, warnUnknownFields } from "../checks/json-shape.ts";
import { checkPolicyTargets } from "../checks/policy-target.ts";
import { isObject, type FieldPath, type JsonObject, type Resource } from "../../model/resource.ts";
import type { JWTPresence } from "../../model/specs/security.ts";
import type { Validator } from "../validator.ts";
import { ISTIO_SECURITY_VERSIONS, type KindDefinition } from "./kind.ts";

const JWT_RULE_FIELDS = [
  "issuer", "audiences", "jwksUri", "jwks_uri", "jwks", "fromHeaders", "fromParams", "fromCookies", "outputPayloadToHeader",
  "forwardOriginalToken", "outputClaimToHeaders", "timeout", "spaceDelimitedClaims", "presence",
];
const HEADER_NAME = /^[-_A-Za-z0-9]+$/;
const PRESENCE: readonly JWTPresence[] = ["OPTIONAL", "REQUIRED"];

export const requestAuthenticationKind: KindDefinition = {
  group: "security.istio.io",
  kind: "RequestAuthentication",
  versions: ISTIO_SECURITY_VERSIONS,
  namespaced: true,
  validate(r: Resource, v: Validator): void {
    const spec = isObject(r.body.spec) ? r.body.spec : {};
    warnUnknownFields(v, ["spec"], spec, ["selector", "targetRef", "targetRefs", "jwtRules"]);
    checkPolicyTargets(v, spec);
    const rules = readArray(v, ["spec", "jwtRules"], spec.jwtRules);
    if (!rules) return;
    if (rules.length > 4096) v.error(["spec", "jwtRules"], "must have at most 4096 items");
    rules.forEach((item, i) => {
      const rule = readObjectItem(v, ["spec", "jwtRules", i], item);
      if (rule) checkJwtRule(v, ["spec", "jwtRules", i], rule);
    });
  },
};

function checkJwtRule(v: Validator, path: FieldPath, rule: JsonObject): void {
  warnUnknownFields(v, path, rule, JWT_RULE_FIELDS);
  const at = (...p: (string | number)[]): FieldPath => [...path, ...p];
  if (rule.issuer === undefined || rule.issuer === null) v.error(at("issuer"), "issuer must be set");
  else readString(v, at("issuer"), rule.issuer, { nonEmpty: true });
  readStringList(v, at("audiences"), rule.audiences, { nonEmpty: true });

  const sources = ["jwksUri", "jwks_uri", "jwks"].filter((k) => rule[k] !== undefined && rule[k] !== null);
  if (sources.length > 1) v.error(path, `only one of jwks or jwksUri can be set (found ${sources.join(" and ")})`);
  for (const key of ["jwksUri", "jwks_uri"]) {
    const uri = readString(v, at(key), rule[key], { nonEmpty: true, maxLength: 2048 });
    if (uri !== undefined && !hasHttpScheme(uri)) v.error(at(key), `url must have scheme http:// or https:// (got ${JSON.stringify(uri)})`);
  }
  const jwks = readString(v, at("jwks"), rule.jwks);
  if (jwks !== undefined) {
    const problem = jwksProblem(jwks);
    if (problem) v.error(at("jwks"), `jwks parse error: ${problem}`);
  }

  const headers = readArray(v, at("fromHeaders"), rule.fromHeaders);
  headers?.forEach((item, i) => {
    const h = readObjectItem(v, at("fromHeaders", i), item);
    if (!h) return;
    warnUnknownFields(v, at("fromHeaders", i), h, ["name", "prefix"]);
    if (required(v, at("fromHeaders", i, "name"), h.name)) readString(v, at("fromHeaders", i, "name"), h.name, { nonEmpty: true });
    readString(v, at("fromHeaders", i, "prefix"), h.prefix);
  });
  readStringList(v, at("fromParams"), rule.fromParams, { nonEmpty: true });
  readStringList(v, at("fromCookies"), rule.fromCookies, { nonEmpty: true });
  readString(v, at("outputPayloadToHeader"), rule.outputPayloadToHeader);
  readBool(v, at("forwardOriginalToken"), rule.forwardOriginalToken);

  const claims = readArray(v, at("outputClaimToHeaders"), rule.outputClaimToHeaders);
  claims?.forEach((item, i) => {
    const c = readObjectItem(v, at("outputClaimToHeaders", i), item);
    if (!c) return;
    warnUnknownFields(v, at("outputClaimToHeaders", i), c, ["header", "claim"]);
    if (required(v, at("outputClaimToHeaders", i, "claim"), c.claim)) readString(v, at("outputClaimToHeaders", i, "claim"), c.claim, { nonEmpty: true });
    if (required(v, at("outputClaimToHeaders", i, "header"), c.header)) readString(v, at("outputClaimToHeaders", i, "header"), c.header, { nonEmpty: true, pattern: HEADER_NAME });
  });

  readCelDuration(v, at("timeout"), rule.timeout);
  readStringList(v, at("spaceDelimitedClaims"), rule.spaceDelimitedClaims, { nonEmpty: true, maxItems: 64 });
  readEnum(v, at("presence"), rule.presence, PRESENCE);
}

function hasHttpScheme(uri: string): boolean {
  try {
    const u = new URL(uri);
    return (u.protocol === "http:" || u.protocol === "https:") && u.host !== "";
  } catch {
    return false;
  }
}

/** Why an inline JWKS is not a JSON Web Key Set, or null when it looks like one. */
export function jwksProblem(text: string): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (!isObject(parsed) || !Array.isArray(parsed.keys)) return 'expected an object with a "keys" array';
  if (parsed.keys.length === 0) return "the key set is empty";
  for (const [i, k] of parsed.keys.entries()) {
    if (!isObject(k) || typeof k.kty !== "string") return `keys[${i}] has no "kty"`;
  }
  return null;
}
