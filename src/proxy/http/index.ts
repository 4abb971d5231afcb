// Stage: the sidecar's request path. pipeline.ts composes the layers (route → CORS → fault →
// route action → forward: timeout → retry → balance → circuit breakers → pool); Exchange is one
// downstream request, Forwarder its upstream side, mirror.ts the shadow copies.
export { runPipeline } from "./pipeline.ts";
export { Exchange } from "./exchange.ts";
export { formatResponseFlags } from "./response-flags.ts";
export type { RequestObserver, RequestRecord, ProxyLimits } from "./context.ts";
