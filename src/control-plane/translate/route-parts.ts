// Conversions of the parts of an Istio HTTPRoute into the proxy model: matches, retries, faults,
// header edits, CORS, rewrite, redirect, direct responses. Each takes the typed Istio value and
// reads defensively; none throws.
import { isJwtClaimHeader } from "../../config/checks/headers.ts";
import { effectiveRetryPolicy } from "../../config/defaults.ts";
import type {
  CorsPolicy as IstioCors, HTTPDirectResponse, HTTPFaultInjection, HTTPMatchRequest, HTTPRedirect, HTTPRetry, HTTPRewrite,
  Headers, HeaderOperations as IstioHeaderOps, StringMatch as IstioStringMatch,
} from "../../model/specs/networking.ts";
import {
  DEFAULT_RETRY_POLICY, type CorsPolicy, type DirectResponseAction, type FaultPolicy, type HeaderEdits, type HeaderMatcher,
  type HeaderOperations, type QueryParamMatcher, type RedirectAction, type RetryPolicy, type RewritePolicy, type RouteMatch,
  type StringMatch,
} from "../../model/proxy-config.ts";
import { arr, cmp, durationMs, num, obj, str } from "./common.ts";

export function stringMatch(m: IstioStringMatch | undefined): StringMatch | undefined {
  const o = obj(m);
  if (!o) return undefined;
  if (typeof o.exact === "string") return { exact: o.exact };
  if (typeof o.prefix === "string") return { prefix: o.prefix };
  if (typeof o.regex === "string") return { regex: o.regex };
  return undefined;
}

/**
 * The request-time part of an HTTPMatchRequest (sourceLabels, sourceNamespace and gateways are
 * decided at translation). `gateway`: `@request.auth.claims.*` header names become JWT claim
 * matchers (Istio supports claim routing on gateways only; on sidecars no header can carry that name).
 */
export function routeMatch(m: HTTPMatchRequest | undefined, gateway = false): RouteMatch {
  const out: RouteMatch = { headers: [], queryParams: [], ignoreUriCase: m?.ignoreUriCase === true };
  if (!m) return out;
  const uri = stringMatch(m.uri);
  if (uri) out.uri = uri;
  const scheme = stringMatch(m.scheme);
  if (scheme) out.scheme = scheme;
  const method = stringMatch(m.method);
  if (method) out.method = method;
  const authority = stringMatch(m.authority);
  if (authority) out.authority = authority;
  out.headers = [...headerMatchers(m.headers, false, gateway), ...headerMatchers(m.withoutHeaders, true, gateway)];
  const q = obj(m.queryParams);
  if (q) {
    out.queryParams = Object.keys(q).sort(cmp).map((name): QueryParamMatcher => {
      const sm = stringMatch(q[name]);
      return sm ? { name, match: sm } : { name };
    });
  }
  return out;
}

function headerMatchers(h: Record<string, IstioStringMatch> | undefined, invert: boolean, gateway: boolean): HeaderMatcher[] {
  const o = obj(h);
  if (!o) return [];
  // Sorted so output is stable whatever the YAML key order; all headers must hold, so order is irrelevant.
  return Object.keys(o).map((key): HeaderMatcher => {
    const sm = stringMatch(o[key]);
    const claim = gateway ? claimPath(key) : null;
    const name = claim === null ? key.toLowerCase() : key;
    const hm: HeaderMatcher = sm ? { name, match: sm, invert } : { name, invert };
    if (claim !== null) hm.claim = claim;
    return hm;
  }).sort((a, b) => cmp(a.name, b.name));
}

/** `@request.auth.claims.a.b` or `@request.auth.claims[a][b]` → ["a", "b"]; null for other names. */
export function claimPath(name: string): string[] | null {
  const prefix = "@request.auth.claims";
  if (!name.startsWith(prefix) || !isJwtClaimHeader(name)) return null;
  const rest = name.slice(prefix.length);
  const parts = rest.startsWith("[") ? [...rest.matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] as string) : rest.slice(1).split(".");
  return parts.length > 0 && parts.every((p) => p !== "") ? parts : null;
}

/** A match that selects every request (after port and source filtering). */
export function isCatchAll(m: RouteMatch): boolean {
  const uriAll = !m.uri || ("prefix" in m.uri && m.uri.prefix === "/") || ("prefix" in m.uri && m.uri.prefix === "");
  return uriAll && !m.scheme && !m.method && !m.authority && m.headers.length === 0 && m.queryParams.length === 0;
}

/**
 * Istio's retry translation: no `retries` → the mesh default; attempts ≤ 0 → disabled; otherwise
 * the default overridden field by field. Consistent-hash routes keep retrying the same host
 * (no previous-hosts predicate) unless the rule asks otherwise. retryRemoteLocalities has no
 * effect yet: the proxy does not do locality-priority load balancing.
 */
export function retryPolicy(r: HTTPRetry | undefined, consistentHash: boolean): RetryPolicy {
  const retries = obj(r);
  if (!retries) return { ...DEFAULT_RETRY_POLICY, retryOn: [...DEFAULT_RETRY_POLICY.retryOn], retriableStatusCodes: [...DEFAULT_RETRY_POLICY.retriableStatusCodes], retryIgnorePreviousHosts: !consistentHash };
  const attempts = num(retries.attempts) ?? 0;
  if (attempts <= 0) return { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: DEFAULT_RETRY_POLICY.backoffBaseMs, backoffMaxMs: DEFAULT_RETRY_POLICY.backoffMaxMs, retryIgnorePreviousHosts: false };
  let eff: ReturnType<typeof effectiveRetryPolicy>;
  try {
    eff = effectiveRetryPolicy({ ...retries, ...(typeof retries.retryOn === "string" && retries.retryOn.trim() === "" ? { retryOn: undefined } : {}) });
  } catch {
    // Only an unparsable duration gets here (validation rejects it); fall back to the default timing.
    eff = effectiveRetryPolicy({ ...retries, perTryTimeout: undefined, backoff: undefined });
  }
  return {
    attempts,
    perTryTimeoutMs: eff.perTryTimeoutMs ?? 0,
    retryOn: eff.retryOn,
    retriableStatusCodes: eff.retriableStatusCodes,
    backoffBaseMs: eff.backoffBaseMs,
    backoffMaxMs: eff.backoffMaxMs,
    retryIgnorePreviousHosts: typeof retries.retryIgnorePreviousHosts === "boolean" ? retries.retryIgnorePreviousHosts : !consistentHash,
  };
}

/** Istio: an unset percentage injects nothing; the deprecated integer `percent` is read when `percentage` is absent. */
function faultPercent(p: { percentage?: { value?: number }; percent?: number } | undefined): number {
  const v = num(obj(p?.percentage)?.value);
  if (v !== undefined) return clampPct(v);
  const legacy = num(p?.percent);
  return legacy !== undefined ? clampPct(legacy) : 0;
}

function clampPct(v: number): number {
  return Math.min(100, Math.max(0, v));
}

/** exponentialDelay and http2Error are not supported by Istio either; such parts are dropped. */
export function faultPolicy(f: HTTPFaultInjection | undefined): FaultPolicy | undefined {
  const fault = obj(f);
  if (!fault) return undefined;
  const out: FaultPolicy = {};
  const delay = obj(fault.delay);
  const fixed = durationMs(delay?.fixedDelay);
  if (delay && fixed !== undefined) out.delay = { fixedDelayMs: fixed, percentage: faultPercent(delay) };
  const abort = obj(fault.abort);
  if (abort) {
    const pct = faultPercent(abort);
    if (num(abort.httpStatus) !== undefined) out.abort = { httpStatus: abort.httpStatus!, percentage: pct };
    else if (str(abort.grpcStatus)) out.abort = { grpcStatus: abort.grpcStatus!, percentage: pct };
  }
  return out.delay || out.abort ? out : undefined;
}

export function mirrorPercent(pct: { value?: number } | undefined, legacy?: number): number {
  const v = num(obj(pct)?.value);
  if (v !== undefined) return clampPct(v);
  if (num(legacy) !== undefined) return clampPct(legacy!);
  return 100;
}

function headerEdits(h: IstioHeaderOps | undefined): HeaderEdits | undefined {
  const o = obj(h);
  if (!o) return undefined;
  const set: Record<string, string> = {};
  const add: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(o.set) ?? {})) if (typeof v === "string") set[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(obj(o.add) ?? {})) if (typeof v === "string") add[k.toLowerCase()] = v;
  const remove = arr(o.remove).filter((x): x is string => typeof x === "string").map((x) => x.toLowerCase());
  return { set, add, remove };
}

export function headerOperations(h: Headers | undefined): HeaderOperations | undefined {
  const o = obj(h);
  if (!o) return undefined;
  const request = headerEdits(o.request);
  const response = headerEdits(o.response);
  if (!request && !response) return undefined;
  return { ...(request ? { request } : {}), ...(response ? { response } : {}) };
}

export function rewritePolicy(r: HTTPRewrite | undefined): RewritePolicy | undefined {
  const o = obj(r);
  if (!o) return undefined;
  const out: RewritePolicy = {};
  if (typeof o.uri === "string") out.uri = o.uri;
  const rr = obj(o.uriRegexRewrite);
  if (rr && typeof rr.match === "string" && typeof rr.rewrite === "string") out.uriRegex = { match: rr.match, rewrite: rr.rewrite };
  if (str(o.authority)) out.authority = o.authority;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Deprecated `allowOrigin` strings become exact matches (`*` matches any origin). */
export function corsPolicy(c: IstioCors | undefined): CorsPolicy | undefined {
  const o = obj(c);
  if (!o) return undefined;
  const origins: StringMatch[] = arr(o.allowOrigins).map((m) => stringMatch(m)).filter((m): m is StringMatch => m !== undefined);
  for (const legacy of arr(o.allowOrigin)) if (typeof legacy === "string") origins.push(legacy === "*" ? { regex: ".*" } : { exact: legacy });
  const strings = (v: string[] | undefined): string[] => arr(v).filter((x): x is string => typeof x === "string");
  const out: CorsPolicy = {
    allowOrigins: origins,
    allowMethods: strings(o.allowMethods),
    allowHeaders: strings(o.allowHeaders),
    exposeHeaders: strings(o.exposeHeaders),
    unmatchedPreflights: o.unmatchedPreflights === "IGNORE" ? "IGNORE" : "FORWARD",
  };
  const maxAge = durationMs(o.maxAge);
  if (maxAge !== undefined) out.maxAgeSeconds = Math.floor(maxAge / 1000);
  if (typeof o.allowCredentials === "boolean") out.allowCredentials = o.allowCredentials;
  return out;
}

export function redirectAction(r: HTTPRedirect): RedirectAction {
  const out: RedirectAction = { kind: "redirect", code: num(r.redirectCode) || 301 };
  if (typeof r.uri === "string") out.uri = r.uri;
  if (typeof r.prefixRewrite === "string") out.prefixRewrite = r.prefixRewrite;
  if (str(r.authority)) out.authority = r.authority;
  if (num(r.port) !== undefined && r.port! > 0) out.port = r.port;
  else if (r.derivePort === "FROM_PROTOCOL_DEFAULT" || r.derivePort === "FROM_REQUEST_PORT") out.derivePort = r.derivePort;
  if (str(r.scheme)) out.scheme = r.scheme;
  return out;
}

/** `body.bytes` is base64 in YAML/JSON; decoded as UTF-8 text, as the model carries bodies as strings. */
export function directResponseAction(d: HTTPDirectResponse): DirectResponseAction {
  const out: DirectResponseAction = { kind: "direct", status: num(d.status) ?? 200 };
  const body = obj(d.body);
  if (body && typeof body.string === "string") out.body = body.string;
  else if (body && typeof body.bytes === "string") {
    try {
      const bin = atob(body.bytes);
      out.body = new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
    } catch {
      // Invalid base64 is rejected by validation; without it the response simply has no body.
    }
  }
  return out;
}
