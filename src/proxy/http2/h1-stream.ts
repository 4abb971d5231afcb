// H1Stream: an HTTP/1.1 Exchange seen as a ForwardStream, so H2Forwarder can send an HTTP/1.1
// request to an HTTP/2 upstream (Envoy's HTTP/1.1 → HTTP/2 codec bridge; Istio h2UpgradePolicy
// UPGRADE, http2/grpc ports). The response head is written as HTTP/1.1: the upstream's
// content-length is kept, else the body is chunked (HTTP/1.1) or ends at close (HTTP/1.0).
// HTTP/2 trailers are not sent to HTTP/1.1 clients.
import { Buffer } from "../../core/builtins.ts";
import { reasonPhrase } from "../http1/reason-phrase.ts";
import type { CorsPolicy, Route } from "../../model/proxy-config.ts";
import type { ListenerContext, ProxyContext } from "../request/context.ts";
import type { Exchange } from "../http/exchange.ts";
import { ChunkedDecoder, checkHeaderLines } from "../http1/index.ts";
import type { ForwardStream, ForwardStreamSink } from "./forward-stream.ts";
import { isConnectionSpecific, type FlatHeaders, type HeaderPairs } from "./headers.ts";
import type { XfccPlan } from "../detect/xfcc.ts";

const CONTINUE_100 = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
const CRLF = Buffer.from("\r\n", "latin1");
const LAST_CHUNK = Buffer.from("0\r\n\r\n", "latin1");

export class H1Stream implements ForwardStream {
  readonly x: Exchange;
  readonly grpc = false;
  readonly downstreamProtocol = "http1";
  sink: ForwardStreamSink | null = null;
  /** Downstream body framing chosen in respond(). */
  private mode: "none" | "length" | "chunked" | "close" = "none";
  /**
   * The request body as HTTP/2 DATA: the exchange holds it as received (chunk framing included,
   * which mirrors and HTTP/1.1 upstreams want), so it is taken from there and de-chunked.
   */
  readonly bodyChunks: Buffer[] = [];
  bodyHeld = 0;
  /** Raw chunks of x.bodyChunks already taken. */
  private taken = 0;
  private readonly decoder: ChunkedDecoder | null;

  constructor(x: Exchange) {
    this.x = x;
    this.decoder = x.head.framing.kind === "chunked" ? new ChunkedDecoder() : null;
    this.take();
    // The HTTP/2 upstream never sends a 100 for us: answer Expect ourselves (as Envoy does).
    if (x.head.expectContinue && !x.bodyDone) x.conn.write(CONTINUE_100);
  }

  // ---- request side (delegated to the exchange) ----
  get proxy(): ProxyContext {
    return this.x.proxy;
  }
  get listenerCtx(): ListenerContext {
    return this.x.listenerCtx;
  }
  get route(): Route | null {
    return this.x.route;
  }
  get cors(): CorsPolicy | undefined {
    return this.x.cors;
  }
  get xfcc(): XfccPlan | null {
    return this.x.conn.xfcc;
  }
  get sourceIp(): string {
    return this.x.sourceIp;
  }
  get scheme(): "http" | "https" {
    return this.x.scheme;
  }
  get method(): string {
    return this.x.method;
  }
  get path(): string {
    return this.x.path;
  }
  get authority(): string {
    return this.x.authority;
  }
  get requestId(): string {
    return this.x.requestId;
  }
  get requestIdGenerated(): boolean {
    return this.x.requestIdGenerated;
  }
  get metadata(): Map<string, unknown> | null {
    return this.x.metadata;
  }
  get record(): Exchange {
    return this.x;
  }
  get attempts(): number {
    return this.x.attempts;
  }
  set attempts(n: number) {
    this.x.attempts = n;
  }
  get upstreamHost(): string {
    return this.x.upstreamHost;
  }
  set upstreamHost(h: string) {
    this.x.upstreamHost = h;
  }
  get upstreamPrincipal(): string {
    return this.x.upstreamPrincipal;
  }
  set upstreamPrincipal(p: string) {
    this.x.upstreamPrincipal = p;
  }
  get flags(): number {
    return this.x.flags;
  }
  set flags(f: number) {
    this.x.flags = f;
  }
  get responseStarted(): boolean {
    return this.x.responseStarted;
  }
  get bodyDone(): boolean {
    return this.x.bodyDone;
  }
  get replayable(): boolean {
    return this.x.replayable;
  }
  header(name: string): string | undefined {
    return this.x.header(name);
  }

  forEachForwardHeader(drop: (name: string) => boolean, put: (name: string, value: string) => void): void {
    const e = this.x.edits;
    this.x.head.forEachForwarded((name, value) => {
      const n = name.toLowerCase();
      if (isConnectionSpecific(n) || n === "expect" || drop(n) || (e !== null && e.get(n) !== undefined)) return;
      if (n === "te") {
        if (value.toLowerCase().includes("trailers")) put("te", "trailers");
        return;
      }
      put(n, value);
    });
    if (e !== null) for (const [n, v] of e.set) if (!drop(n)) put(n, v);
  }

  connAddrs(): { sourceIp: string; remoteAddress: string; localAddress: string } {
    return this.x.connAddrs();
  }

  pauseBody(): void {
    this.x.conn.pauseBody();
  }
  resumeBody(): void {
    this.x.conn.resumeBody();
  }

  /** Move the body bytes the exchange received since last time into bodyChunks (de-chunked). */
  private take(): void {
    const x = this.x;
    const raw = x.bodyChunks;
    const d = this.decoder;
    while (this.taken < raw.length) {
      const c = raw[this.taken++] as Buffer;
      if (d === null) this.push(c);
      // The codec already validated the framing; the decoder only strips it.
      else d.execute(c, 0, c.length, (b, s, e) => this.push(b.subarray(s, e)));
    }
    if (!x.replayable && this.taken > 0) {
      // Nothing will replay or mirror the raw body any more: let the exchange drop it.
      let n = 0;
      for (let i = 0; i < this.taken; i++) n += (raw[i] as Buffer).length;
      raw.splice(0, this.taken);
      x.bodyHeld -= n;
      this.taken = 0;
    }
  }

  private push(b: Buffer): void {
    if (b.length === 0) return;
    this.bodyChunks.push(b);
    this.bodyHeld += b.length;
  }

  // ---- Exchange's forwarder hooks (the exchange calls these) ----
  onRequestBody(): void {
    this.take();
    this.sink?.onRequestData();
  }
  onDownstreamDrain(): void {
    this.sink?.onDownstreamDrain();
  }
  abort(): void {
    this.sink?.abort();
  }

  // ---- response side ----

  respond(status: number, headers: FlatHeaders, endStream: boolean, _wantTrailers: boolean): boolean {
    const x = this.x;
    if (x.finished || x.responseStarted) return false;
    let length: string | undefined;
    const out: [string, string][] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const n = headers[i] as string;
      const v = headers[i + 1] as string;
      if (n === "content-length") length = v;
      out.push([n, v]);
    }
    const noBodyStatus = status === 204 || status === 304;
    if (endStream) {
      this.mode = "none";
      if (length === undefined && !noBodyStatus && x.method !== "HEAD") out.push(["content-length", "0"]);
    } else if (x.method === "HEAD" || noBodyStatus) this.mode = "none";
    else if (length !== undefined) this.mode = "length";
    else if (x.head.versionMinor === 1) {
      this.mode = "chunked";
      out.push(["transfer-encoding", "chunked"]);
    } else this.mode = "close";
    if (x.mustClose || this.mode === "close") out.push(["connection", "close"]);
    else if (x.head.versionMinor === 0) out.push(["connection", "keep-alive"]);
    let lines: string;
    try {
      lines = checkHeaderLines(out);
    } catch {
      return false;
    }
    x.status = status;
    x.responseStarted = true;
    x.write(Buffer.from(`HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n${lines}\r\n`, "latin1"));
    return true;
  }

  write(buf: Buffer): boolean {
    const x = this.x;
    if (buf.length === 0 || this.mode === "none") return true;
    if (this.mode !== "chunked") return x.write(buf);
    return x.write(Buffer.concat([Buffer.from(buf.length.toString(16) + "\r\n", "latin1"), buf, CRLF]));
  }

  end(_trailers: HeaderPairs | null, _wantTrailers: boolean): void {
    if (this.mode === "chunked") this.x.write(LAST_CHUNK);
  }

  finish(): void {
    const x = this.x;
    x.finish(x.mustClose || this.mode === "close");
  }

  reply(status: number, flags: number, body?: string, headers?: HeaderPairs): void {
    this.x.reply(status, flags, body, headers);
  }

  reset(): void {
    const x = this.x;
    x.conn.destroy();
    x.finish(true);
  }
}
