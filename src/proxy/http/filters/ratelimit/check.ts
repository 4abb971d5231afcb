// The shapes a pushed `ratelimit` config (listener-level) and a route's `rateLimits` must have:
// anything else NACKs the config with a clear message instead of failing on the request path.
import type { GlobalRateLimitConfig, RateLimitPolicy, RouteRateLimits } from "../../../../model/rate-limit.ts";
import { compileConditions } from "../../../router/route-conditions.ts";

function fail(message: string): never {
  throw new Error(message);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

export function checkGlobalRateLimit(config: unknown): asserts config is GlobalRateLimitConfig {
  if (typeof config !== "object" || config === null) fail("ratelimit config must be an object with domain and cluster");
  const c = config as Record<string, unknown>;
  if (typeof c.domain !== "string" || c.domain === "") fail("domain: required");
  if (typeof c.cluster !== "string" || c.cluster === "") fail("cluster: required (the rate-limit service's cluster)");
  if (c.authority !== undefined && (typeof c.authority !== "string" || c.authority === "")) fail("authority: a non-empty string");
  if (!isInt(c.stage, 0, 10)) fail("stage: an integer from 0 to 10");
  if (!isInt(c.timeoutMs, 0, 2 ** 31 - 1)) fail("timeoutMs: an integer of milliseconds (0: no deadline)");
  for (const k of ["failureModeDeny", "rateLimitedAsResourceExhausted", "xRateLimitHeaders"]) if (typeof c[k] !== "boolean") fail(`${k}: true or false`);
  if (c.rateLimits !== undefined) checkPolicies(c.rateLimits, "rateLimits");
}

const KEY = /^[^\0\r\n]+$/;

export function checkPolicies(v: unknown, at: string): asserts v is RateLimitPolicy[] {
  if (!Array.isArray(v)) fail(`${at}: a list`);
  v.forEach((p: unknown, i) => {
    const here = `${at}[${i}]`;
    const o = p as Record<string, unknown> | null;
    if (o === null || typeof o !== "object") fail(`${here}: an object`);
    if (!isInt(o.stage, 0, 10)) fail(`${here}.stage: an integer from 0 to 10`);
    if (!Array.isArray(o.actions) || o.actions.length === 0) fail(`${here}.actions: a non-empty list`);
    if (o.limit !== undefined) {
      const l = o.limit as Record<string, unknown> | null;
      if (l === null || typeof l !== "object" || !isInt(l.requestsPerUnit, 0, 0xffffffff) || !["SECOND", "MINUTE", "HOUR", "DAY"].includes(l.unit as string)) fail(`${here}.limit: requestsPerUnit (an integer) and unit SECOND, MINUTE, HOUR or DAY`);
    }
    o.actions.forEach((a: unknown, j) => {
      const aat = `${here}.actions[${j}]`;
      const b = a as Record<string, unknown> | null;
      if (b === null || typeof b !== "object") fail(`${aat}: an object`);
      switch (b.kind) {
        case "request_headers":
          if (typeof b.headerName !== "string" || b.headerName === "" || typeof b.descriptorKey !== "string" || !KEY.test(b.descriptorKey) || typeof b.skipIfAbsent !== "boolean") fail(`${aat}: headerName, descriptorKey and skipIfAbsent`);
          break;
        case "remote_address":
        case "destination_cluster":
          break;
        case "generic_key":
          if (typeof b.descriptorKey !== "string" || !KEY.test(b.descriptorKey) || typeof b.descriptorValue !== "string") fail(`${aat}: descriptorKey and descriptorValue`);
          break;
        case "header_value_match":
          if (typeof b.descriptorKey !== "string" || !KEY.test(b.descriptorKey) || typeof b.descriptorValue !== "string" || typeof b.expectMatch !== "boolean" || !Array.isArray(b.headers)) {
            fail(`${aat}: descriptorKey, descriptorValue, expectMatch and headers`);
          }
          try {
            compileConditions({ headers: b.headers as never, queryParams: [], ignoreUriCase: false });
          } catch (e) {
            fail(`${aat}.headers: ${(e as Error).message}`);
          }
          break;
        case "metadata":
          if (typeof b.descriptorKey !== "string" || !KEY.test(b.descriptorKey) || !Array.isArray(b.path) || b.path.length === 0 || !b.path.every((k) => typeof k === "string" && k !== "") || typeof b.defaultValue !== "string" || typeof b.skipIfAbsent !== "boolean") {
            fail(`${aat}: descriptorKey, path (non-empty names), defaultValue and skipIfAbsent`);
          }
          break;
        case "source_principal":
          if (typeof b.descriptorKey !== "string" || !KEY.test(b.descriptorKey)) fail(`${aat}: descriptorKey`);
          break;
        default:
          fail(`${aat}.kind: one of request_headers, remote_address, generic_key, header_value_match, destination_cluster, metadata, source_principal`);
      }
    });
  });
}

/** A route's `rateLimits` (Route.rateLimits). */
export function checkRouteRateLimits(v: unknown): asserts v is RouteRateLimits {
  if (typeof v !== "object" || v === null) fail(": an object with route and virtualHost lists");
  const o = v as Record<string, unknown>;
  checkPolicies(o.route, ".route");
  checkPolicies(o.virtualHost, ".virtualHost");
}
