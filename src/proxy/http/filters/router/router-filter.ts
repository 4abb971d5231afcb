// The router (Envoy's router filter), last in every chain: a direct response or a redirect is
// answered here; a forwarding route picks its weighted cluster (none or unknown: 503 NC), starts
// the route's mirrors (fire-and-forget copies; not for upgrades) and hands the request to its
// protocol's upstream driver (RequestContext.forward: retries, timeouts, balancing, pools).
import { STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { mirrorDecision, pickWeightedCluster, redirectLocation, redirectStatus } from "../../../router/index.ts";
import { mirrorRequest } from "../../mirror.ts";
import { newRequestId } from "../../../request/request-id.ts";
import { RF_NC } from "../../../request/response-flags.ts";

export const routerFilter: HttpFilter = {
  name: "router",
  onRequest(x: RequestContext): FilterStatus {
    const route = x.route;
    if (route === null) {
      // The route step always runs first; a chain without it has nothing to route by.
      x.reply(500, 0, "internal proxy error\n");
      return STOP;
    }
    const action = route.action;
    if (action.kind === "direct") {
      x.reply(action.status, 0, action.body);
      return STOP;
    }
    if (action.kind === "redirect") {
      x.reply(redirectStatus(action), 0, undefined, [["location", redirectLocation(x, route.match, action)]]);
      return STOP;
    }
    const wc = pickWeightedCluster(action.clusters, x.proxy.random);
    const cluster = wc === undefined ? undefined : x.runtime.clusters.get(wc.cluster);
    if (wc === undefined || cluster === undefined) {
      x.reply(503, RF_NC);
      return STOP;
    }
    x.cluster = cluster.name;
    if (x.requestIdGenerated && x.requestId === "") x.requestId = newRequestId();
    if (action.mirrors.length > 0 && !x.upgrade) mirrorRequest(x, mirrorDecision(action.mirrors, x.proxy.random));
    x.forward(action, wc, cluster);
    return STOP;
  },
};
