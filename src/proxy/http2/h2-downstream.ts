// H2Downstream: the HTTP/2 side of one HTTP listener. The listener keeps its own net / tls server
// and hands over connections that speak HTTP/2 — h2c prior knowledge (the client preface
// `PRI * HTTP/2.0`, found by src/proxy/detect; also inside a CONNECT tunnel) or TLS with ALPN
// `h2` — to Amime's own HTTP/2 server framing (codec/: one H2Connection per connection; node:http2
// is not used on the downstream side). Each stream becomes an H2Exchange run through its
// listener's HTTP filter chain (http/filters/). HTTP/1.1 `Upgrade: h2c` is not taken (it passes
// through as any upgrade).
import type { IncomingHttpHeaders } from "node:http2";
import type { Socket } from "node:net";
import type { ListenerContext } from "../request/context.ts";
import { verifiedPeerOf, xfccPlanOf } from "../detect/mesh-tls.ts";
import type { XfccPlan } from "../detect/xfcc.ts";
import type { DownstreamStream } from "./downstream-stream.ts";
import { H2Connection } from "./codec/index.ts";
import { stripV4Mapped } from "../io/source-ip.ts";
import { H2Exchange } from "./h2-exchange.ts";
import { runChain } from "../http/filters/chain.ts";
import { chainFor } from "../http/filters/registry.ts";

/** Streams per connection, as Envoy's default; header lists as large as the HTTP/1.1 codec accepts (60 KiB). */
const MAX_CONCURRENT_STREAMS = 1024;
const MAX_HEADER_LIST_SIZE = 64 * 1024;

export class H2Downstream {
  private readonly ctx: ListenerContext;
  private readonly secure: boolean;
  private readonly connections = new Set<H2Connection>();
  private closing = false;

  constructor(ctx: ListenerContext, secure: boolean) {
    this.ctx = ctx;
    this.secure = secure;
  }

  /**
   * Take a connection whose first bytes (already unshifted) are the HTTP/2 preface, or a TLS socket
   * with ALPN h2. `counted`: the downstream connection stats already hold it (a CONNECT tunnel).
   */
  accept(socket: Socket, counted = false): void {
    socket.setNoDelay(true);
    const proxy = this.ctx.proxy;
    const stats = proxy.downstream;
    if (!counted) {
      stats.downstream_cx_total++;
      stats.downstream_cx_active++;
    }
    const sourceIp = stripV4Mapped(socket.remoteAddress ?? "");
    const peer = verifiedPeerOf(socket);
    const xfcc = xfccPlanOf(socket);
    const conn: H2Connection = new H2Connection(
      socket,
      {
        onStream: (stream, headers, endStream) => this.onStream(stream, headers, endStream, sourceIp, peer, xfcc),
        onClose: () => {
          if (!counted) stats.downstream_cx_active--;
          this.connections.delete(conn);
          this.onSessionEnd?.();
        },
      },
      {
        now: () => proxy.clock.now(),
        maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
        maxHeaderListSize: MAX_HEADER_LIST_SIZE,
        maxHeaderPairs: proxy.limits.head.maxHeaders + 8,
        // A tunnel's socket still belongs to its HTTP/1.1 connection (its listeners stay).
        sharedReads: !counted,
      },
    );
    this.connections.add(conn);
    if (this.closing) conn.close();
  }

  private onStream(stream: DownstreamStream, headers: IncomingHttpHeaders, endStream: boolean, sourceIp: string, peer: string, xfcc: XfccPlan | null): void {
    const x = new H2Exchange(stream, headers, endStream, this.ctx, sourceIp, this.secure);
    x.peerPrincipal = peer;
    x.xfcc = xfcc;
    if (headers[":method"] === "CONNECT") {
      x.reply(501, 0, "CONNECT is not supported");
      return;
    }
    runChain(x, chainFor(x.runtime, this.ctx.name));
  }

  /** Called after a connection ends (the listener's drain waits for the last one). */
  onSessionEnd: (() => void) | undefined;

  get activeSessions(): number {
    return this.connections.size;
  }

  /** GOAWAY to every connection: streams in flight finish, no new ones. */
  close(): void {
    this.closing = true;
    for (const c of this.connections) c.close();
  }

  /** Drop every connection now. */
  destroy(): void {
    for (const c of this.connections) c.destroy();
  }
}
