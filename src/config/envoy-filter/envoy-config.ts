// Reading the Envoy protos users write inside EnvoyFilter patches for the two rate-limit filters
// (LocalRateLimit v3, RateLimit v3, route `rate_limits`) into the model (model/rate-limit.ts).
// Each reader returns the model or the list of what it cannot apply (an unknown field, a value
// out of range, a feature the sidecar lacks), each with its field path, so the EnvoyFilter keeps
// its AMM1013 warning saying exactly why. Pure.
import type { HeaderMatcher, StringMatch } from "../../model/proxy-config.ts";
import type { GlobalRateLimitConfig, HeaderToAdd, LocalDescriptor, LocalRateLimitConfig, RateLimitAction, RateLimitPolicy, TokenBucket } from "../../model/rate-limit.ts";

export type Json = unknown;
export interface Problem {
  /** Dotted path below the patch value, e.g. `typed_config.value.token_bucket.fill_interval`. */
  path: string;
  message: string;
}

const LOCAL_TYPE = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
const GLOBAL_TYPE = "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit";
const TYPED_STRUCT = new Set(["type.googleapis.com/udpa.type.v1.TypedStruct", "type.googleapis.com/xds.type.v3.TypedStruct"]);
const LOCAL_FIELDS = new Set(["stat_prefix", "token_bucket", "filter_enabled", "filter_enforced", "response_headers_to_add", "status", "enable_x_ratelimit_headers", "descriptors", "rate_limits", "max_dynamic_descriptors"]);
const GLOBAL_FIELDS = new Set(["domain", "stage", "failure_mode_deny", "timeout", "rate_limit_service", "rate_limited_as_resource_exhausted", "enable_x_ratelimit_headers"]);
const DENOMINATORS: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

function obj(v: Json): Record<string, Json> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : undefined;
}

/** The message inside a typed_config: `@type` LocalRateLimit/RateLimit itself, or a TypedStruct holding it. */
export function unwrapTyped(typed: Json, path: string, problems: Problem[]): { type: "local" | "global"; body: Record<string, Json>; path: string } | undefined {
  const t = obj(typed);
  if (t === undefined) {
    problems.push({ path, message: "must be a typed config object" });
    return undefined;
  }
  const atType = t["@type"];
  if (typeof atType === "string" && TYPED_STRUCT.has(atType)) {
    const url = t.type_url;
    const kind = url === LOCAL_TYPE ? "local" : url === GLOBAL_TYPE ? "global" : undefined;
    if (kind === undefined) {
      problems.push({ path: `${path}.type_url`, message: `not a rate-limit filter config: ${JSON.stringify(url)}` });
      return undefined;
    }
    return { type: kind, body: obj(t.value) ?? {}, path: `${path}.value` };
  }
  const kind = atType === LOCAL_TYPE ? "local" : atType === GLOBAL_TYPE ? "global" : undefined;
  if (kind === undefined) {
    problems.push({ path: `${path}.@type`, message: `not a rate-limit filter config: ${JSON.stringify(atType)}` });
    return undefined;
  }
  const body: Record<string, Json> = {};
  for (const [k, v] of Object.entries(t)) if (k !== "@type") body[k] = v;
  return { type: kind, body, path };
}

function unknownFields(body: Record<string, Json>, known: Set<string>, path: string, problems: Problem[]): void {
  for (const k of Object.keys(body)) if (!known.has(k)) problems.push({ path: `${path}.${k}`, message: `${k} is not applied by the sidecar` });
}

/** A google.protobuf.Duration as JSON ("60s", "0.5s") or as {seconds, nanos}; milliseconds. */
export function durationMs(v: Json, path: string, problems: Problem[]): number | undefined {
  if (typeof v === "string") {
    const m = /^(\d+(?:\.\d+)?)s$/.exec(v);
    if (m) return Math.round(Number(m[1]) * 1000);
  } else if (obj(v) !== undefined) {
    const o = obj(v)!;
    const s = Number(o.seconds ?? 0);
    const n = Number(o.nanos ?? 0);
    if (Number.isFinite(s) && Number.isFinite(n) && s >= 0 && n >= 0) return Math.round(s * 1000 + n / 1e6);
  }
  problems.push({ path, message: `must be a duration such as "60s", not ${JSON.stringify(v)}` });
  return undefined;
}

function uint(v: Json, path: string, problems: Problem[], min = 0): number | undefined {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n === "number" && Number.isInteger(n) && n >= min && n <= 0xffffffff) return n;
  problems.push({ path, message: `must be an integer from ${min} to 4294967295` });
  return undefined;
}

/** RuntimeFractionalPercent → per million (the runtime key is accepted; there is no runtime layer). */
function fraction(v: Json, path: string, problems: Problem[]): number {
  const o = obj(v);
  if (o === undefined) return 0;
  const d = obj(o.default_value) ?? {};
  const numerator = d.numerator === undefined ? 0 : uint(d.numerator, `${path}.default_value.numerator`, problems);
  const denom = DENOMINATORS[String(d.denominator ?? "HUNDRED")];
  if (denom === undefined) problems.push({ path: `${path}.default_value.denominator`, message: "must be HUNDRED, TEN_THOUSAND or MILLION" });
  if (numerator === undefined || denom === undefined) return 0;
  return Math.min(1_000_000, Math.round((numerator * 1_000_000) / denom));
}

function tokenBucket(v: Json, path: string, problems: Problem[]): TokenBucket | undefined {
  const o = obj(v);
  if (o === undefined) return undefined;
  unknownFields(o, new Set(["max_tokens", "tokens_per_fill", "fill_interval"]), path, problems);
  const maxTokens = uint(o.max_tokens, `${path}.max_tokens`, problems, 1);
  const tokensPerFill = o.tokens_per_fill === undefined ? 1 : uint(o.tokens_per_fill, `${path}.tokens_per_fill`, problems, 1);
  const fillIntervalMs = durationMs(o.fill_interval, `${path}.fill_interval`, problems);
  // Envoy refuses a fill interval under 50 ms.
  if (fillIntervalMs !== undefined && fillIntervalMs < 50) problems.push({ path: `${path}.fill_interval`, message: "must be at least 50ms (Envoy's minimum)" });
  if (maxTokens === undefined || tokensPerFill === undefined || fillIntervalMs === undefined || fillIntervalMs < 50) return undefined;
  return { maxTokens, tokensPerFill, fillIntervalMs };
}

function headersToAdd(v: Json, path: string, problems: Problem[]): HeaderToAdd[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push({ path, message: "must be a list" });
    return [];
  }
  const out: HeaderToAdd[] = [];
  v.forEach((item, i) => {
    const o = obj(item) ?? {};
    const h = obj(o.header) ?? {};
    if (typeof h.key !== "string" || h.key === "") return problems.push({ path: `${path}[${i}].header.key`, message: "must be a header name" });
    const action = o.append_action;
    const append = action !== undefined ? action === "APPEND_IF_EXISTS_OR_ADD" : o.append !== false;
    out.push({ key: h.key.toLowerCase(), value: String(h.value ?? ""), append });
  });
  return out;
}

/** Envoy's stage: 0 to 10. */
function stageOf(v: Json, path: string, problems: Problem[]): number {
  if (v === undefined) return 0;
  const n = uint(v, path, problems);
  if (n !== undefined && n > 10) problems.push({ path, message: "must be at most 10" });
  return n === undefined || n > 10 ? 0 : n;
}

function xrlHeaders(v: Json, path: string, problems: Problem[]): boolean {
  if (v !== undefined && v !== "OFF" && v !== "DRAFT_VERSION_03") problems.push({ path, message: "must be OFF or DRAFT_VERSION_03" });
  return v === "DRAFT_VERSION_03";
}

export function localRateLimit(body: Record<string, Json>, path: string, problems: Problem[]): LocalRateLimitConfig {
  unknownFields(body, LOCAL_FIELDS, path, problems);
  if (typeof body.stat_prefix !== "string" || body.stat_prefix === "") problems.push({ path: `${path}.stat_prefix`, message: "is required" });
  const status = obj(body.status);
  const code = status === undefined ? 429 : uint(status.code, `${path}.status.code`, problems, 400);
  const out: LocalRateLimitConfig = {
    statPrefix: typeof body.stat_prefix === "string" ? body.stat_prefix : "",
    enabledPerMillion: fraction(body.filter_enabled, `${path}.filter_enabled`, problems),
    enforcedPerMillion: fraction(body.filter_enforced, `${path}.filter_enforced`, problems),
    responseHeadersToAdd: headersToAdd(body.response_headers_to_add, `${path}.response_headers_to_add`, problems),
    status: code ?? 429,
    xRateLimitHeaders: xrlHeaders(body.enable_x_ratelimit_headers, `${path}.enable_x_ratelimit_headers`, problems),
  };
  const bucket = tokenBucket(body.token_bucket, `${path}.token_bucket`, problems);
  if (bucket !== undefined) out.tokenBucket = bucket;
  if (body.rate_limits !== undefined) out.rateLimits = rateLimitPolicies(body.rate_limits, `${path}.rate_limits`, problems);
  if (body.descriptors !== undefined) out.descriptors = localDescriptors(body.descriptors, `${path}.descriptors`, problems);
  if (body.max_dynamic_descriptors !== undefined) {
    const n = uint(body.max_dynamic_descriptors, `${path}.max_dynamic_descriptors`, problems, 1);
    if (n !== undefined) out.maxDynamicDescriptors = Math.min(n, 10_000_000);
  }
  return out;
}

/** LocalRateLimit.descriptors: entries (value "" matches any value) and a token bucket each. */
function localDescriptors(v: Json, path: string, problems: Problem[]): LocalDescriptor[] {
  if (!Array.isArray(v)) {
    problems.push({ path, message: "must be a list" });
    return [];
  }
  return v.flatMap((item, i) => {
    const o = obj(item) ?? {};
    const here = `${path}[${i}]`;
    unknownFields(o, new Set(["entries", "token_bucket"]), here, problems);
    const entries = (Array.isArray(o.entries) ? o.entries : []).map((e) => obj(e) ?? {});
    if (entries.length === 0 || entries.some((e) => typeof e.key !== "string" || e.key === "" || (e.value !== undefined && typeof e.value !== "string"))) {
      problems.push({ path: `${here}.entries`, message: "needs entries, each with a key and a string value (empty: any value)" });
      return [];
    }
    const bucket = tokenBucket(o.token_bucket, `${here}.token_bucket`, problems);
    if (bucket === undefined) {
      if (o.token_bucket === undefined) problems.push({ path: `${here}.token_bucket`, message: "is required" });
      return [];
    }
    return [{ entries: entries.map((e) => ({ key: e.key as string, value: (e.value as string | undefined) ?? "" })), tokenBucket: bucket }];
  });
}

export function globalRateLimit(body: Record<string, Json>, path: string, problems: Problem[]): GlobalRateLimitConfig {
  unknownFields(body, GLOBAL_FIELDS, path, problems);
  if (typeof body.domain !== "string" || body.domain === "") problems.push({ path: `${path}.domain`, message: "is required" });
  const svc = obj(body.rate_limit_service) ?? {};
  const grpc = obj(svc.grpc_service) ?? {};
  const envoyGrpc = obj(grpc.envoy_grpc);
  if (envoyGrpc === undefined || typeof envoyGrpc.cluster_name !== "string" || envoyGrpc.cluster_name === "") {
    problems.push({ path: `${path}.rate_limit_service.grpc_service.envoy_grpc.cluster_name`, message: "is required (the sidecar calls the service through one of its clusters)" });
  }
  if (svc.transport_api_version !== undefined && svc.transport_api_version !== "V3") problems.push({ path: `${path}.rate_limit_service.transport_api_version`, message: "must be V3" });
  const out: GlobalRateLimitConfig = {
    domain: typeof body.domain === "string" ? body.domain : "",
    stage: stageOf(body.stage, `${path}.stage`, problems),
    failureModeDeny: body.failure_mode_deny === true,
    timeoutMs: body.timeout === undefined ? 20 : (durationMs(body.timeout, `${path}.timeout`, problems) ?? 20),
    rateLimitedAsResourceExhausted: body.rate_limited_as_resource_exhausted === true,
    xRateLimitHeaders: xrlHeaders(body.enable_x_ratelimit_headers, `${path}.enable_x_ratelimit_headers`, problems),
    cluster: typeof envoyGrpc?.cluster_name === "string" ? envoyGrpc.cluster_name : "",
  };
  if (typeof envoyGrpc?.authority === "string" && envoyGrpc.authority !== "") out.authority = envoyGrpc.authority;
  return out;
}

/** A route's or virtual host's `rate_limits`. */
export function rateLimitPolicies(v: Json, path: string, problems: Problem[]): RateLimitPolicy[] {
  if (!Array.isArray(v)) {
    problems.push({ path, message: "must be a list" });
    return [];
  }
  return v.map((item, i) => {
    const o = obj(item) ?? {};
    const here = `${path}[${i}]`;
    unknownFields(o, new Set(["stage", "actions"]), here, problems);
    const actions = Array.isArray(o.actions) ? o.actions : [];
    if (actions.length === 0) problems.push({ path: `${here}.actions`, message: "needs at least one action" });
    return { stage: stageOf(o.stage, `${here}.stage`, problems), actions: actions.flatMap((a, j) => action(a, `${here}.actions[${j}]`, problems) ?? []) };
  });
}

function action(v: Json, path: string, problems: Problem[]): RateLimitAction | undefined {
  const o = obj(v) ?? {};
  const keys = Object.keys(o);
  if (keys.length !== 1) {
    problems.push({ path, message: "an action has exactly one kind" });
    return undefined;
  }
  const kind = keys[0]!;
  const a = obj(o[kind]) ?? {};
  const here = `${path}.${kind}`;
  switch (kind) {
    case "request_headers":
      unknownFields(a, new Set(["header_name", "descriptor_key", "skip_if_absent"]), here, problems);
      if (typeof a.header_name !== "string" || typeof a.descriptor_key !== "string") {
        problems.push({ path: here, message: "needs header_name and descriptor_key" });
        return undefined;
      }
      return { kind, headerName: a.header_name.toLowerCase(), descriptorKey: a.descriptor_key, skipIfAbsent: a.skip_if_absent === true };
    case "remote_address":
    case "destination_cluster":
      return { kind };
    case "generic_key":
      unknownFields(a, new Set(["descriptor_value", "descriptor_key"]), here, problems);
      if (typeof a.descriptor_value !== "string") {
        problems.push({ path: `${here}.descriptor_value`, message: "is required" });
        return undefined;
      }
      return { kind, descriptorKey: typeof a.descriptor_key === "string" && a.descriptor_key !== "" ? a.descriptor_key : "generic_key", descriptorValue: a.descriptor_value };
    case "header_value_match": {
      unknownFields(a, new Set(["descriptor_value", "descriptor_key", "expect_match", "headers"]), here, problems);
      if (typeof a.descriptor_value !== "string") {
        problems.push({ path: `${here}.descriptor_value`, message: "is required" });
        return undefined;
      }
      const headers = Array.isArray(a.headers) ? a.headers.flatMap((h, i) => headerMatcher(h, `${here}.headers[${i}]`, problems) ?? []) : [];
      return { kind, descriptorKey: typeof a.descriptor_key === "string" && a.descriptor_key !== "" ? a.descriptor_key : "header_match", descriptorValue: a.descriptor_value, expectMatch: a.expect_match !== false, headers };
    }
    case "metadata": {
      // Dynamic metadata from jwt_authn: `path` is [payload_in_metadata name (Istio: the issuer), claim, nested claims…].
      unknownFields(a, new Set(["descriptor_key", "metadata_key", "default_value", "source", "skip_if_absent"]), here, problems);
      const mk = obj(a.metadata_key) ?? {};
      const keys = (Array.isArray(mk.path) ? mk.path : []).map((p) => obj(p)?.key);
      if (mk.key !== "envoy.filters.http.jwt_authn" || keys.length < 2 || !keys.every((k) => typeof k === "string" && k !== "") || (a.source !== undefined && a.source !== "DYNAMIC") || typeof a.descriptor_key !== "string" || a.descriptor_key === "") {
        problems.push({ path: here, message: "the metadata action is applied for jwt_authn's payload only: descriptor_key, metadata_key {key: envoy.filters.http.jwt_authn, path: [payload name, claim, …]}, source DYNAMIC" });
        return undefined;
      }
      return { kind, descriptorKey: a.descriptor_key, path: (keys as string[]).slice(1), defaultValue: typeof a.default_value === "string" ? a.default_value : "", skipIfAbsent: a.skip_if_absent === true };
    }
    default:
      problems.push({ path: here, message: `the ${kind} action is not applied by the sidecar (request_headers, remote_address, generic_key, header_value_match, destination_cluster, metadata are)` });
      return undefined;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Envoy's route HeaderMatcher (the *_match fields and string_match) → the model's. */
function headerMatcher(v: Json, path: string, problems: Problem[]): HeaderMatcher | undefined {
  const o = obj(v) ?? {};
  if (typeof o.name !== "string" || o.name === "") {
    problems.push({ path: `${path}.name`, message: "is required" });
    return undefined;
  }
  unknownFields(o, new Set(["name", "exact_match", "prefix_match", "suffix_match", "safe_regex_match", "present_match", "string_match", "invert_match"]), path, problems);
  const sm = obj(o.string_match);
  const pick = (exact: Json, prefix: Json, suffix: Json, regex: Json): StringMatch | undefined => {
    if (typeof exact === "string") return { exact };
    if (typeof prefix === "string") return { prefix };
    if (typeof suffix === "string") return { regex: `.*${escapeRegex(suffix)}` };
    const r = obj(regex);
    if (r !== undefined && typeof r.regex === "string") return { regex: r.regex };
    return undefined;
  };
  let match = sm !== undefined ? pick(sm.exact, sm.prefix, sm.suffix, sm.safe_regex) : pick(o.exact_match, o.prefix_match, o.suffix_match, o.safe_regex_match);
  // StringMatcher.ignore_case (exact, prefix, suffix): a case-insensitive full-match regex.
  if (sm?.ignore_case === true && match !== undefined) {
    match = "exact" in match ? { regex: `(?i)${escapeRegex(match.exact)}` } : "prefix" in match ? { regex: `(?i)${escapeRegex(match.prefix)}.*` } : typeof sm.suffix === "string" ? { regex: `(?i).*${escapeRegex(sm.suffix)}` } : match;
  }
  const out: HeaderMatcher = { name: o.name.toLowerCase(), invert: o.invert_match === true };
  if (match !== undefined) out.match = match;
  return out;
}
