// The request pipeline for HTTP/2 streams: the same layers, in the same order, as
// http/pipeline.ts for HTTP/1.1, over an H2Exchange:
//
//   route lookup (NR 404 / gRPC UNIMPLEMENTED) → CORS preflight → fault delay (DI) / abort (FI;
//   grpcStatus → trailers-only gRPC answer) → direct response | redirect | forward
//     → forward: weighted split → H2Forwarder (route timeout capped by grpc-timeout → retries →
//        balance → circuit breakers → HTTP/1.1 endpoint pool or HTTP/2 session)
// Mirroring is not done for HTTP/2 streams yet (docs/protocols.md).
import type { ForwardAction } from "../../model/proxy-config.ts";
import { corsPreflight, effectiveCorsPolicy, faultDecision, pickWeightedCluster, redirectLocation, redirectStatus, type FaultDecision } from "../router/index.ts";
import { BODY_FAULT_ABORT } from "../http/local-reply.ts";
import { newRequestId } from "../http/request-id.ts";
import { RF_DI, RF_FI, RF_NC, RF_NR } from "../http/response-flags.ts";
import type { H2Exchange } from "./h2-exchange.ts";
import { H2Forwarder } from "./h2-forwarder.ts";

export function runH2Pipeline(x: H2Exchange): void {
  const table = x.runtime.routeTables.get(x.listenerCtx.routeConfigName);
  const found = table?.match(x);
  if (found === undefined || found.kind !== "route") {
    x.reply(404, RF_NR);
    return;
  }
  const route = found.route;
  x.route = route;
  x.virtualHost = found.virtualHost;
  x.routeName = route.name;
  const policy = effectiveCorsPolicy(found.virtualHost, route);
  if (policy !== undefined) {
    x.cors = policy;
    if (x.method === "OPTIONS") {
      const headers = corsPreflight(x, policy);
      if (headers !== null) {
        x.reply(200, 0, undefined, headers.map(([n, v]) => [n, v]));
        return;
      }
    }
  }
  const action = route.action;
  if (action.kind === "direct") {
    x.reply(action.status, 0, action.body);
    return;
  }
  if (action.kind === "redirect") {
    x.reply(redirectStatus(action), 0, undefined, [["location", redirectLocation(x, route.match, action)]]);
    return;
  }
  const fault = faultDecision(action.fault, x.proxy.random);
  if (fault.delayMs > 0) {
    x.flags |= RF_DI;
    x.timer = x.proxy.clock.setTimeout(() => {
      x.timer = null;
      afterDelay(x, action, fault);
    }, fault.delayMs);
    return;
  }
  afterDelay(x, action, fault);
}

function afterDelay(x: H2Exchange, action: ForwardAction, fault: FaultDecision): void {
  if (x.finished) return;
  if (fault.abortStatus !== undefined) {
    x.reply(fault.abortStatus, RF_FI, BODY_FAULT_ABORT);
    return;
  }
  if (fault.abortGrpcStatus !== undefined) {
    // Istio's grpcStatus abort: HTTP 200 and the status in a trailers-only response.
    x.reply(200, RF_FI, BODY_FAULT_ABORT, undefined, fault.abortGrpcStatus);
    return;
  }
  const wc = pickWeightedCluster(action.clusters, x.proxy.random);
  const cluster = wc === undefined ? undefined : x.runtime.clusters.get(wc.cluster);
  if (wc === undefined || cluster === undefined) {
    x.reply(503, RF_NC);
    return;
  }
  x.cluster = cluster.name;
  if (x.requestIdGenerated && x.requestId === "") x.requestId = newRequestId();
  new H2Forwarder(x, action, wc, cluster).start();
}
