// Network (L4) filters: what a TCP listener (or the TCP side of an auto listener) runs for each
// connection, as Envoy's listener filter chain: an ordered list from config whose last filter,
// tcp_proxy, relays the bytes. A filter returns CONTINUE or STOP (it closed the connection, handed
// it on, or suspended it and calls resumeConnection when its check is done). Connection limits and
// RBAC on TCP plug in here as filters (filters/<name>/, one line in filters/registry.ts).
import { verifiedPeerOf } from "../detect/mesh-tls.ts";
import type { Socket } from "node:net";
import type { Listener } from "../../model/proxy-config.ts";
import type { ProxyContext } from "../request/context.ts";
import type { TcpProxyOptions } from "./tcp-proxy.ts";
import type { TcpListenerStats } from "./tcp-stats.ts";

export const NF_CONTINUE = 0;
export const NF_STOP = 1;
export type NetworkFilterStatus = typeof NF_CONTINUE | typeof NF_STOP;

/** One downstream connection as network filters see it. */
export interface ConnectionContext {
  readonly socket: Socket;
  /** The listener's config at the connection's start. */
  readonly listener: Listener;
  readonly proxy: ProxyContext;
  readonly stats: TcpListenerStats;
  /** Bytes already read (protocol detection) and the close callback, for tcp_proxy. */
  readonly opts: TcpProxyOptions;
  /** The peer's authenticated identity (SPIFFE URI from mTLS), "" when none. */
  peerPrincipal: string;
  /** State filters leave for each other; null until one is set. */
  metadata: Map<string, unknown> | null;
  chain: NetworkFilterChain;
  index: number;
}

export interface NetworkFilter {
  /** The name config uses (ProxyConfig listener `networkFilters[].name`). */
  readonly name: string;
  /** Check the filter's config when a config is applied; throws Error with a clear message (NACK). */
  check?(config: unknown): void;
  onConnection(c: ConnectionContext, config: unknown): NetworkFilterStatus;
}

export interface NetworkFilterSlot {
  readonly filter: NetworkFilter;
  readonly config: unknown;
}

export type NetworkFilterChain = readonly NetworkFilterSlot[];

/** Run a new connection through `chain`. */
export function runConnection(socket: Socket, listener: Listener, proxy: ProxyContext, stats: TcpListenerStats, opts: TcpProxyOptions, chain: NetworkFilterChain): void {
  const c: ConnectionContext = { socket, listener, proxy, stats, opts, peerPrincipal: verifiedPeerOf(socket), metadata: null, chain, index: 0 };
  resumeConnection(c);
}

/** Run the filters after the one that stopped last (a suspended filter calls this when done). */
export function resumeConnection(c: ConnectionContext): void {
  try {
    while (c.index < c.chain.length) {
      // Gone while a filter held it: nothing reaches tcp_proxy, so its owner hears of the close here.
      if (c.socket.destroyed) return closeConnection(c);
      const slot = c.chain[c.index++] as NetworkFilterSlot;
      if (slot.filter.onConnection(c, slot.config) === NF_STOP) return;
    }
    // Every list ends with tcp_proxy (config check), which always stops: not reached.
    closeConnection(c);
  } catch {
    // A bug in a filter costs this connection, never the process.
    closeConnection(c);
  }
}

/** Close the connection without proxying it (a filter's refusal). */
export function closeConnection(c: ConnectionContext): void {
  if (!c.socket.destroyed) c.socket.destroy();
  c.opts.onClose?.();
}
