// The HTTP/1.1 request path, above the rooms it dispatches to: a request runs its listener's HTTP
// filter chain (http/filters/), except CONNECT (connect/); the router filter's routed request comes
// back here (Exchange.forward) to pick its upstream driver: the upgrade path (WebSocket…), the
// HTTP/2 forwarder for an HTTP/2 upstream, else the HTTP/1.1 Forwarder.
import type { ForwardAction, WeightedCluster } from "../../model/proxy-config.ts";
import { acceptConnect } from "../connect/connect-tunnel.ts";
import type { Exchange } from "../http/exchange.ts";
import { runChain } from "../http/filters/chain.ts";
import { chainFor } from "../http/filters/registry.ts";
import { Forwarder } from "../http/forwarder.ts";
import { h2Room } from "../http2/door.ts";
import { upstreamIsH2 } from "../http2/forward-stream.ts";
import { forwardUpgrade } from "../upgrade/upgrade-forwarder.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";

const ALLOW_NO_CONNECT: ReadonlyArray<readonly [string, string]> = [["allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"]];

/** Start a request whose head (and the body bytes that came with it) has arrived. */
export function startRequest(x: Exchange): void {
  x.started = true;
  if (x.head.method === "CONNECT") {
    // Clients using the outbound listener as their HTTP proxy may tunnel (see connect/).
    if (x.listenerCtx.direction === "outbound") acceptConnect(x);
    else x.reply(405, 0, "CONNECT is only accepted on the outbound listener\n", ALLOW_NO_CONNECT);
    return;
  }
  runChain(x, chainFor(x.runtime, x.listenerCtx.name));
}

/** The routed request's upstream driver. */
export function forwardH1(x: Exchange, action: ForwardAction, wc: WeightedCluster, cluster: ClusterState): void {
  // Upgrade requests (WebSocket…) take their own connection and may become a tunnel.
  if (x.upgrade) return forwardUpgrade(x, action, wc, cluster);
  if (upstreamIsH2(cluster.config, "http1", false)) {
    // HTTP/2 upstream (http2/grpc port, h2UpgradePolicy UPGRADE): the HTTP/2 forwarder, with this
    // HTTP/1.1 exchange adapted as its downstream stream. The room was loaded before a config
    // with this cluster was applied (http2/door.ts, needsH2Room).
    const { H1Stream, H2Forwarder } = h2Room()!;
    const s = new H1Stream(x);
    x.forwarder = s;
    new H2Forwarder(s, action, wc, cluster).start();
    return;
  }
  const f = new Forwarder(x, action, wc, cluster);
  x.forwarder = f;
  f.start();
}
