// CORS (Istio CorsPolicy → Envoy cors filter). The proxy answers preflights whose origin is
// allowed itself, and adds Access-Control-* headers to responses of allowed cross-origin requests.

import type { CorsPolicy, Route, StringMatch, VirtualHost } from "../../model/proxy-config.ts";
import type { HeaderList } from "./header-plan.ts";
import type { RequestView } from "./request-view.ts";
import type { StringPredicate } from "./string-matcher.ts";
import { compileStringMatch } from "./string-matcher.ts";

const NONE: HeaderList = [];
Object.freeze(NONE);

/** The route's policy wins over its virtual host's (Envoy: most specific). */
export function effectiveCorsPolicy(virtualHost: VirtualHost, route: Route): CorsPolicy | undefined {
  return (route.action.kind === "forward" ? route.action.cors : undefined) ?? virtualHost.cors;
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
 * itself: returns the headers of that 200 response. Returns null when the request is not a
 * preflight, there is no policy, or the origin is not allowed and unmatchedPreflights is FORWARD
 * (the upstream answers). With IGNORE, an unmatched preflight gets a 200 with no CORS headers.
 */
export function corsPreflight(request: RequestView, policy: CorsPolicy | undefined): HeaderList | null {
  if (policy === undefined) return null;
  const origin = request.header("origin");
  if (origin === undefined || origin === "") return null;
  const allowed = isOriginAllowed(policy, origin);
  if (!allowed && policy.unmatchedPreflights !== "IGNORE") return null;
  if (request.method !== "OPTIONS") return null;
  const requested = request.header("access-control-request-method");
  if (requested === undefined || requested === "") return null;
  if (!allowed) return [];
  const out: HeaderList = [["access-control-allow-origin", origin]];
  if (policy.allowCredentials === true) out.push(["access-control-allow-credentials", "true"]);
  if (policy.allowMethods.length > 0) out.push(["access-control-allow-methods", policy.allowMethods.join(",")]);
  if (policy.allowHeaders.length > 0) out.push(["access-control-allow-headers", policy.allowHeaders.join(",")]);
  if (policy.maxAgeSeconds !== undefined) out.push(["access-control-max-age", String(policy.maxAgeSeconds)]);
  // Not sent by Envoy; the answer depends on Origin, so caches must key on it.
  out.push(["vary", "Origin"]);
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
