// Router stage of the sidecar's request path: RequestView → RouteTable.match (virtual host by
// :authority, first matching route) → route actions as pure functions (weighted split, rewrite,
// redirect, header edits, fault, mirror, CORS). Pure: imports nothing from node:*.
// See docs/routing.md.

export type { RequestView } from "./request-view.ts";
export { requestView } from "./request-view.ts";
export { RouteTable } from "./route-table.ts";
export type { RouteMatchResult, RouteFound, NoRoute, NoVirtualHost } from "./route-table.ts";
export { explainMatch, formatExplanation } from "./explain.ts";
export type { MatchExplanation, RouteExplanation } from "./explain.ts";
export { RouterError } from "./router-error.ts";
export { pickWeightedCluster } from "./weighted-cluster.ts";
export { faultDecision, grpcStatusCode } from "./fault.ts";
export type { FaultDecision } from "./fault.ts";
export { mirrorDecision, shadowAuthority } from "./mirror.ts";
export { rewritePath } from "./rewrite.ts";
export { redirectLocation, redirectStatus, DEFAULT_REDIRECT_CODE } from "./redirect.ts";
export { HeaderPlan, applyHeaderEdits, requestHeaderPlan, responseHeaderPlan, hasHeaderEdits, expandHeaderValue } from "./header-plan.ts";
export type { HeaderList, HeaderValueContext } from "./header-plan.ts";
export { corsPreflight, corsResponseHeaders, effectiveCorsPolicy, isOriginAllowed } from "./cors.ts";
