// A RouteMatch compiled into a list of conditions, all of which must hold. Each condition is a
// pair of closures built once per route: `test` for the hot path and `failure` for `amime
// explain`, which says which condition failed and what the request had instead.

import type { HeaderMatcher, QueryParamMatcher, RouteMatch, StringMatch } from "../../model/proxy-config.ts";
import type { MatchContext } from "./match-context.ts";
import { JWT_METADATA, type RequestView } from "./request-view.ts";
import { RouterError } from "./router-error.ts";
import { compileStringMatch, describeStringMatch } from "./string-matcher.ts";

export interface Condition {
  test(ctx: MatchContext): boolean;
  /** Why the condition does not hold for this request, e.g. `header end-user: expected exact "jason", got "mary"`. */
  failure(ctx: MatchContext): string;
}

export function compileConditions(match: RouteMatch): Condition[] {
  const out: Condition[] = [];
  if (match.uri !== undefined) out.push(uriCondition(match.uri, match.ignoreUriCase));
  if (match.scheme !== undefined) out.push(fieldCondition("scheme", match.scheme, (r) => r.scheme));
  if (match.method !== undefined) out.push(fieldCondition("method", match.method, (r) => r.method));
  if (match.authority !== undefined) out.push(fieldCondition("authority", match.authority, (r) => r.authority));
  if (match.port !== undefined) out.push(portCondition(match.port));
  for (const h of match.headers) out.push(headerCondition(h));
  for (const q of match.queryParams) out.push(queryCondition(q));
  return out;
}

function show(value: string | undefined): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function uriCondition(m: StringMatch, ignoreCase: boolean): Condition {
  const test = compileStringMatch(m, ignoreCase);
  const what = describeStringMatch(m, ignoreCase);
  return {
    test: (ctx) => test(ctx.uriPath()),
    failure: (ctx) => `uri: expected ${what}, got ${show(ctx.uriPath())}`,
  };
}

function fieldCondition(label: string, m: StringMatch, get: (r: RequestView) => string): Condition {
  const test = compileStringMatch(m);
  const what = describeStringMatch(m);
  return {
    test: (ctx) => test(get(ctx.req)),
    failure: (ctx) => `${label}: expected ${what}, got ${show(get(ctx.req))}`,
  };
}

function portCondition(port: number): Condition {
  return {
    test: (ctx) => ctx.req.port === port,
    failure: (ctx) => `port: expected ${port}, got ${ctx.req.port}`,
  };
}

/** Pseudo-headers read the request fields; everything else goes through header(name). */
function headerGetter(name: string): (r: RequestView) => string | undefined {
  switch (name) {
    case ":authority":
      return (r) => r.authority;
    case ":method":
      return (r) => r.method;
    case ":path":
      return (r) => r.path;
    case ":scheme":
      return (r) => r.scheme;
    default:
      return (r) => r.header(name);
  }
}

/**
 * Envoy HeaderUtility::matchHeaders: a missing header matches only when inverted
 * (so `withoutHeaders` on an absent header matches); a present header matches when the value
 * matches (or any value with no match), XOR invert.
 */
function headerCondition(h: HeaderMatcher): Condition {
  if (h.claim !== undefined) return claimCondition(h, h.claim);
  const name = h.name.toLowerCase();
  const get = headerGetter(name);
  const invert = h.invert;
  const valueTest = h.match === undefined ? undefined : compileStringMatch(h.match);
  const label = `${invert ? "without header" : "header"} ${name}`;
  const expected = h.match === undefined ? "present" : describeStringMatch(h.match);
  const test = (ctx: MatchContext): boolean => {
    const v = get(ctx.req);
    if (v === undefined) return invert;
    const hit = valueTest === undefined ? true : valueTest(v);
    return hit !== invert;
  };
  return {
    test,
    failure: (ctx) => {
      const v = get(ctx.req);
      if (invert) return `${label}: expected not ${expected}, got ${show(v)}`;
      return `${label}: expected ${expected}, got ${show(v)}`;
    },
  };
}

/** Envoy QueryParameterMatcher: the parameter must be present; its first value must match. */
function queryCondition(q: QueryParamMatcher): Condition {
  const name = q.name;
  const valueTest = q.match === undefined ? undefined : compileStringMatch(q.match);
  const expected = q.match === undefined ? "present" : describeStringMatch(q.match);
  return {
    test: (ctx) => {
      const v = ctx.queryParam(name);
      if (v === undefined) return false;
      return valueTest === undefined ? true : valueTest(v);
    },
    failure: (ctx) => `query ${name}: expected ${expected}, got ${show(ctx.queryParam(name))}`,
  };
}

/** The claim at `path` of the request's verified JWTs: strings (a list claim gives its strings), undefined when absent. */
export function claimValues(r: RequestView, path: readonly string[]): string[] | undefined {
  const jwts = r.metadata?.get(JWT_METADATA) as ReadonlyArray<{ payload: Record<string, unknown> }> | undefined;
  if (jwts === undefined) return undefined;
  for (const jwt of jwts) {
    let v: unknown = jwt.payload;
    for (const part of path) v = v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined;
    if (typeof v === "string") return [v];
    if (typeof v === "number" || typeof v === "boolean") return [String(v)];
    if (Array.isArray(v)) return v.filter((e): e is string => typeof e === "string");
  }
  return undefined;
}

/**
 * A JWT claim matcher (Istio's `@request.auth.claims.*` at gateways, Envoy's dynamic metadata match
 * on jwt_authn's payload): a string claim matches its value, a list claim when one element does; an
 * absent claim (or no verified token) matches only when inverted.
 */
function claimCondition(h: HeaderMatcher, path: readonly string[]): Condition {
  if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === "string" && p !== "")) {
    throw new RouterError("ROUTER_BAD_MATCH", `header ${JSON.stringify(h.name)}: claim must be a non-empty list of claim names`);
  }
  const valueTest = h.match === undefined ? undefined : compileStringMatch(h.match);
  const invert = h.invert;
  const label = `${invert ? "without claim" : "claim"} ${path.join(".")}`;
  const expected = h.match === undefined ? "present" : describeStringMatch(h.match);
  return {
    test: (ctx) => {
      const vs = claimValues(ctx.req, path);
      if (vs === undefined) return invert;
      const hit = valueTest === undefined ? true : vs.some(valueTest);
      return hit !== invert;
    },
    failure: (ctx) => {
      const vs = claimValues(ctx.req, path);
      return `${label}: expected ${invert ? "not " : ""}${expected}, got ${vs === undefined ? "nothing" : JSON.stringify(vs.length === 1 ? vs[0] : vs)}`;
    },
  };
}
