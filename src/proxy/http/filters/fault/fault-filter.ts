// Fault injection (Envoy's fault filter, Istio's VirtualService `fault`): on a forwarding route with
// a fault policy, delay first (flag DI; the request is suspended on a Clock timer and resumed),
// then abort (flag FI) with an HTTP status, or for a gRPC abort HTTP 200 with the grpc-status in a
// trailers-only answer. Which fault hits is decided by router/fault.ts (pure, tested there).
import { CONTINUE, STOP, type FilterStatus, type HttpFilter, type RequestContext } from "../../../request/context.ts";
import { faultDecision, pickWeightedCluster, type FaultDecision } from "../../../router/index.ts";
import { BODY_FAULT_ABORT } from "../../../request/local-reply.ts";
import { RF_DI, RF_FI } from "../../../request/response-flags.ts";
import { resumeChain } from "../chain.ts";

export const faultFilter: HttpFilter = {
  name: "fault",
  onRequest(x: RequestContext): FilterStatus {
    const action = x.route?.action;
    if (action === undefined || action.kind !== "forward" || action.fault === undefined) return CONTINUE;
    const fault = faultDecision(action.fault, x.proxy.random);
    if (fault.delayMs > 0) {
      x.flags |= RF_DI;
      x.timer = x.proxy.clock.setTimeout(() => {
        x.timer = null;
        if (x.finished) return;
        if (abort(x, fault) === CONTINUE) resumeChain(x);
      }, fault.delayMs);
      return STOP;
    }
    return abort(x, fault);
  },
};

/** Answer with the decided abort, if any. */
function abort(x: RequestContext, fault: FaultDecision): FilterStatus {
  if (fault.abortStatus !== undefined || fault.abortGrpcStatus !== undefined) routedCluster(x);
  if (fault.abortStatus !== undefined) {
    x.reply(fault.abortStatus, RF_FI, BODY_FAULT_ABORT);
    return STOP;
  }
  if (fault.abortGrpcStatus !== undefined) {
    // Istio's grpcStatus abort: HTTP 200 and the status in a trailers-only response.
    x.reply(200, RF_FI, BODY_FAULT_ABORT, undefined, fault.abortGrpcStatus);
    return STOP;
  }
  return CONTINUE;
}


/**
 * Envoy picks a route's (weighted) cluster when it resolves the route, before any filter runs, so
 * an aborted request still names its cluster: Istio's metrics count the abort against the
 * destination service (response_flags FI) and Kiali's graph shows it on that edge.
 */
function routedCluster(x: RequestContext): void {
  const action = x.route?.action;
  if (x.cluster !== "" || action === undefined || action.kind !== "forward") return;
  const wc = pickWeightedCluster(action.clusters, x.proxy.random);
  if (wc !== undefined) x.cluster = wc.cluster;
}
