// H2Downstream: the HTTP/2 side of one HTTP listener. The listener keeps its own net / tls server
// and hands over connections that speak HTTP/2 — h2c prior knowledge (the client preface
// `PRI * HTTP/2.0`, found by src/proxy/detect) or TLS with ALPN `h2` — to an unlistened
// node:http2 server (`emit("connection")`). Each stream becomes an H2Exchange run through its
// listener's HTTP filter chain (http/filters/). HTTP/1.1 `Upgrade: h2c` is not taken (it passes
// through as any upgrade).
import type { Http2Server, Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import type { ListenerContext } from "../request/context.ts";
import { verifiedPeerOf, xfccPlanOf } from "../detect/mesh-tls.ts";
import type { XfccPlan } from "../detect/xfcc.ts";
import { H2Exchange } from "./h2-exchange.ts";
import { runChain } from "../http/filters/chain.ts";
import { chainFor } from "../http/filters/registry.ts";
import { http2Module } from "../../core/builtins.ts";

const END_STREAM = 0x1;

export class H2Downstream {
  private readonly server: Http2Server;
  private readonly ctx: ListenerContext;
  private readonly secure: boolean;
  private readonly sessions = new Set<Http2Session>();
  private closing = false;
  private adopting = false;
  /** The verified mTLS peer of the connection being handed to the server (read in 'session'). */
  private adoptingPeer = "";
  /** Sessions on verified mTLS connections → the peer's SPIFFE URI. */
  private readonly peers = new WeakMap<Http2Session, string>();
  private adoptingXfcc: XfccPlan | null = null;
  /** Each session's x-forwarded-client-cert plan (decided once per connection). */
  private readonly xfccs = new WeakMap<Http2Session, XfccPlan>();

  constructor(ctx: ListenerContext, secure: boolean) {
    this.ctx = ctx;
    this.secure = secure;
    this.server = http2Module().createServer({
      // Header lists as large as the HTTP/1.1 codec accepts (60 KiB); streams per session as Envoy's default.
      maxHeaderListPairs: ctx.proxy.limits.head.maxHeaders + 8,
      maxSendHeaderBlockLength: 64 * 1024,
      settings: { maxConcurrentStreams: 1024, maxHeaderListSize: 64 * 1024 },
    });
    this.server.on("session", (s: Http2Session) => {
      const stats = ctx.proxy.downstream;
      // A connection the HTTP/1.1 codec took first (a CONNECT tunnel) is counted there already.
      const counted = !this.adopting;
      if (counted) {
        stats.downstream_cx_total++;
        stats.downstream_cx_active++;
      }
      this.sessions.add(s);
      if (this.adoptingPeer !== "") this.peers.set(s, this.adoptingPeer);
      if (this.adoptingXfcc !== null) this.xfccs.set(s, this.adoptingXfcc);
      s.on("error", noop);
      s.once("close", () => {
        if (counted) stats.downstream_cx_active--;
        this.sessions.delete(s);
        this.onSessionEnd?.();
      });
      if (this.closing) s.close();
    });
    this.server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number) => this.onStream(stream, headers, flags));
  }

  /**
   * Take a connection whose first bytes (already unshifted) are the HTTP/2 preface, or a TLS socket
   * with ALPN h2. `counted`: the downstream connection stats already hold it (a CONNECT tunnel).
   */
  accept(socket: Socket, counted = false): void {
    socket.setNoDelay(true);
    // node:http2 creates the session (and emits "session") synchronously inside "connection".
    this.adopting = counted;
    this.adoptingPeer = verifiedPeerOf(socket);
    this.adoptingXfcc = xfccPlanOf(socket);
    try {
      this.server.emit("connection", socket);
    } finally {
      this.adopting = false;
      this.adoptingPeer = "";
      this.adoptingXfcc = null;
    }
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
    const sock = stream.session?.socket;
    const x = new H2Exchange(stream, headers, (flags & END_STREAM) !== 0, this.ctx, stripV4Mapped(sock?.remoteAddress ?? ""), this.secure);
    const session = stream.session;
    if (session !== undefined) {
      x.peerPrincipal = this.peers.get(session) ?? "";
      x.xfcc = this.xfccs.get(session) ?? null;
    }
    if (headers[":method"] === "CONNECT") {
      x.reply(501, 0, "CONNECT is not supported");
      return;
    }
    runChain(x, chainFor(x.runtime, this.ctx.name));
  }

  /** Called after a session ends (the listener's drain waits for the last one). */
  onSessionEnd: (() => void) | undefined;

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** GOAWAY to every session: streams in flight finish, no new ones. */
  close(): void {
    this.closing = true;
    for (const s of this.sessions) s.close();
  }

  /** Drop every session now. */
  destroy(): void {
    for (const s of this.sessions) s.destroy();
  }
}

function stripV4Mapped(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

function noop(): void {}
