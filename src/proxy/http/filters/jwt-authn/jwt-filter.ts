// jwt_authn (Envoy's filter as Istio configures it for a RequestAuthentication): every token found
// must verify, else 401 with Envoy's text and `www-authenticate`; a request without a token passes
// (authorization decides). A verified token's principal and claims go to x.metadata under
// JWT_METADATA; its header is stripped unless forwardOriginalToken; output headers are set.
// Verified tokens are cached per token string (bounded), so a repeated token costs a lookup; a
// new one suspends the request while its signature is checked (and its JWKS fetched).
import type { JwtAuthnConfig, JwtProvider } from "../../../../model/proxy-config.ts";
import { CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { JWT_METADATA } from "../../../router/request-view.ts";
import { resumeChain } from "../chain.ts";
import { inlineKeys, remoteKeys } from "./jwks.ts";
import { joseIfLoaded, loadJose } from "./jose-module.ts";
import { findTokens, tokenLocations, type FoundToken, type TokenLocation } from "./token.ts";
import { TokenCache } from "./token-cache.ts";
import { checkClaims, decode, JwtStatus, statusCode, verifySignature, type CompiledProvider, type VerifiedJwt } from "./verify.ts";

/** x.metadata key of the request's verified tokens (VerifiedJwt[]), read by authorization and claim routing. */
export { JWT_METADATA } from "../../../router/request-view.ts";

/** Verified tokens kept per compiled config. */
export const TOKEN_CACHE_SIZE = 1024;

export interface CompiledJwtAuthn {
  readonly byIssuer: ReadonlyMap<string, CompiledProvider>;
  readonly locations: readonly TokenLocation[];
  /** Output header names, removed from every incoming request (Envoy sanitizes them). */
  readonly outputHeaders: readonly string[];
  readonly required: readonly string[];
  readonly cache: TokenCache;
  /** Envoy's jwt_authn.allowed / denied. */
  /** Envoy's http.<listener>.jwt_authn.{allowed, denied}, per listener (admin /stats). */
  readonly stats: Map<string, { owner: object; counters: JwtStats }>;
}

export interface JwtStats extends Record<string, number> {
  allowed: number;
  denied: number;
}

/** The listener's jwt_authn counters (process-wide, so they survive config pushes). */
function statsOf(x: RequestContext, c: CompiledJwtAuthn): JwtStats {
  // Cached per listener; re-looked-up if another proxy (a test's) runs the same config object.
  const s = c.stats.get(x.listenerCtx.name);
  if (s !== undefined && s.owner === x.proxy.filterStats) return s.counters;
  const counters = x.proxy.filterStats.group<JwtStats>(`http.${x.listenerCtx.name}.jwt_authn`, () => ({ allowed: 0, denied: 0 }));
  c.stats.set(x.listenerCtx.name, { owner: x.proxy.filterStats, counters });
  return counters;
}

export const jwtAuthnFilter: HttpFilter = {
  name: "jwt_authn",
  check(config: unknown): void {
    compiledJwtAuthn(config);
  },
  onRequest(x: RequestContext, config: unknown): FilterStatus {
    const c = compiledJwtAuthn(config);
    // CORS preflights bypass authentication (Istio sets bypass_cors_preflight).
    if (x.method === "OPTIONS" && x.header("origin") !== undefined && x.header("access-control-request-method") !== undefined) return CONTINUE;
    for (const h of c.outputHeaders) if (x.header(h) !== undefined) x.removeHeader(h);
    const found = findTokens(x, c.locations);
    if (found === null) return finish(x, c, null, null);
    const jose = joseIfLoaded();
    if (jose === null) {
      // jose is still loading (it started when this config was compiled): wait, then run again.
      loadJose().then(() => {
        if (!x.finished && jwtAuthnFilter.onRequest(x, config) === CONTINUE) resumeChain(x);
      }).catch(() => {
        if (!x.finished) deny(x, c, JwtStatus.verification);
      });
      return STOP;
    }
    const slots: (VerifiedJwt | Promise<VerifiedJwt | string>)[] = [];
    let suspend = false;
    const now = x.proxy.clock.wallNow();
    for (const f of found) {
      const hit = c.cache.get(f.token, now);
      if (hit !== undefined && f.location.issuers.has(hit.issuer)) {
        slots.push(hit);
        continue;
      }
      const d = decode(f.token, jose);
      if (typeof d === "string") return deny(x, c, d);
      const iss = d.payload.iss;
      const p = typeof iss === "string" && f.location.issuers.has(iss) ? c.byIssuer.get(iss) : undefined;
      if (p === undefined) return deny(x, c, JwtStatus.unknownIssuer);
      const bad = checkClaims(d, p.provider, now);
      if (bad !== null) return deny(x, c, bad);
      suspend = true;
      slots.push(verifySignature(f.token, d, p, x.proxy.clock).then((r) => {
        if (typeof r !== "string") c.cache.set(f.token, r, p.keys);
        return r;
      }));
    }
    if (!suspend) return finish(x, c, found, slots as VerifiedJwt[]);
    // Suspend: the signatures (and a JWKS fetch) are checked off the request path.
    Promise.all(slots).then((results) => {
      if (x.finished) return;
      for (const r of results) if (typeof r === "string") return void deny(x, c, r);
      if (finish(x, c, found, results as VerifiedJwt[]) === CONTINUE) resumeChain(x);
    }).catch(() => {
      if (!x.finished) deny(x, c, JwtStatus.verification);
    });
    return STOP;
  },
};

/** Every token verified (or none found): record them, edit headers, check required issuers. */
function finish(x: RequestContext, c: CompiledJwtAuthn, found: readonly FoundToken[] | null, verified: readonly VerifiedJwt[] | null): FilterStatus {
  for (const iss of c.required) {
    if (verified?.some((v) => v.issuer === iss) !== true) return deny(x, c, JwtStatus.missing);
  }
  statsOf(x, c).allowed++;
  if (found === null || verified === null) return CONTINUE;
  (x.metadata ??= new Map()).set(JWT_METADATA, verified);
  for (let i = 0; i < found.length; i++) {
    const f = found[i] as FoundToken;
    const v = verified[i] as VerifiedJwt;
    const p = (c.byIssuer.get(v.issuer) as CompiledProvider).provider;
    if (f.location.kind === "header" && !p.forwardOriginalToken) x.removeHeader(f.location.name);
    if (p.outputPayloadToHeader !== undefined) x.setHeader(p.outputPayloadToHeader, v.payloadSegment);
    for (const o of p.outputClaimToHeaders) {
      const value = claimValue(v.payload, o.claim);
      if (value !== undefined) x.setHeader(o.header, value);
    }
  }
  return CONTINUE;
}

/** A scalar claim (dotted path for nested ones) as a header value; objects and lists are skipped. */
export function claimValue(payload: Record<string, unknown>, claim: string): string | undefined {
  let v: unknown = payload[claim];
  if (v === undefined && claim.includes(".")) {
    v = payload;
    for (const part of claim.split(".")) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  }
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function deny(x: RequestContext, c: CompiledJwtAuthn, status: string): FilterStatus {
  statsOf(x, c).denied++;
  const q = x.path.indexOf("?");
  const path = (q < 0 ? x.path : x.path.slice(0, q)).slice(0, 256);
  const realm = `Bearer realm="${x.scheme}://${x.authority}${path}"${status === JwtStatus.missing ? "" : `, error="invalid_token"`}`;
  x.reply(statusCode(status), 0, status, [["www-authenticate", realm]]);
  return STOP;
}

// ---- config ----

/** Compiled once per pushed config object (checked when the config is applied). */
const compiled = new WeakMap<object, CompiledJwtAuthn>();

/** The compiled form of a pushed jwt_authn config; throws Error for a bad one. */
export function compiledJwtAuthn(config: unknown): CompiledJwtAuthn {
  if (typeof config !== "object" || config === null) throw new Error(`jwt_authn: config must be an object with "providers"`);
  let c = compiled.get(config);
  if (c === undefined) {
    c = compileJwtAuthn(config);
    // A config that uses the filter: load jose now, before its first request needs it.
    loadJose().catch(() => {}); // a failure shows at verification (401 "Jwt verification fails")
    compiled.set(config, c);
  }
  return c;
}

function compileJwtAuthn(config: unknown): CompiledJwtAuthn {
  const providers = (config as JwtAuthnConfig | undefined)?.providers;
  if (!Array.isArray(providers) || providers.length === 0) throw new Error(`jwt_authn: config needs a non-empty "providers" list`);
  const byIssuer = new Map<string, CompiledProvider>();
  const outputHeaders = new Set<string>();
  for (const [i, p] of providers.entries()) {
    checkProvider(p, i);
    if (byIssuer.has(p.issuer)) continue;
    const keys = p.jwks !== undefined ? inlineKeys(p.jwks) : remoteKeys(p.jwksUri as string, p.timeoutMs);
    byIssuer.set(p.issuer, { provider: p, keys });
    if (p.outputPayloadToHeader !== undefined) outputHeaders.add(p.outputPayloadToHeader.toLowerCase());
    for (const o of p.outputClaimToHeaders) outputHeaders.add(o.header.toLowerCase());
  }
  return {
    byIssuer,
    locations: tokenLocations([...byIssuer.values()].map((p) => p.provider)),
    outputHeaders: [...outputHeaders],
    required: providers.filter((p) => p.required).map((p) => p.issuer),
    cache: new TokenCache(TOKEN_CACHE_SIZE),
    stats: new Map(),
  };
}

function checkProvider(p: JwtProvider, i: number): void {
  const at = `jwt_authn: providers[${i}]`;
  if (typeof p !== "object" || p === null) throw new Error(`${at} must be an object`);
  if (typeof p.issuer !== "string" || p.issuer === "") throw new Error(`${at}.issuer must be a non-empty string`);
  if ((p.jwks === undefined) === (p.jwksUri === undefined)) throw new Error(`${at} needs exactly one of jwks and jwksUri`);
  if (p.jwksUri !== undefined && !/^https?:\/\//.test(p.jwksUri)) throw new Error(`${at}.jwksUri must be an http(s) URL`);
  if (!(p.timeoutMs > 0)) throw new Error(`${at}.timeoutMs must be positive`);
  for (const key of ["audiences", "fromHeaders", "fromParams", "fromCookies", "outputClaimToHeaders"] as const) {
    if (!Array.isArray(p[key])) throw new Error(`${at}.${key} must be a list`);
  }
}
