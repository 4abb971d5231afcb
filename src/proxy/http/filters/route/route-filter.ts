// Route lookup, the first step of every chain (Envoy's connection manager does it before its
// filters): virtual host by authority, first matching route. No match: 404 with flag NR (a gRPC
// client gets UNIMPLEMENTED from the local reply).
import { CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { RF_NR } from "../../../request/response-flags.ts";

export const routeFilter: HttpFilter = {
  name: "route",
  onRequest(x: RequestContext): FilterStatus {
    const table = x.runtime.routeTables.get(x.listenerCtx.routeConfigName);
    const found = table?.match(x);
    if (found === undefined || found.kind !== "route") {
      x.reply(404, RF_NR);
      return STOP;
    }
    x.route = found.route;
    x.virtualHost = found.virtualHost;
    x.routeName = found.route.name;
    return CONTINUE;
  },
};
