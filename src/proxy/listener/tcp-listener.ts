// TcpListener: plain TCP proxying for `protocol: tcp` listeners — weighted cluster, balancer
// pick, then bytes both ways (stream pipes handle backpressure). No HTTP awareness.
import { connect, createServer, type Server, type Socket } from "node:net";
import type { Listener } from "../../model/proxy-config.ts";
import type { ProxyContext } from "../http/context.ts";
import { pickWeightedCluster } from "../router/index.ts";

export class TcpListener {
  readonly config: Listener;
  private readonly proxy: ProxyContext;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  port: number;

  constructor(config: Listener, proxy: ProxyContext) {
    this.config = config;
    this.proxy = proxy;
    this.port = config.port;
    this.server = createServer({ noDelay: true }, (s) => this.onConnection(s));
  }

  get activeConnections(): number {
    return this.sockets.size;
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
      const t = setTimeout(() => {
        for (const s of this.sockets) s.destroy();
        resolve();
      }, graceMs);
      this.server.once("close", () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private onConnection(down: Socket): void {
    const route = this.config.tcpRoute;
    const wc = route === undefined ? undefined : pickWeightedCluster(route.clusters, this.proxy.random);
    const cluster = wc === undefined ? undefined : this.proxy.runtime.clusters.get(wc.cluster);
    const host = cluster?.balancer.pick() ?? null;
    if (cluster === undefined || host === null) {
      down.destroy();
      return;
    }
    const pool = cluster.poolConfig;
    if (cluster.stats.upstream_cx_active >= pool.maxConnections) {
      // Envoy tcp_proxy: the connection circuit breaker closes the downstream at once (UO).
      cluster.stats.upstream_cx_overflow++;
      down.destroy();
      return;
    }
    this.sockets.add(down);
    cluster.stats.upstream_cx_total++;
    cluster.stats.upstream_cx_active++;
    host.activeRequests++;
    const ka = pool.tcpKeepalive;
    const up = connect({
      host: host.address,
      port: host.port,
      noDelay: true,
      ...(ka !== undefined ? { keepAlive: true, keepAliveInitialDelay: ka.timeMs ?? 0 } : {}),
    });
    if (pool.connectTimeoutMs > 0) {
      up.setTimeout(pool.connectTimeoutMs, () => {
        cluster.stats.upstream_cx_connect_fail++;
        cluster.outlier?.onLocalOriginFailure(host, "connect-failed");
        done();
      });
    }
    up.once("connect", () => {
      up.setTimeout(0);
      cluster.outlier?.onLocalOriginSuccess(host);
    });
    const idle = route?.idleTimeoutMs ?? 3_600_000;
    down.setTimeout(idle, () => down.destroy());
    let closed = false;
    const done = (): void => {
      if (closed) return;
      closed = true;
      this.sockets.delete(down);
      cluster.stats.upstream_cx_active--;
      host.activeRequests--;
      down.destroy();
      up.destroy();
    };
    up.on("error", () => {
      if (!up.connecting) return done();
      cluster.stats.upstream_cx_connect_fail++;
      cluster.outlier?.onLocalOriginFailure(host, "connect-failed");
      done();
    });
    down.on("error", done);
    up.on("close", done);
    down.on("close", done);
    down.pipe(up);
    up.pipe(down);
  }
}
