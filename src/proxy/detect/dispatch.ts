// ProtocolDispatcher: what an HTTP (or `auto`) listener does with a new connection before any
// codec sees it. Protocols hook of HttpListener (src/proxy/listener/http-listener.ts).
//
//   TLS listener:  ALPN h2 → HTTP/2 (H2Downstream); anything else → the HTTP/1.1 codec.
//   http listener: peek the first bytes; the h2c preface → HTTP/2, anything else → HTTP/1.1
//                  (a first byte other than `P` decides at once).
//   auto listener: peek up to `protocolDetectionTimeoutMs` (default 100 ms): h2c → HTTP/2,
//                  an HTTP/1.x method → HTTP/1.1, a TLS ClientHello or anything else (or nothing:
//                  a server-first protocol) → TCP proxying by the listener's tcpRoute.
//   inbound listener of a sidecar with a workload certificate (Istio's PERMISSIVE default): a TLS
//                  ClientHello → mutual TLS terminated with the workload certificate (a client
//                  certificate chained to the mesh trust bundle is required, a revoked one is
//                  refused), then the same choice on the decrypted stream; plaintext as above.
// The peeked bytes are put back (`unshift`) so the chosen codec reads the stream from its start.
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TimerHandle } from "../../core/clock.ts";
import type { Listener } from "../../model/proxy-config.ts";
import type { ListenerContext } from "../request/context.ts";
import { h2Room, loadH2Room } from "../http2/door.ts";
import type { H2Downstream } from "../http2/h2-downstream.ts";
import { networkChainFor } from "../tcp/filters/registry.ts";
import { runConnection } from "../tcp/network-filter.ts";
import { TcpListenerStats } from "../tcp/tcp-stats.ts";
import { MeshTlsTerminator } from "./mesh-tls.ts";
import { classifyAtDeadline, classifyFirstBytes, type DetectedProtocol } from "./classify.ts";

/** Envoy's listener_filters_timeout default is 15 s; Istio sniffing uses a short bound. */
export const DEFAULT_DETECTION_TIMEOUT_MS = 100;

/** What each detected protocol went to (admin / tests). */
export class DetectionStats {
  http1 = 0;
  h2 = 0;
  tcp = 0;
  timeouts = 0;
  /** Connections that completed mutual TLS (inbound). */
  mtls = 0;
  /** Mutual TLS handshakes that failed, or whose client certificate was missing, invalid or revoked. */
  mtlsRefused = 0;
  /** Mutual TLS handshakes that resumed a session. */
  sessionReused = 0;
  /** Plaintext connections closed under PeerAuthentication STRICT. */
  plaintextRefused = 0;
}

export class ProtocolDispatcher {
  private readonly config: Listener;
  private readonly ctx: ListenerContext;
  private readonly http1: (s: Socket) => void;
  #h2: H2Downstream | undefined;
  #closed = false;
  readonly stats = new DetectionStats();
  readonly tcpStats = new TcpListenerStats();
  private readonly tcpSockets = new Set<Socket>();
  private readonly peeking = new Set<Socket>();

  constructor(config: Listener, ctx: ListenerContext, http1: (s: Socket) => void) {
    this.config = config;
    this.ctx = ctx;
    this.http1 = http1;
    this.meshTls = config.direction === "inbound" && config.tls === undefined && ctx.proxy.mesh !== undefined && config.mtls !== "DISABLE";
    this.strict = this.meshTls && config.mtls === "STRICT";
    this.meshTerminator = new MeshTlsTerminator(ctx.proxy, this.stats, (t) => this.afterMeshTls(t));
  }

  /** Inbound listener that terminates mutual TLS (a ClientHello among its first bytes). */
  private readonly meshTls: boolean;
  /** PeerAuthentication STRICT: a connection that does not start with a ClientHello is closed. */
  private readonly strict: boolean;

  private readonly meshTerminator: MeshTlsTerminator;

  get terminatesMeshTls(): boolean {
    return this.meshTls;
  }

  /** A new deny list: close the mTLS connections whose client certificate it names. */
  closeRevoked(revocations: { serials: readonly string[]; identities: readonly string[] } | undefined): void {
    this.meshTerminator.closeRevoked(revocations);
  }

  /** Called when a connection this dispatcher held (HTTP/2 session, TCP-proxied socket) ends. */
  onConnectionEnd: (() => void) | undefined;
  private readonly ended = (): void => this.onConnectionEnd?.();

  /** The connection handler for the listener's server. */
  readonly accept = (socket: Socket): void => {
    if (this.config.tls !== undefined) {
      if ((socket as TLSSocket).alpnProtocol === "h2") this.toH2(socket);
      else this.toHttp1(socket, false);
      return;
    }
    const auto = this.config.protocol === "auto";
    const bound = auto ? (this.config.protocolDetectionTimeoutMs ?? DEFAULT_DETECTION_TIMEOUT_MS) : this.ctx.proxy.limits.downstreamIdleTimeoutMs;
    this.peek(socket, bound, auto);
  };

  private peek(socket: Socket, boundMs: number, auto: boolean): void {
    this.peeking.add(socket);
    let buf: Buffer | null = null;
    let timer: TimerHandle | null = null;
    const cleanup = (): void => {
      timer?.cancel();
      timer = null;
      socket.off("data", onData);
      socket.off("close", onClose);
      this.peeking.delete(socket);
    };
    const decide = (kind: DetectedProtocol): void => {
      cleanup();
      socket.pause();
      if (buf !== null) socket.unshift(buf);
      this.route(socket, kind, auto);
    };
    const onData = (d: Buffer): void => {
      buf = buf === null ? d : Buffer.concat([buf, d]);
      // Not a `P`: cannot be the h2c preface; an HTTP listener needs to know no more.
      if (!auto && buf[0] !== 0x50 && !(buf[0] === 0x16 && this.meshTls && !isTls(socket))) return decide("http1");
      const r = classifyFirstBytes(buf);
      if (r !== "more") decide(r);
    };
    const onClose = (): void => cleanup();
    socket.on("error", noop);
    socket.on("data", onData);
    socket.on("close", onClose);
    if (boundMs > 0) {
      timer = this.ctx.proxy.clock.setTimeout(() => {
        timer = null;
        if (auto) {
          // Bytes that came while this process was off the CPU are read in the event loop's poll
          // phase, which comes after its timers: give them that phase (setImmediate runs after it)
          // before calling the client silent, or a loaded sidecar routes HTTP as TCP.
          setImmediate(() => {
            if (!this.peeking.has(socket)) return;
            this.stats.timeouts++;
            decide(classifyAtDeadline(buf ?? EMPTY));
          });
        } else {
          // An HTTP listener: a client that sent nothing for the idle timeout is closed.
          cleanup();
          socket.destroy();
        }
      }, boundMs);
    }
  }

  private route(socket: Socket, kind: DetectedProtocol, auto: boolean): void {
    if (kind === "tls" && this.meshTls && !isTls(socket)) return this.toMeshTls(socket);
    if (this.strict && !isTls(socket)) {
      this.stats.plaintextRefused++;
      socket.destroy();
      return;
    }
    if (kind === "h2c") return this.toH2(socket);
    if (!auto || kind === "http1") return this.toHttp1(socket, true);
    this.stats.tcp++;
    this.tcpSockets.add(socket);
    const proxy = this.ctx.proxy;
    const current = proxy.runtime.config.listeners.find((l) => l.name === this.config.name) ?? this.config;
    const onClose = (): void => {
      this.tcpSockets.delete(socket);
      this.ended();
    };
    runConnection(socket, current, proxy, this.tcpStats, { onClose }, networkChainFor(current));
  }

  /** Terminate mutual TLS (MeshTlsTerminator); the decrypted stream is dispatched as a plaintext one would be. */
  private toMeshTls(socket: Socket): void {
    this.meshTerminator.accept(socket);
  }

  private afterMeshTls(t: TLSSocket): void {
    if (t.alpnProtocol === "h2") return this.toH2(t);
    const auto = this.config.protocol === "auto";
    const bound = auto ? (this.config.protocolDetectionTimeoutMs ?? DEFAULT_DETECTION_TIMEOUT_MS) : this.ctx.proxy.limits.downstreamIdleTimeoutMs;
    this.peek(t, bound, auto);
  }

  /**
   * The HTTP/2 side, made on the first HTTP/2 connection (the room loaded: http2/door.ts).
   * Downstream HTTP/2 is Amime's own framing (http2/codec/); `node:http2` (≈ 10 MB of RSS) is
   * loaded only for an HTTP/2 upstream (issue 15).
   */
  private h2(room: NonNullable<ReturnType<typeof h2Room>>): H2Downstream {
    if (this.#h2 !== undefined) return this.#h2;
    const h2 = new room.H2Downstream(this.ctx, this.config.tls !== undefined);
    h2.onSessionEnd = this.ended;
    if (this.#closed) h2.close();
    return (this.#h2 = h2);
  }

  /**
   * A connection that speaks HTTP/2 (`counted`: inside a CONNECT tunnel, already counted). The
   * first one of a process that has not loaded the HTTP/2 room waits for it, held like a peeked
   * connection (counted, destroyed by close()); a room that fails to load closes it.
   */
  toH2(socket: Socket, counted = false): void {
    if (!counted) this.stats.h2++;
    const room = h2Room();
    if (room !== undefined) return this.h2(room).accept(socket, counted);
    this.peeking.add(socket);
    socket.on("error", noop);
    loadH2Room().then(
      (r) => {
        if (!this.peeking.delete(socket) || socket.destroyed) return;
        this.h2(r).accept(socket, counted);
      },
      (e: unknown) => {
        this.peeking.delete(socket);
        socket.destroy();
        process.stderr.write(`amime proxy: HTTP/2 connection closed: ${(e as Error).message}\n`);
      },
    );
  }

  private toHttp1(socket: Socket, resume: boolean): void {
    this.stats.http1++;
    this.http1(socket);
    // The peek paused the socket; the codec's 'data' listener does not resume a paused stream.
    if (resume) socket.resume();
  }

  /** Stop: GOAWAY to HTTP/2 sessions, drop connections still being peeked. */
  close(): void {
    this.#closed = true;
    this.#h2?.close();
    for (const s of this.peeking) s.destroy();
    this.peeking.clear();
    this.meshTerminator.destroyPending();
  }

  /** Connections this dispatcher holds outside the HTTP/1.1 codec. */
  get activeConnections(): number {
    return (this.#h2?.activeSessions ?? 0) + this.tcpSockets.size + this.peeking.size + this.meshTerminator.pending;
  }

  /** Force-close what is left (after the grace period). */
  destroy(): void {
    this.#h2?.destroy();
    for (const s of this.tcpSockets) s.destroy();
  }
}

const EMPTY = Buffer.alloc(0);

function isTls(s: Socket): boolean {
  return (s as TLSSocket).encrypted === true;
}

function noop(): void {}
