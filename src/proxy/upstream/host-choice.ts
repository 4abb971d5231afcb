// Host choice, in one place for every upstream driver (HTTP/1.1 and HTTP/2 forwarders, upgrades,
// mirrors, TCP proxying, the simulation): the request's consistent-hash key (RING_HASH / MAGLEV
// affinity), hosts already tried avoided on a retry (Istio's previous_hosts predicate), and for
// PASSTHROUGH clusters the original destination, handed to the cluster's balancer (the
// original-dst policy of the balancer registry) like any other pick.
import type { Host, PickContext } from "./balance/balancer.ts";
import type { ClusterState } from "./cluster-manager.ts";
import { hashKeyOf, type HashConnectionView, type HashRequestView } from "./hash-key.ts";

export interface Destination {
  readonly address: string;
  readonly port: number;
}

/** `host:port` of the authority (PASSTHROUGH); the listener port when the authority has none. */
export function originalDestination(authority: string, defaultPort: number): Destination | null {
  if (authority === "") return null;
  let host = authority;
  let port = defaultPort;
  const close = authority.lastIndexOf("]");
  const colon = authority.lastIndexOf(":");
  if (colon > close) {
    host = authority.slice(0, colon);
    port = Number(authority.slice(colon + 1));
  }
  if (host.startsWith("[")) host = host.slice(1, -1);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return null;
  return { address: host, port };
}

/** What the hash key and the original destination are read from. */
export interface HostRequest extends HashRequestView {
  readonly authority: string;
  /** The downstream connection's addresses (source-IP keys, generated cookies). */
  connAddrs(): HashConnectionView;
}

/** The request's key hash for the cluster's consistent-hash policy; undefined when it has none. */
export function requestHash(cluster: ClusterState, req: HostRequest): number | undefined {
  const key = cluster.config.lb.hashKey;
  return key === undefined ? undefined : hashKeyOf(key, req, req.connAddrs());
}

/**
 * The host for an HTTP request's next attempt: PASSTHROUGH clusters dial the authority (the
 * listener port when it names none); others ask the balancer with the hash, avoiding `tried`.
 * Null: no usable host (503 UH).
 */
export function pickRequestHost(cluster: ClusterState, authority: string, listenerPort: number, hash: number | undefined, tried: readonly Host[] | null): Host | null {
  if (cluster.passthrough) return pickDestination(cluster, originalDestination(authority, listenerPort));
  if (tried === null || tried.length === 0) return cluster.balancer.pick(hash === undefined ? undefined : { hash });
  return cluster.balancer.pick({ hash, exclude: (h) => tried.includes(h) });
}

/** The host for a connection: PASSTHROUGH clusters take `dst` (the address the client dialed). */
export function pickConnectionHost(cluster: ClusterState, dst: Destination | null, hash: number | undefined): Host | null {
  if (cluster.passthrough) return pickDestination(cluster, dst);
  return cluster.balancer.pick(hash === undefined ? undefined : { hash });
}

function pickDestination(cluster: ClusterState, dst: Destination | null): Host | null {
  if (dst === null) return null;
  const ctx: PickContext = { originalDestination: dst };
  return cluster.balancer.pick(ctx);
}
