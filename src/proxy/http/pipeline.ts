// The request pipeline, composed in one place. Each layer is one concern and either answers the
// request locally or hands over to the next:
//
//   route lookup (NR 404) → CORS preflight → fault delay (DI) / abort (FI)
//     → route action: direct response | redirect | forward
//     → forward: weighted split → mirrors (fire-and-forget) → Forwarder
//        (route timeout → retry loop → balance → circuit breakers → endpoint pool)
import type { ForwardAction } from "../../model/proxy-config.ts";
import {
  corsPreflight,
  effectiveCorsPolicy,
  faultDecision,
  mirrorDecision,
  pickWeightedCluster,
  redirectLocation,
  redirectStatus,
  type FaultDecision,
} from "../router/index.ts";
import type { Exchange } from "./exchange.ts";
import { Forwarder } from "./forwarder.ts";
import { upstreamIsH2 } from "../http2/forward-stream.ts";
import { H1Stream } from "../http2/h1-stream.ts";
import { H2Forwarder } from "../http2/h2-forwarder.ts";
import { forwardUpgrade, isUpgradeRequest } from "../upgrade/upgrade-forwarder.ts";
import { acceptConnect } from "../connect/connect-tunnel.ts";
import { BODY_FAULT_ABORT } from "./local-reply.ts";
import { mirrorRequest } from "./mirror.ts";
import { newRequestId } from "./request-id.ts";
import { RF_DI, RF_FI, RF_NC, RF_NR } from "./response-flags.ts";

export function runPipeline(x: Exchange): void {
  x.started = true;
  if (x.head.method === "CONNECT") {
    // Clients using the outbound listener as their HTTP proxy may tunnel (see connect/).
    if (x.listenerCtx.direction === "outbound") acceptConnect(x);
    else x.reply(405, 0, "CONNECT is only accepted on the outbound listener\n", [["allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"]]);
    return;
  }
  if (!routeLayer(x)) return;
  if (corsPreflightLayer(x)) return;
  const route = x.route as NonNullable<Exchange["route"]>;
  const action = route.action;
  if (action.kind === "direct") {
    x.reply(action.status, 0, action.body);
    return;
  }
  if (action.kind === "redirect") {
    x.reply(redirectStatus(action), 0, undefined, [["location", redirectLocation(x, route.match, action)]]);
    return;
  }
  faultLayer(x, action);
}

/** Route lookup: virtual host by authority, first matching route. No match: 404 NR. */
function routeLayer(x: Exchange): boolean {
  const table = x.runtime.routeTables.get(x.listenerCtx.routeConfigName);
  const found = table?.match(x);
  if (found === undefined || found.kind !== "route") {
    x.reply(404, RF_NR);
    return false;
  }
  x.route = found.route;
  x.virtualHost = found.virtualHost;
  x.routeName = found.route.name;
  return true;
}

/** CORS: a preflight for a matching origin is answered here; the policy is kept for the response. */
function corsPreflightLayer(x: Exchange): boolean {
  const policy = effectiveCorsPolicy(x.virtualHost as NonNullable<Exchange["virtualHost"]>, x.route as NonNullable<Exchange["route"]>);
  if (policy === undefined) return false;
  x.cors = policy;
  if (x.head.method !== "OPTIONS") return false;
  const headers = corsPreflight(x, policy);
  if (headers === null) return false;
  x.reply(200, 0, undefined, headers);
  return true;
}

/** Fault injection: delay first (DI), then abort (FI) or continue. */
function faultLayer(x: Exchange, action: ForwardAction): void {
  if (action.fault === undefined) {
    forwardLayer(x, action);
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

function afterDelay(x: Exchange, action: ForwardAction, fault: FaultDecision): void {
  if (x.finished) return;
  if (fault.abortStatus !== undefined) {
    x.reply(fault.abortStatus, RF_FI, BODY_FAULT_ABORT);
    return;
  }
  if (fault.abortGrpcStatus !== undefined) {
    x.reply(200, RF_FI, undefined, [
      ["content-type", "application/grpc"],
      ["grpc-status", String(fault.abortGrpcStatus)],
      ["grpc-message", BODY_FAULT_ABORT],
    ]);
    return;
  }
  forwardLayer(x, action);
}

/** Weighted split → cluster → mirrors → the upstream request. */
function forwardLayer(x: Exchange, action: ForwardAction): void {
  const wc = pickWeightedCluster(action.clusters, x.proxy.random);
  const cluster = wc === undefined ? undefined : x.runtime.clusters.get(wc.cluster);
  if (wc === undefined || cluster === undefined) {
    x.reply(503, RF_NC);
    return;
  }
  x.cluster = cluster.name;
  if (x.requestIdGenerated && x.requestId === "") x.requestId = newRequestId();
  // Protocols hook: Upgrade requests (WebSocket…) take their own connection and may become a tunnel.
  if (x.head.upgrade !== null && isUpgradeRequest(x)) return forwardUpgrade(x, action, wc, cluster);
  if (action.mirrors.length > 0) mirrorRequest(x, mirrorDecision(action.mirrors, x.proxy.random));
  if (upstreamIsH2(cluster.config, "http1", false)) {
    // HTTP/2 upstream (http2/grpc port, h2UpgradePolicy UPGRADE): the HTTP/2 forwarder, with this
    // HTTP/1.1 exchange adapted as its downstream stream.
    const s = new H1Stream(x);
    x.forwarder = s;
    new H2Forwarder(s, action, wc, cluster).start();
    return;
  }
  const f = new Forwarder(x, action, wc, cluster);
  x.forwarder = f;
  f.start();
}
