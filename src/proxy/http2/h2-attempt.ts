// An attempt as one stream on a pooled HTTP/2 session (clusters with protocol http2, gRPC).
// Flow control is HTTP/2's own: write() false pauses the downstream reader until 'drain'.
import type { ClientHttp2Stream, IncomingHttpHeaders } from "node:http2";
import type { AttemptError, AttemptSink, UpstreamAttempt, UpstreamRequest } from "./attempt.ts";
import { flatFromH2, pairsFromH2, toH2Headers, type HeaderPairs } from "./headers.ts";
import { H2_CANCEL, H2_REFUSED_STREAM, type H2Session } from "./h2-session-pool.ts";

const END_STREAM = 0x1;

export class H2Attempt implements UpstreamAttempt {
  private readonly s: H2Session;
  private readonly req: UpstreamRequest;
  private readonly sink: AttemptSink;
  private stream: ClientHttp2Stream | null = null;
  private gotHead = false;
  private trailers: HeaderPairs | null = null;
  private done = false;
  ready = false;
  readonly trailersPossible = true;

  constructor(session: H2Session, req: UpstreamRequest, sink: AttemptSink) {
    this.s = session;
    this.req = req;
    this.sink = sink;
  }

  get reachedHost(): boolean {
    return this.s.connected;
  }

  get peerPrincipal(): string {
    return this.s.peerPrincipal;
  }

  start(): void {
    const r = this.req;
    let st: ClientHttp2Stream;
    try {
      st = this.s.request(toH2Headers(r.headers, { ":method": r.method, ":path": r.path, ":authority": r.authority, ":scheme": r.scheme }), {
        endStream: r.noBody,
      });
    } catch {
      // The session is already closing (GOAWAY raced us): nothing was sent.
      this.finishWith(this.s.connected ? "refused-stream" : "connect-failure");
      return;
    }
    this.stream = st;
    st.on("response", (h: IncomingHttpHeaders, flags: number) => {
      const status = Number(h[":status"]);
      if (status >= 100 && status < 200) return;
      this.gotHead = true;
      this.sink.onHead(status, flatFromH2(h), (flags & END_STREAM) !== 0);
    });
    st.on("data", (b: Buffer) => {
      if (!this.done) this.sink.onData(b);
    });
    st.on("trailers", (h: IncomingHttpHeaders) => {
      this.trailers = pairsFromH2(h);
    });
    st.on("end", () => this.onEnd());
    st.on("drain", () => this.sink.onDrain());
    st.on("error", noop);
    st.on("close", () => this.onClose(st));
    // The session queues frames until it is connected: writes may start now.
    this.ready = true;
    this.sink.onReady();
  }

  private onEnd(): void {
    if (this.done || !this.gotHead) return;
    this.done = true;
    this.sink.onEnd(this.trailers);
  }

  private onClose(st: ClientHttp2Stream): void {
    if (this.done) return;
    const code = st.rstCode ?? 0;
    this.finishWith(!this.s.connected ? "connect-failure" : code === H2_REFUSED_STREAM ? "refused-stream" : this.gotHead ? "reset-during-response" : "reset-before-response");
  }

  private finishWith(kind: AttemptError): void {
    if (this.done) return;
    this.done = true;
    this.sink.onError(kind);
  }

  write(buf: Buffer): boolean {
    const st = this.stream;
    if (st === null || st.destroyed || buf.length === 0) return true;
    return st.write(buf);
  }

  endRequest(): void {
    const st = this.stream;
    if (st !== null && !st.destroyed && !st.writableEnded) st.end();
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const st = this.stream;
    if (st !== null && !st.destroyed) st.close(H2_CANCEL);
  }

  pauseResponse(): void {
    this.stream?.pause();
  }

  resumeResponse(): void {
    this.stream?.resume();
  }
}

function noop(): void {}
