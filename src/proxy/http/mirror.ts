// Traffic mirroring (shadowing): a copy of the request goes to the mirror cluster with `-shadow`
// appended to its host; the response is read and discarded. Fire-and-forget: it never delays or
// fails the main request. Bounded: only requests whose whole body is held (body-less, or under
// the replay bound) are mirrored, at most `maxActiveMirrors` at once, each abandoned after
// `mirrorTimeoutMs`.
import type { TimerHandle } from "../../core/clock.ts";
import type { ResponseHead } from "../http1/types.ts";
import { shadowAuthority } from "../router/index.ts";
import { XFCC_HEADER, xfccHeaderValue } from "../detect/xfcc.ts";
import type { Host } from "../upstream/balance/balancer.ts";
import type { ClusterState } from "../upstream/cluster-manager.ts";
import { pickRequestHost, requestHash } from "../upstream/host-choice.ts";
import type { UpstreamConnection, UpstreamSink } from "../upstream/upstream-connection.ts";
import type { ProxyContext, RequestContext } from "../request/context.ts";

/**
 * Send the mirrors now if the body is complete, or when it completes. HTTP/1.1 and HTTP/2
 * downstreams alike: the copy goes upstream as HTTP/1.1 (RequestContext.mirrorHead).
 */
export function mirrorRequest(x: RequestContext, clusters: readonly string[]): void {
  if (clusters.length === 0) return;
  if (x.bodyDone) {
    sendMirrors(x, clusters);
    return;
  }
  x.pendingMirrors = clusters;
  x.onBodyComplete = onBodyComplete;
}

function onBodyComplete(x: RequestContext): void {
  const clusters = x.pendingMirrors;
  x.pendingMirrors = null;
  if (clusters !== null) sendMirrors(x, clusters);
}

function sendMirrors(x: RequestContext, clusters: readonly string[]): void {
  if (!x.replayable) return;
  const proxy = x.proxy;
  for (const name of clusters) {
    const cluster = x.runtime.clusters.get(name);
    if (cluster === undefined) continue;
    if (proxy.activeMirrors >= proxy.limits.maxActiveMirrors) return;
    const host = pickRequestHost(cluster, x.authority, x.port, requestHash(cluster, x), null);
    if (host === null) continue;
    const xff = x.header("x-forwarded-for");
    const extra: [string, string][] = [["x-forwarded-for", xff === undefined || xff === "" ? x.sourceIp : `${xff}, ${x.sourceIp}`]];
    if (x.requestIdGenerated && x.requestId !== "") extra.push(["x-request-id", x.requestId]);
    // x-forwarded-client-cert as on the main request (Envoy shadows the request as the HCM set it).
    if (x.xfcc !== null) {
      const v = xfccHeaderValue(x.xfcc, x.header(XFCC_HEADER));
      if (v !== undefined) extra.push([XFCC_HEADER, v]);
    }
    const head = x.mirrorHead(shadowAuthority(x.authority), extra, x.bodyDone ? x.bodyBuffer() : undefined);
    new MirrorRequest(x, cluster, host, head).start();
  }
}

class MirrorRequest implements UpstreamSink {
  private readonly cluster: ClusterState;
  private readonly host: Host;
  private readonly head: Buffer;
  private readonly method: string;
  private readonly proxy: ProxyContext;
  private conn: UpstreamConnection | null = null;
  private timer: TimerHandle | null = null;
  private done = false;

  constructor(x: RequestContext, cluster: ClusterState, host: Host, head: Buffer) {
    this.proxy = x.proxy;
    this.cluster = cluster;
    this.host = host;
    this.head = head;
    this.method = x.method;
  }

  start(): void {
    const proxy = this.proxy;
    proxy.activeMirrors++;
    this.cluster.stats.upstream_rq_mirror++;
    this.cluster.stats.upstream_rq_total++;
    this.timer = proxy.clock.setTimeout(() => this.finish(), proxy.limits.mirrorTimeoutMs);
    const r = this.cluster.pool(this.host).acquire(this);
    if (r === "overflow" || r === "queued") {
      if (r === "queued") this.cluster.pool(this.host).cancelWait(this);
      this.finish();
      return;
    }
    this.conn = r;
    if (r.connected) this.onUpstreamReady(r);
  }

  onUpstreamReady(conn: UpstreamConnection): void {
    if (this.done) {
      conn.abort();
      return;
    }
    this.conn = conn;
    conn.beginRequest(this.method);
    conn.write(this.head);
    conn.endRequest();
  }

  onUpstreamHead(head: ResponseHead): void {
    if (!head.isInterim) this.cluster.stats.countStatus(head.status);
  }
  onUpstreamData(): void {}
  onUpstreamReadDone(): void {}
  onUpstreamDrain(): void {}

  onUpstreamEnd(): void {
    this.conn = null;
    this.finish();
  }

  onUpstreamError(): void {
    this.conn = null;
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.proxy.activeMirrors--;
    this.timer?.cancel();
    this.timer = null;
    const c = this.conn;
    this.conn = null;
    c?.abort();
  }
}
