// HTTPMatchRequest: the conditions of an HTTP route (ORed entries, ANDed fields).
import { checkKnownFields } from "../../checks/fields.ts";
import { headerMatchNameError, isJwtClaimHeader } from "../../checks/headers.ts";
import { isDns1123Label } from "../../checks/host.ts";
import { checkPort } from "../../checks/port.ts";
import { checkLabels } from "../../checks/selector.ts";
import { readArray, readBool, readObject, readString, readStringArray } from "../../checks/shape.ts";
import { checkStringMatch } from "../../checks/string-match.ts";
import type { FieldPath } from "../../../model/resource.ts";
import type { StringMatch } from "../../../model/specs/networking.ts";
import type { VsContext } from "./context.ts";
import { checkGatewayNames } from "./gateways.ts";

const MATCH_FIELDS = [
  "name", "uri", "scheme", "method", "authority", "headers", "port", "sourceLabels", "gateways", "queryParams",
  "ignoreUriCase", "withoutHeaders", "sourceNamespace", "statPrefix",
] as const;

/** Whether a StringMatch object uses `regex`. */
function isRegex(x: unknown): boolean {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "regex" in x && (x as { regex?: unknown }).regex != null;
}

/**
 * Validate `match:`. `delegating` is true for the routes of a delegate VirtualService (no hosts),
 * where Istio refuses regex matches because they cannot be merged with the root's matches.
 */
export function checkHttpMatches(ctx: VsContext, path: FieldPath, x: unknown, delegating: boolean): unknown[] {
  const { v } = ctx;
  const list = readArray(v, path, x);
  if (!list) return [];
  list.forEach((item, i) => {
    const at = [...path, i];
    const m = readObject(v, at, item);
    if (!m) return;
    checkKnownFields(v, at, m, MATCH_FIELDS);
    readString(v, [...at, "name"], m.name);
    readString(v, [...at, "statPrefix"], m.statPrefix);
    readBool(v, [...at, "ignoreUriCase"], m.ignoreUriCase);
    // An empty uri prefix means "every path" and is allowed; an empty method/scheme/authority prefix is not.
    const fields: [string, boolean][] = [["uri", true], ["scheme", false], ["method", false], ["authority", false]];
    for (const [f, allowEmptyPrefix] of fields) {
      if (m[f] === undefined || m[f] === null) continue;
      if (delegating && isRegex(m[f])) v.error([...at, f, "regex"], `${f === "uri" ? "url" : f} match does not support regex match for delegating`);
      checkStringMatch(v, [...at, f], m[f], { where: f, allowEmptyPrefix });
    }
    checkHeaderMap(ctx, [...at, "headers"], m.headers, "header match", delegating);
    checkHeaderMap(ctx, [...at, "withoutHeaders"], m.withoutHeaders, "withoutHeaders match", delegating);
    const qp = readObject(v, [...at, "queryParams"], m.queryParams);
    for (const [name, sm] of Object.entries(qp ?? {})) {
      if (sm === null) {
        v.error([...at, "queryParams", name], `query param match ${name} cannot be null`);
        continue;
      }
      if (delegating && isRegex(sm)) v.error([...at, "queryParams", name], `query param match ${name} does not support regex match for delegating`);
      checkStringMatch(v, [...at, "queryParams", name], sm, { where: "queryParams", allowEmptyPrefix: true });
    }
    if (m.port !== undefined && m.port !== null && m.port !== 0) checkPort(v, [...at, "port"], m.port);
    checkLabels(v, [...at, "sourceLabels"], m.sourceLabels);
    const gws = readStringArray(v, [...at, "gateways"], m.gateways);
    if (gws) checkGatewayNames(v, [...at, "gateways"], gws);
    const ns = readString(v, [...at, "sourceNamespace"], m.sourceNamespace);
    if (ns && !isDns1123Label(ns)) v.error([...at, "sourceNamespace"], `sourceNamespace match ${ns} is invalid`);
  });
  return list;
}

function checkHeaderMap(ctx: VsContext, path: FieldPath, x: unknown, what: string, delegating: boolean): void {
  const { v } = ctx;
  const obj = readObject(v, path, x);
  if (!obj) return;
  for (const [name, sm] of Object.entries(obj)) {
    const at = [...path, name];
    if (sm === null) v.error(at, `${what} ${name} cannot be null`);
    const nameErr = headerMatchNameError(name);
    if (nameErr) v.error(at, nameErr);
    if (isJwtClaimHeader(name) && !ctx.appliesToGateway) {
      v.error(at, `JWT claim based routing (key: ${name}) is only supported for gateway, found no gateways: [${ctx.gateways.join(" ")}]`);
    }
    if (sm === null) continue;
    if (delegating && isRegex(sm)) v.error(at, `${what} ${name} does not support regex match for delegating`);
    checkStringMatch(v, at, sm, { where: "headers" });
  }
}

/** The uri StringMatch of each match entry (for redirect.prefixRewrite's "prefix only" rule). */
export function uriMatches(matches: unknown[]): (StringMatch | undefined)[] {
  return matches.map((m) => {
    if (typeof m !== "object" || m === null || Array.isArray(m)) return undefined;
    const uri = (m as Record<string, unknown>).uri;
    return typeof uri === "object" && uri !== null && !Array.isArray(uri) ? (uri as StringMatch) : undefined;
  });
}
