// Downstream connection limits at accept, as Envoy's listener enforces them: the listener's own
// limit (`connectionLimit`, counted in `downstream_cx_overflow`), then the proxy-wide one (the
// overload manager's `global_downstream_max_connections`, counted in
// `downstream_global_cx_overflow`). A connection over a limit is closed at once, before any byte
// is read; the proxy keeps serving the connections it holds.
import type { Socket } from "node:net";
import type { ProxyContext } from "../request/context.ts";

/** Envoy's listener stats for refused connections (listener.<name>.*). */
export class ListenerConnectionStats {
  downstream_cx_overflow = 0;
  downstream_global_cx_overflow = 0;
}

/**
 * Whether `socket` may stay: `open` is what the listener holds already, `limit` its own limit.
 * The proxy-wide count comes from `proxy.downstreamActive` (every listener's open connections).
 */
export function admitConnection(socket: Socket, open: number, limit: number | undefined, proxy: ProxyContext, stats: ListenerConnectionStats): boolean {
  if (limit !== undefined && open >= limit) {
    stats.downstream_cx_overflow++;
    refuse(socket);
    return false;
  }
  const max = proxy.runtime.config.overload?.globalDownstreamMaxConnections;
  if (max !== undefined && proxy.downstreamActive !== undefined && proxy.downstreamActive() >= max) {
    stats.downstream_global_cx_overflow++;
    refuse(socket);
    return false;
  }
  return true;
}

function refuse(socket: Socket): void {
  socket.on("error", noop);
  socket.destroy();
}

function noop(): void {}
