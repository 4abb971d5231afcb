// TcpListener: `protocol: tcp` listeners — each connection runs the listener's network filters,
// the last of which (tcp_proxy) picks the weighted cluster and host and relays the bytes both ways
// (stream pipes handle backpressure). No HTTP awareness.
import { createServer, type Server, type Socket } from "node:net";
import type { Listener } from "../../model/proxy-config.ts";
import type { ProxyContext } from "../request/context.ts";
import { networkChainFor } from "../tcp/filters/registry.ts";
import { runConnection } from "../tcp/network-filter.ts";
import { TcpListenerStats } from "../tcp/tcp-stats.ts";
import { admitConnection, ListenerConnectionStats } from "./connection-limit.ts";

export class TcpListener {
  readonly config: Listener;
  private readonly proxy: ProxyContext;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  /** Envoy-style counters of this listener (connections, refusals, bytes both ways). */
  readonly stats = new TcpListenerStats();
  /** Connections refused at accept (Envoy listener stats). */
  readonly connectionStats = new ListenerConnectionStats();
  private connectionLimit: number | undefined;
  port: number;

  constructor(config: Listener, proxy: ProxyContext) {
    this.config = config;
    this.proxy = proxy;
    this.port = config.port;
    this.connectionLimit = config.connectionLimit;
    this.server = createServer({ noDelay: true, allowHalfOpen: true }, (s) => this.onConnection(s));
  }

  get activeConnections(): number {
    return this.sockets.size;
  }

  /** A push kept this listener (same binding): its limit follows the new config. */
  retune(config: Listener): void {
    this.connectionLimit = config.connectionLimit;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen({ host: this.config.address, port: this.config.port }, () => {
        this.server.off("error", reject);
        const a = this.server.address();
        this.port = typeof a === "object" && a !== null ? a.port : this.config.port;
        resolve(this.port);
      });
    });
  }

  close(graceMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      this.server.close();
      if (this.sockets.size === 0) return resolve();
      // The grace time is the proxy's Clock's; the server's close (last connection gone) is earlier.
      const t = this.proxy.clock.setTimeout(() => {
        for (const s of this.sockets) s.destroy();
        resolve();
      }, graceMs);
      this.server.once("close", () => {
        t.cancel();
        resolve();
      });
    });
  }

  /** The listener's network filters (src/proxy/tcp/), ending with tcp_proxy: routing, limits, idle timeout, byte counts. */
  private onConnection(down: Socket): void {
    if (!admitConnection(down, this.sockets.size, this.connectionLimit, this.proxy, this.connectionStats)) return;
    this.sockets.add(down);
    // A config push may change the filters of a listener that stays bound: read the current config.
    const current = this.proxy.runtime.config.listeners.find((l) => l.name === this.config.name) ?? this.config;
    runConnection(down, current, this.proxy, this.stats, { onClose: () => this.sockets.delete(down) }, networkChainFor(current));
  }
}
