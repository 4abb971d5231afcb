// H2Request: an HTTP/2 request's head as the router, the filters and the upstream side read it:
// the RequestView (method, :path, :authority, scheme, port, a header by name) over the stream's
// header object, with the filters' header edits laid over it (request/header-edits.ts) rather than
// copied into it; each header the upstream request carries; the connection's addresses; and the
// head as HTTP/1.1 for a mirror cluster. H2Exchange is this plus the request's body, its response
// and its record.
import { Buffer } from "../../core/builtins.ts";
import type { IncomingHttpHeaders } from "node:http2";
import type { ListenerDirection } from "../../model/proxy-config.ts";
import type { ListenerContext } from "../request/context.ts";
import { HeaderEdits, withEdits } from "../request/header-edits.ts";
import type { DownstreamStream } from "./downstream-stream.ts";
import { firstValue, forEachForwardable, h1RequestHead, type HeaderPairs } from "./headers.ts";
import { isGrpcContentType } from "./grpc.ts";

export abstract class H2Request {
  readonly stream: DownstreamStream;
  readonly headers: IncomingHttpHeaders;
  readonly listenerCtx: ListenerContext;
  readonly sourceIp: string;
  readonly scheme: "http" | "https";
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly grpc: boolean;
  /** Request header edits by filters; null when none edited. */
  edits: HeaderEdits | null = null;

  constructor(stream: DownstreamStream, headers: IncomingHttpHeaders, ctx: ListenerContext, sourceIp: string, secure: boolean) {
    this.stream = stream;
    this.headers = headers;
    this.listenerCtx = ctx;
    this.sourceIp = sourceIp;
    this.scheme = secure ? "https" : "http";
    this.method = firstValue(headers[":method"]) || "GET";
    this.path = firstValue(headers[":path"]) || "/";
    this.authority = firstValue(headers[":authority"]) || firstValue(headers.host);
    this.grpc = isGrpcContentType(firstValue(headers["content-type"]) || undefined);
  }

  get listener(): string {
    return this.listenerCtx.name;
  }
  get direction(): ListenerDirection {
    return this.listenerCtx.direction;
  }
  get port(): number {
    return this.listenerCtx.port;
  }

  header(name: string): string | undefined {
    const e = this.edits;
    if (e !== null) {
      const v = e.get(name);
      if (v !== undefined) return v ?? undefined;
    }
    if (name === "host") return this.authority;
    const v = this.headers[name];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v.join(",") : String(v);
  }
  setHeader(name: string, value: string): void {
    (this.edits ??= new HeaderEdits()).put(name, value);
  }
  removeHeader(name: string): void {
    (this.edits ??= new HeaderEdits()).remove(name);
  }
  headerNames(): string[] {
    const names = new Set<string>(["host"]);
    for (const n of Object.keys(this.headers)) if (!n.startsWith(":")) names.add(n);
    return withEdits(names, this.edits);
  }

  forEachForwardHeader(drop: (name: string) => boolean, put: (name: string, value: string) => void): void {
    const e = this.edits;
    if (e === null) return forEachForwardable(this.headers, drop, put);
    forEachForwardable(this.headers, (n) => e.get(n) !== undefined || drop(n), put);
    for (const [n, v] of e.set) if (!drop(n)) put(n, v);
  }

  connAddrs(): { sourceIp: string; remoteAddress: string; localAddress: string } {
    const s = this.stream.session?.socket;
    return { sourceIp: this.sourceIp, remoteAddress: `${s?.remoteAddress}:${s?.remotePort}`, localAddress: `${s?.localAddress}:${s?.localPort}` };
  }

  /** The request as HTTP/1.1 for a mirror cluster: the forwardable headers, a Content-Length body. */
  mirrorHead(authority: string, extra: ReadonlyArray<readonly [string, string]>, body: Buffer | undefined): Buffer {
    const headers: HeaderPairs = [];
    this.forEachForwardHeader(isMirrorSet, (n, v) => headers.push([n, v]));
    for (const h of extra) headers.push([h[0], h[1]]);
    if (body === undefined) return h1RequestHead(this.method, this.path, authority, headers, "none");
    headers.push(["content-length", String(body.length)]);
    return Buffer.concat([h1RequestHead(this.method, this.path, authority, headers, "length"), body]);
  }
}

/** Headers a mirror copy sets itself (and content-length, which it writes for the held body). */
function isMirrorSet(name: string): boolean {
  return name === "x-forwarded-for" || name === "x-envoy-attempt-count" || name === "content-length" || name === "x-forwarded-client-cert";
}
