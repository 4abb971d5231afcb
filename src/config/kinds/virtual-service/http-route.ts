// One HTTPRoute: conflicts between its actions, its matches, and each action's own rules.
import { checkDuration } from "../../checks/duration.ts";
import { checkKnownFields } from "../../checks/fields.ts";
import { checkHeaderOperations, isAuthorityHeader } from "../../checks/headers.ts";
import { isDns1123Label } from "../../checks/host.ts";
import { readNumber, readArray, readInt, readObject, readString, UINT32 } from "../../checks/shape.ts";
import type { FieldPath, JsonObject } from "../../../model/resource.ts";
import { checkCors, checkDirectResponse, checkFault, checkRedirect, checkRetries, checkRewrite } from "./actions.ts";
import type { VsContext } from "./context.ts";
import { checkDestination, checkRouteDestinations } from "./destination.ts";
import { checkHttpMatches, uriMatches } from "./match.ts";

export const HTTP_ROUTE_FIELDS = [
  "name", "match", "route", "redirect", "directResponse", "delegate", "rewrite", "timeout", "retries", "fault",
  "mirror", "mirrors", "mirrorPercent", "mirrorPercentage", "corsPolicy", "headers",
] as const;

function present(x: unknown): boolean {
  return x !== undefined && x !== null;
}

export function checkHttpRoute(ctx: VsContext, path: FieldPath, r: JsonObject): void {
  const { v } = ctx;
  checkKnownFields(v, path, r, HTTP_ROUTE_FIELDS);
  const name = readString(v, [...path, "name"], r.name) ?? "";
  const hasRoute = Array.isArray(r.route) && r.route.length > 0;
  const isRoot = !ctx.isDelegate && present(r.delegate);
  checkConflicts(ctx, path, r, name, hasRoute, isRoot);

  const matches = checkHttpMatches(ctx, [...path, "match"], r.match, ctx.isDelegate);
  const headers = checkHeaderOperations(v, [...path, "headers"], r.headers);
  const cors = readObject(v, [...path, "corsPolicy"], r.corsPolicy);
  if (cors) checkCors(v, [...path, "corsPolicy"], cors);
  const fault = readObject(v, [...path, "fault"], r.fault);
  if (fault) checkFault(v, [...path, "fault"], fault);
  checkMirrors(ctx, path, r);
  const redirect = readObject(v, [...path, "redirect"], r.redirect);
  if (redirect) checkRedirect(v, [...path, "redirect"], redirect, uriMatches(matches));
  const retries = readObject(v, [...path, "retries"], r.retries);
  if (retries) checkRetries(v, [...path, "retries"], retries);
  const rewrite = readObject(v, [...path, "rewrite"], r.rewrite);
  if (rewrite) checkRewrite(v, [...path, "rewrite"], rewrite);
  // The authority may be rewritten in one place only: rewrite.authority or a request header edit.
  let authority = rewrite && typeof rewrite.authority === "string" ? rewrite.authority : "";
  for (const op of ["set", "add"] as const) {
    for (const [k, val] of Object.entries(headers?.request?.[op] ?? {})) {
      if (!isAuthorityHeader(k)) continue;
      if (authority !== "") {
        v.error([...path, "headers", "request", op, k], `authority header cannot be set multiple times: have ${JSON.stringify(authority)}, attempting to set ${JSON.stringify(val)}`);
        break;
      }
      authority = val;
    }
  }
  checkRouteDestinations(v, [...path, "route"], r.route, true);
  const direct = readObject(v, [...path, "directResponse"], r.directResponse);
  if (direct) checkDirectResponse(v, [...path, "directResponse"], direct);
  if (present(r.timeout)) checkDuration(v, [...path, "timeout"], r.timeout);
  const delegate = readObject(v, [...path, "delegate"], r.delegate);
  if (delegate) {
    checkKnownFields(v, [...path, "delegate"], delegate, ["name", "namespace"]);
    const dn = readString(v, [...path, "delegate", "name"], delegate.name) ?? "";
    if (dn === "") v.error([...path, "delegate", "name"], "delegate name is required");
    const dns = readString(v, [...path, "delegate", "namespace"], delegate.namespace);
    if (dns && !isDns1123Label(dns)) v.error([...path, "delegate", "namespace"], `invalid delegate namespace ${JSON.stringify(dns)}`);
  }
}

function checkConflicts(ctx: VsContext, path: FieldPath, r: JsonObject, name: string, hasRoute: boolean, isRoot: boolean): void {
  const { v } = ctx;
  if (isRoot) {
    if (present(r.redirect)) v.error([...path, "redirect"], `root HTTP route ${name} must not specify redirect`);
    if (present(r.route)) v.error([...path, "route"], `root HTTP route ${name} must not specify route`);
    return;
  }
  if (ctx.isDelegate && present(r.delegate)) v.error([...path, "delegate"], "delegate HTTP route cannot contain delegate");
  if (present(r.redirect)) {
    if (hasRoute) v.error(path, "HTTP route cannot contain both route and redirect");
    if (present(r.fault)) v.error(path, "HTTP route cannot contain both fault and redirect");
    if (present(r.rewrite)) v.error(path, "HTTP route rule cannot contain both rewrite and redirect");
    if (present(r.directResponse)) v.error(path, "HTTP route cannot contain both redirect and direct_response");
  } else if (present(r.directResponse)) {
    if (hasRoute) v.error(path, "HTTP route cannot contain both route and direct_response");
    if (present(r.fault)) v.error(path, "HTTP route cannot contain both fault and direct_response");
    if (present(r.rewrite)) v.error(path, "HTTP route rule cannot contain both rewrite and direct_response");
  } else if (!hasRoute) {
    v.error(path, "HTTP route, redirect or direct_response is required");
  }
}

function checkMirrors(ctx: VsContext, path: FieldPath, r: JsonObject): void {
  const { v } = ctx;
  if (present(r.mirror) && present(r.mirrors)) v.error(path, "HTTP route cannot contain both mirror and mirrors");
  if (present(r.mirror)) checkDestination(v, [...path, "mirror"], r.mirror);
  if (present(r.mirrorPercent)) {
    v.deprecated([...path, "mirrorPercent"], 'using deprecated setting "mirrorPercent", use "mirrorPercentage" instead');
    const p = readInt(v, [...path, "mirrorPercent"], r.mirrorPercent, UINT32);
    if (p !== undefined && p > 100) v.error([...path, "mirrorPercent"], `mirror_percent must have a max value of 100 (it has ${p})`);
  }
  const mp = readObject(v, [...path, "mirrorPercentage"], r.mirrorPercentage);
  if (mp) {
    checkKnownFields(v, [...path, "mirrorPercentage"], mp, ["value"]);
    const val = readNumber(v, [...path, "mirrorPercentage", "value"], mp.value) ?? 0;
    if (val > 100) v.error([...path, "mirrorPercentage", "value"], `mirror_percentage must have a max value of 100 (it has ${val.toFixed(6)})`);
    if (val < 0) v.error([...path, "mirrorPercentage", "value"], `mirror_percentage must have a min value of 0 (it has ${val.toFixed(6)})`);
  }
  const mirrors = readArray(v, [...path, "mirrors"], r.mirrors);
  mirrors?.forEach((m, i) => {
    const at = [...path, "mirrors", i];
    if (m === null) {
      v.error(at, "mirror cannot be null");
      return;
    }
    const obj = readObject(v, at, m);
    if (!obj) return;
    checkKnownFields(v, at, obj, ["destination", "percentage"]);
    if (!present(obj.destination)) {
      v.error(at, "destination is required for mirrors");
      return;
    }
    checkDestination(v, [...at, "destination"], obj.destination);
    const pct = readObject(v, [...at, "percentage"], obj.percentage);
    if (pct) {
      const val = readNumber(v, [...at, "percentage", "value"], pct.value) ?? 0;
      if (val > 100) v.error([...at, "percentage", "value"], `mirror percentage must have a max value of 100 (it has ${val.toFixed(6)})`);
      if (val < 0) v.error([...at, "percentage", "value"], `mirror percentage must have a min value of 0 (it has ${val.toFixed(6)})`);
    }
  });
}
