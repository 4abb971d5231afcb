// CORS (Envoy's cors filter): the route's (else the virtual host's) policy is kept for the
// response; a preflight (OPTIONS) from an allowed origin is answered here with 200 and the
// Access-Control-Allow-* headers. The decisions are in router/cors.ts (pure, tested there).
import { CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { corsPreflight, effectiveCorsPolicy } from "../../../router/index.ts";

export const corsFilter: HttpFilter = {
  name: "cors",
  onRequest(x: RequestContext): FilterStatus {
    const route = x.route;
    const vh = x.virtualHost;
    if (route === null || vh === null) return CONTINUE;
    const policy = effectiveCorsPolicy(vh, route);
    if (policy === undefined) return CONTINUE;
    x.cors = policy;
    if (x.method !== "OPTIONS") return CONTINUE;
    const headers = corsPreflight(x, policy);
    if (headers === null) return CONTINUE;
    x.reply(200, 0, undefined, headers);
    return STOP;
  },
};
