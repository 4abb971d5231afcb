// What defines a cluster's upstream transport: the TLS settings (mode, SNI, CA, client certificate
// and key, SANs, verification) and the wire protocol (which also picks the ALPN list). Envoy builds
// a new cluster, with new connection pools, when its transport socket changes; a pooled connection
// made under the old settings must never carry a request made under the new ones (a DestinationRule
// switching a host to SIMPLE or MUTUAL would otherwise keep sending plain text on warm sockets).
import type { Cluster } from "../../model/proxy-config.ts";

/** The transport-defining part of a cluster, as a comparable string. */
export function transportKey(c: Cluster): string {
  return JSON.stringify([c.protocol, c.useClientProtocol === true, c.tls ?? null]);
}

/** `next` keeps `prev`'s transport: its pooled connections may carry `next`'s requests. */
export function sameTransport(prev: Cluster, next: Cluster): boolean {
  return transportKey(prev) === transportKey(next);
}
