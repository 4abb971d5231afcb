// HttpListener: a raw `net` server for one HTTP listener of the ProxyConfig (outbound, inbound or
// gateway). It admits connections within the connection limits (connection-limit.ts), gives each
// a DownstreamConnection (HTTP/1.1 heads bounded by header-timeout.ts); close() stops accepting
// and closes connections as their in-flight request finishes.
import { net } from "../../core/builtins.ts";
import type { Server, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TimerHandle } from "../../core/clock.ts";
import { listenOn } from "../../core/listen.ts";
import type { Listener } from "../../model/proxy-config.ts";
import type { ListenerContext, ProxyContext } from "../request/context.ts";
import { DownstreamConnection } from "./downstream-connection.ts";
import { DownstreamTls, type DownstreamTlsDeps } from "../tls/downstream-tls.ts";
import { ProtocolDispatcher } from "../detect/dispatch.ts";
import { admitConnection, ListenerConnectionStats } from "./connection-limit.ts";
import { HeaderTimeouts } from "./header-timeout.ts";
import { setXfccPlan } from "../detect/mesh-tls.ts";
import { xfccPlan } from "../detect/xfcc.ts";

const { createServer } = net;

export class HttpListener {
  readonly config: Listener;
  readonly ctx: ListenerContext;
  private readonly server: Server;
  /** TLS termination (Gateway servers): its certificates are watched until the listener closes. */
  readonly tls: DownstreamTls | null;
  /** Protocols: HTTP/2 (h2c preface, ALPN h2) and `auto` detection before the HTTP/1.1 codec. */
  readonly dispatcher: ProtocolDispatcher;
  private readonly connections = new Set<DownstreamConnection>();
  /** close() calls waiting for the last connection to go. */
  private closeWaiters: (() => void)[] = [];
  private readonly forget = (c: DownstreamConnection): void => {
    this.connections.delete(c);
    this.wakeCloseWaiters();
  };
  /** close() resolves when the last connection of any kind is gone (or at its grace time). */
  private wakeCloseWaiters(): void {
    if (this.closeWaiters.length === 0 || this.heldConnections() > 0) return;
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }
  /** HTTP/1.1 connections, HTTP/2 sessions and TCP-proxied connections (auto detection). */
  private heldConnections(): number {
    return this.connections.size + this.dispatcher.activeConnections;
  }
  private sweepTimer: TimerHandle | null = null;
  private closed = false;
  /** Connections refused at accept (Envoy listener stats). */
  readonly connectionStats = new ListenerConnectionStats();
  private connectionLimit: number | undefined;
  private readonly headerTimeouts: HeaderTimeouts;
  /** The listener's x-forwarded-client-cert setting (gateways); a push changes it for new connections. */
  private xfcc: Listener["xfcc"];

  constructor(config: Listener, proxy: ProxyContext) {
    this.config = config;
    this.connectionLimit = config.connectionLimit;
    this.headerTimeouts = new HeaderTimeouts(proxy.clock, config.requestHeadersTimeoutMs ?? 0);
    this.ctx = {
      name: config.name,
      direction: config.direction,
      routeConfigName: config.routeConfigName ?? config.name,
      secure: config.tls !== undefined,
      port: config.port,
      proxy,
    };
    const accept = (socket: Socket): void => {
      this.connections.add(new DownstreamConnection(socket, this.ctx, this.forget, this.headerTimeouts));
      if (this.sweepTimer === null) this.scheduleSweep();
    };
    // Protocols hook: TLS termination (src/proxy/tls/downstream-tls.ts) in front of the same codec;
    // the dispatcher (src/proxy/detect/) sends HTTP/2 and, on `auto` listeners, TCP elsewhere.
    this.dispatcher = new ProtocolDispatcher(config, this.ctx, accept);
    this.dispatcher.onConnectionEnd = () => this.wakeCloseWaiters();
    // h2c inside a CONNECT tunnel goes to the same HTTP/2 side (src/proxy/connect/).
    this.ctx.acceptH2 = (s) => this.dispatcher.toH2(s, true);
    this.xfcc = config.xfcc;
    const admit = (socket: Socket): void => {
      if (!admitConnection(socket, this.activeConnections, this.connectionLimit, proxy, this.connectionStats)) return;
      // x-forwarded-client-cert as this listener says (gateways), decided once per connection.
      if (this.xfcc !== undefined) setXfccPlan(socket, xfccPlan(this.xfcc, this.tls !== null ? (socket as TLSSocket) : null));
      this.dispatcher.accept(socket);
    };
    this.tls = config.tls !== undefined ? new DownstreamTls(config.tls, credentialDeps(proxy), admit, ["h2", "http/1.1"]) : null;
    this.server = this.tls !== null ? this.tls.server : createServer({ noDelay: true }, admit);
  }

  /** A push kept this listener (same binding): its limits follow the new config. */
  retune(config: Listener): void {
    this.connectionLimit = config.connectionLimit;
    this.xfcc = config.xfcc;
    this.headerTimeouts.setTimeout(config.requestHeadersTimeoutMs ?? 0);
  }

  /**
   * Idle connections are found by one coarse sweep per listener rather than a socket timer per
   * connection (Node re-arms a socket's timer on every read and write: a cost per request). The
   * sweep runs only while connections are open.
   */
  private scheduleSweep(): void {
    const idleMs = this.ctx.proxy.limits.downstreamIdleTimeoutMs;
    if (!(idleMs > 0) || this.closed) return;
    const every = Math.min(10_000, Math.max(50, Math.floor(idleMs / 8)));
    this.sweepTimer = this.ctx.proxy.clock.setTimeout(() => {
      this.sweepTimer = null;
      const now = this.ctx.proxy.clock.now();
      for (const c of this.connections) c.checkIdle(now, idleMs);
      if (this.connections.size > 0) this.scheduleSweep();
    }, every);
  }

  /** Bind; resolves with the bound port (config port 0 picks a free one). */
  async listen(): Promise<number> {
    this.ctx.port = await listenOn(this.server, this.config.address, this.config.port);
    return this.ctx.port;
  }

  get port(): number {
    return this.ctx.port;
  }

  /** Open connections: HTTP/1.1 ones, HTTP/2 sessions, TCP (auto listeners) and those being peeked. */
  get activeConnections(): number {
    return this.connections.size + this.dispatcher.activeConnections;
  }

  /**
   * Stop accepting; idle connections close now, busy ones after their response. Resolves when
   * every connection is gone, or after `graceMs` (then the rest are destroyed).
   */
  close(graceMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      this.closed = true;
      this.headerTimeouts.close();
      this.sweepTimer?.cancel();
      this.sweepTimer = null;
      this.server.close();
      this.tls?.close();
      this.dispatcher.close();
      for (const c of this.connections) c.close();
      if (this.heldConnections() === 0) {
        resolve();
        return;
      }
      // The grace time is the proxy's Clock's; the last connection's close resolves earlier.
      const timer = this.ctx.proxy.clock.setTimeout(() => {
        for (const c of this.connections) c.destroy();
        this.dispatcher.destroy();
        resolve();
      }, graceMs);
      this.closeWaiters.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }
}

/** What TLS termination of a listener needs from the proxy: its secret store, namespace, workload certificate and deny list. */
export function credentialDeps(proxy: ProxyContext): DownstreamTlsDeps {
  return {
    secrets: proxy.secrets,
    namespace: proxy.runtime.config.node.namespace || "default",
    log: (line) => process.stderr.write(`amime proxy: ${line}\n`),
    mesh: proxy.mesh,
    revocations: () => proxy.runtime.config.revocations,
  };
}
