// TcpListener: plain TCP proxying for `protocol: tcp` listeners — weighted cluster, balancer
// pick, then bytes both ways (stream pipes handle backpressure). No HTTP awareness.
// An inbound listener of a sidecar with a workload certificate also terminates mutual TLS
// (PERMISSIVE): the first bytes are awaited up to the detection bound (100 ms by default; a
// server-first protocol's client sends nothing, so it goes on in plaintext after the bound); a
// ClientHello → mTLS, then the decrypted bytes are proxied; anything else → plaintext.
// A gateway TLS server that terminates (SIMPLE / MUTUAL / OPTIONAL_MUTUAL / ISTIO_MUTUAL) has its
// `tls`: the same termination as HTTPS servers (tls/downstream-tls.ts), then the decrypted bytes
// go through the network filters (rbac sees the verified peer identity) to tcp_proxy.
import { net } from "../../core/builtins.ts";
import type { Server, Socket } from "node:net";
import type { TimerHandle } from "../../core/clock.ts";
import { listenOn } from "../../core/listen.ts";
import type { Listener } from "../../model/proxy-config.ts";
import { DEFAULT_DETECTION_TIMEOUT_MS } from "../detect/dispatch.ts";
import { MeshTlsTerminator } from "../detect/mesh-tls.ts";
import type { ProxyContext } from "../request/context.ts";
import { networkChainFor } from "../tcp/filters/registry.ts";
import { runConnection } from "../tcp/network-filter.ts";
import { TcpListenerStats } from "../tcp/tcp-stats.ts";
import { admitConnection, ListenerConnectionStats } from "./connection-limit.ts";
import { DownstreamTls } from "../tls/downstream-tls.ts";
import { credentialDeps } from "./http-listener.ts";

const { createServer } = net;

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
  /** Mutual TLS counters (inbound listeners with a workload certificate). */
  readonly mtlsStats = { mtls: 0, mtlsRefused: 0, sessionReused: 0, plaintextRefused: 0 };
  /** Inbound listener of a sidecar with a workload certificate: PERMISSIVE mutual TLS. */
  readonly meshTls: MeshTlsTerminator | null;
  /** TLS termination (Gateway TLS servers that do not pass through): certificates watched until close. */
  readonly tls: DownstreamTls | null;

  constructor(config: Listener, proxy: ProxyContext) {
    this.config = config;
    this.proxy = proxy;
    this.port = config.port;
    this.connectionLimit = config.connectionLimit;
    this.meshTls = config.direction === "inbound" && proxy.mesh !== undefined && config.mtls !== "DISABLE" ? new MeshTlsTerminator(proxy, this.mtlsStats, (t) => this.proxyConnection(t)) : null;
    // No ALPN of its own on TCP (Envoy sets none); ISTIO_MUTUAL servers add Istio's mesh protocols.
    this.tls = config.tls !== undefined ? new DownstreamTls(config.tls, credentialDeps(proxy), (s) => this.onConnection(s), []) : null;
    this.server = this.tls !== null ? this.tls.server : createServer({ noDelay: true, allowHalfOpen: true }, (s) => this.onConnection(s));
  }

  get activeConnections(): number {
    return this.sockets.size;
  }

  /** A push kept this listener (same binding): its limit follows the new config. */
  retune(config: Listener): void {
    this.connectionLimit = config.connectionLimit;
  }

  async listen(): Promise<number> {
    this.port = await listenOn(this.server, this.config.address, this.config.port);
    return this.port;
  }

  close(graceMs = 5000): Promise<void> {
    return new Promise((resolve) => {
      this.server.close();
      this.tls?.close();
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
    if (this.meshTls !== null) return this.detectTls(down);
    this.proxyConnection(down);
  }

  private proxyConnection(down: Socket): void {
    // A config push may change the filters of a listener that stays bound: read the current config.
    const current = this.proxy.runtime.config.listeners.find((l) => l.name === this.config.name) ?? this.config;
    runConnection(down, current, this.proxy, this.stats, { onClose: () => this.sockets.delete(down) }, networkChainFor(current));
  }

  /** PERMISSIVE: a ClientHello (0x16 0x03) in the first bytes → mutual TLS; else plaintext. */
  private detectTls(down: Socket): void {
    let timer: TimerHandle | null = null;
    let decided = false;
    const decide = (first: Buffer | null): void => {
      if (decided) return;
      decided = true;
      timer?.cancel();
      down.off("data", onData);
      down.pause();
      if (first !== null) down.unshift(first);
      if (first !== null && first[0] === 0x16 && (first.length < 2 || first[1] === 0x03)) {
        down.once("close", () => this.sockets.delete(down));
        this.meshTls!.accept(down);
      } else if (this.config.mtls === "STRICT") {
        // PeerAuthentication STRICT: plaintext is refused at the connection.
        this.mtlsStats.plaintextRefused++;
        down.destroy();
      } else {
        this.proxyConnection(down);
      }
    };
    const onData = (d: Buffer): void => decide(d);
    down.on("error", noop);
    down.on("data", onData);
    const bound = this.config.protocolDetectionTimeoutMs ?? DEFAULT_DETECTION_TIMEOUT_MS;
    timer = this.proxy.clock.setTimeout(() => {
      timer = null;
      // As detect/dispatch.ts: a ClientHello that came while this process was off the CPU is read
      // in the poll phase after the timers; decide after it, or it would be taken for plaintext.
      setImmediate(() => decide(null));
    }, bound);
  }
}

function noop(): void {}
