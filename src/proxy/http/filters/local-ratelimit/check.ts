// The shape a pushed local_ratelimit config must have (listener-level or per-route): anything
// else NACKs the config with a clear message instead of failing on the request path.
import type { LocalRateLimitConfig } from "../../../../model/rate-limit.ts";
import { checkPolicies } from "../ratelimit/check.ts";

function fail(message: string): never {
  throw new Error(message);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

export function checkLocalRateLimit(config: unknown): asserts config is LocalRateLimitConfig | undefined {
  if (config === undefined) return;
  if (typeof config !== "object" || config === null) fail("local_ratelimit config must be an object");
  const c = config as Record<string, unknown>;
  if (typeof c.statPrefix !== "string" || c.statPrefix === "") fail("statPrefix: required");
  if (!isInt(c.enabledPerMillion, 0, 1_000_000)) fail("enabledPerMillion: an integer from 0 to 1000000");
  if (!isInt(c.enforcedPerMillion, 0, 1_000_000)) fail("enforcedPerMillion: an integer from 0 to 1000000");
  if (!isInt(c.status, 400, 599)) fail("status: an HTTP status from 400 to 599");
  if (typeof c.xRateLimitHeaders !== "boolean") fail("xRateLimitHeaders: true or false");
  if (!Array.isArray(c.responseHeadersToAdd)) fail("responseHeadersToAdd: a list");
  c.responseHeadersToAdd.forEach((h: unknown, i) => {
    const o = h as Record<string, unknown> | null;
    if (o === null || typeof o !== "object" || typeof o.key !== "string" || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(o.key) || typeof o.value !== "string" || /[\r\n\0]/.test(o.value)) {
      fail(`responseHeadersToAdd[${i}]: a lower-case header name and a value without CR, LF or NUL`);
    }
  });
  if (c.tokenBucket !== undefined) checkBucket(c.tokenBucket, "tokenBucket");
  if (c.rateLimits !== undefined) checkPolicies(c.rateLimits, "rateLimits");
  if (c.maxDynamicDescriptors !== undefined && !isInt(c.maxDynamicDescriptors, 1, 10_000_000)) fail("maxDynamicDescriptors: an integer from 1 to 10000000");
  if (c.descriptors === undefined) return;
  if (!Array.isArray(c.descriptors)) fail("descriptors: a list");
  c.descriptors.forEach((d: unknown, i) => {
    const o = d as Record<string, unknown> | null;
    if (o === null || typeof o !== "object") fail(`descriptors[${i}]: an object`);
    if (!Array.isArray(o.entries) || o.entries.length === 0) fail(`descriptors[${i}].entries: a non-empty list`);
    o.entries.forEach((e: unknown, j) => {
      const en = e as Record<string, unknown> | null;
      if (en === null || typeof en !== "object" || typeof en.key !== "string" || en.key === "" || typeof en.value !== "string") fail(`descriptors[${i}].entries[${j}]: a key and a value ("" matches any value)`);
    });
    checkBucket(o.tokenBucket, `descriptors[${i}].tokenBucket`);
  });
}

function checkBucket(v: unknown, at: string): void {
  const b = v as Record<string, unknown> | null;
  if (b === null || typeof b !== "object") fail(`${at}: an object`);
  if (!isInt(b.maxTokens, 1, 0xffffffff)) fail(`${at}.maxTokens: an integer from 1`);
  if (!isInt(b.tokensPerFill, 1, 0xffffffff)) fail(`${at}.tokensPerFill: an integer from 1`);
  if (!isInt(b.fillIntervalMs, 50, Number.MAX_SAFE_INTEGER)) fail(`${at}.fillIntervalMs: at least 50 (Envoy's minimum)`);
}
