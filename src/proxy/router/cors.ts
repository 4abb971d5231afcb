// CORS (Istio CorsPolicy → Envoy cors filter). The proxy answers preflights whose origin is
// allowed itself, and adds Access-Control-* headers to responses of allowed cross-origin requests.

import type { CorsPolicy, Route, StringMatch, VirtualHost } from "../../model/proxy-config.ts";
import type { HeaderList } from "./header-plan.ts";
import type { RequestView } from "./request-view.ts";
import type { StringPredicate } from "./string-matcher.ts";
import { compileStringMatch } from "./string-matcher.ts";

const NONE: HeaderList = [];
Object.freeze(NONE);

const merged = new WeakMap<CorsPolicy, WeakMap<CorsPolicy, CorsPolicy>>();

/**
 * The CORS policy for a route. Envoy reads each setting from the route's policy first and falls
 * back to the virtual host's per field (CorsFilter::allowOrigins() etc.), so the two are merged
 * field by field; the merge is computed once per pair and cached.
 */
export function effectiveCorsPolicy(virtualHost: VirtualHost, route: Route): CorsPolicy | undefined {
  const own = route.action.kind === "forward" ? route.action.cors : undefined;
  const host = virtualHost.cors;
  if (own === undefined || host === undefined) return own ?? host;
  let byHost = merged.get(own);
  if (byHost === undefined) merged.set(own, (byHost = new WeakMap()));
  let m = byHost.get(host);
  if (m === undefined) {
    m = {
      allowOrigins: own.allowOrigins.length > 0 ? own.allowOrigins : host.allowOrigins,
      allowMethods: own.allowMethods.length > 0 ? own.allowMethods : host.allowMethods,
      allowHeaders: own.allowHeaders.length > 0 ? own.allowHeaders : host.allowHeaders,
      exposeHeaders: own.exposeHeaders.length > 0 ? own.exposeHeaders : host.exposeHeaders,
      unmatchedPreflights: own.unmatchedPreflights,
    };
    const maxAge = own.maxAgeSeconds ?? host.maxAgeSeconds;
    if (maxAge !== undefined) m.maxAgeSeconds = maxAge;
    const credentials = own.allowCredentials ?? host.allowCredentials;
    if (credentials !== undefined) m.allowCredentials = credentials;
    byHost.set(host, m);
  }
  return m;
}

const compiledOrigins = new WeakMap<readonly StringMatch[], StringPredicate[]>();

/** Envoy isOriginAllowed: some allowOrigins entry matches the origin, or matches `*` (allow all). */
export function isOriginAllowed(policy: CorsPolicy, origin: string): boolean {
  let preds = compiledOrigins.get(policy.allowOrigins);
  if (preds === undefined) {
    preds = policy.allowOrigins.map((m) => compileStringMatch(m));
    compiledOrigins.set(policy.allowOrigins, preds);
  }
  for (const p of preds) if (p("*") || p(origin)) return true;
  return false;
}

/**
 * For a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method) the proxy answers
 * itself (Envoy CorsFilter::decodeHeaders): returns the headers of that 200 response. Returns
 * null when the request is not a preflight, there is no policy, or the origin is not allowed and
 * unmatchedPreflights is FORWARD (the upstream answers). With IGNORE, an unmatched preflight is
 * still answered with 200 by the proxy, without Access-Control-Allow-Origin (so the browser
 * refuses it) but with the other Access-Control-* headers, exactly as Envoy does.
 * allowMethods / allowHeaders of `*` echo what the preflight asked for.
 */
export function corsPreflight(request: RequestView, policy: CorsPolicy | undefined): HeaderList | null {
  if (policy === undefined) return null;
  const origin = request.header("origin");
  if (origin === undefined || origin === "") return null;
  if (request.method !== "OPTIONS") return null;
  const requestedMethod = request.header("access-control-request-method");
  if (requestedMethod === undefined || requestedMethod === "") return null;
  const allowed = isOriginAllowed(policy, origin);
  if (!allowed && policy.unmatchedPreflights !== "IGNORE") return null;
  const out: HeaderList = [];
  if (allowed) out.push(["access-control-allow-origin", origin]);
  if (policy.allowCredentials === true) out.push(["access-control-allow-credentials", "true"]);
  const methods = policy.allowMethods.join(",");
  if (methods !== "") out.push(["access-control-allow-methods", methods === "*" ? requestedMethod : methods]);
  const headers = policy.allowHeaders.join(",");
  if (headers !== "") out.push(["access-control-allow-headers", headers === "*" ? (request.header("access-control-request-headers") ?? "") : headers]);
  if (policy.maxAgeSeconds !== undefined) out.push(["access-control-max-age", String(policy.maxAgeSeconds)]);
  // Not sent by Envoy: the answer echoes Origin, so shared caches must key on it.
  if (allowed) out.push(["vary", "Origin"]);
  return out;
}

/**
 * Headers to set (replacing upstream values) on the response to an actual cross-origin request
 * whose origin is allowed; an empty list otherwise.
 */
export function corsResponseHeaders(request: RequestView, policy: CorsPolicy | undefined): HeaderList {
  if (policy === undefined) return NONE;
  const origin = request.header("origin");
  if (origin === undefined || origin === "" || !isOriginAllowed(policy, origin)) return NONE;
  const out: HeaderList = [["access-control-allow-origin", origin]];
  if (policy.allowCredentials === true) out.push(["access-control-allow-credentials", "true"]);
  if (policy.exposeHeaders.length > 0) out.push(["access-control-expose-headers", policy.exposeHeaders.join(",")]);
  return out;
}
