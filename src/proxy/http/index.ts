// Stage: the sidecar's request path. filters/ holds the HTTP filter chain (route → cors → fault →
// router; registry.ts names them); Exchange is one HTTP/1.1 downstream request, Forwarder its
// upstream side (timeout → retry → balance → circuit breakers → pool), mirror.ts the shadow copies.
export { Exchange } from "./exchange.ts";
export { formatResponseFlags } from "../request/response-flags.ts";
export type { RequestObserver, RequestRecord, ProxyLimits } from "../request/context.ts";
