// The push stream's transport (PushClient): GET /xds/v1/stream on a connection of its own, TLS
// (verified against the mesh roots, as https.request would) or plain TCP, read into one 64 KiB buffer
// that every read reuses (`onread`), its HTTP/1.1 response taken apart by the proxy's own parsers
// (http1/response-head.ts, chunked.ts), the body decoded as UTF-8 and cut into lines.
//
// Why not `https.request`: each 16 KiB TLS record of the response arrived in a Buffer of its own,
// malloc'd and freed only by the next scavenge, so a 1,000-service full state (4.8 MB) kept ≈ 2 MB of
// them alive at a time; glibc keeps what they freed in its heap: ≈ 2 MB more RSS at rest, and a
// higher start peak (issue 15; docs/performance.md, "Session 10: the pushed sidecar").
import type { OnReadOpts, Socket } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { StringDecoder } from "node:string_decoder";
import { ChunkedDecoder } from "../http1/chunked.ts";
import { ParseError } from "../http1/parse-error.ts";
import { parseResponseHead } from "../http1/response-head.ts";
import type { ResponseBodyFraming } from "../http1/types.ts";
import { net, tlsModule } from "../../core/builtins.ts";
import { controlPlaneContext } from "./control-plane-context.ts";

const { connect: netConnect, isIP } = net;

export interface PushStreamHandlers {
  /** The response head arrived with status 200: lines follow. */
  onOpen(): void;
  /** Some bytes arrived (the stream is alive). */
  onBytes(): void;
  /** One line of a 200 response, without its newline (empty lines included). */
  onLine(line: string): void;
  /** The stream ended or failed (once): `status` and the start of the body when it was not a 200. */
  onLost(why: string, refused?: { status: number; body: string }): void;
}

export interface PushStream {
  /** Close it; `err` is then the reason given to onLost. */
  destroy(err?: Error): void;
}

const READ_BUFFER = 64 * 1024;
/** Of a refusal's body, what is kept for the log. */
const REFUSAL_CHARS = 500;

/** Open the stream at `url` (its path and query included), with `headers`; `ca` verifies an https URL. */
export function openPushStream(url: URL, headers: Record<string, string>, ca: string | undefined, h: PushStreamHandlers): PushStream {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const tls = url.protocol === "https:";
  const port = Number(url.port) || (tls ? 443 : 80);
  const reader = new ResponseReader(h);
  const onread: OnReadOpts = {
    buffer: Buffer.allocUnsafe(READ_BUFFER),
    callback: (n, buf) => {
      reader.read(buf as Buffer, n);
      return true;
    },
  };
  // node:tls takes `onread` as node:net does (its types do not say so).
  const tlsOptions: ConnectionOptions & { onread: OnReadOpts } = { host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca !== undefined ? { secureContext: controlPlaneContext(ca) } : {}), onread };
  const socket: Socket = tls ? tlsModule().connect(tlsOptions) : netConnect({ host, port, onread });
  reader.socket = socket;
  let head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  socket.write(`${head}\r\n`);
  socket.on("error", (e) => reader.lost(e.message));
  socket.on("end", () => reader.end());
  socket.on("close", () => reader.lost("connection closed"));
  return { destroy: (err) => reader.lost(err?.message ?? "closed") };
}

/** The response's bytes → its head, then its body's lines (or, for a refusal, the body's start). */
class ResponseReader {
  socket: Socket | null = null;
  private readonly h: PushStreamHandlers;
  /** The head's bytes while it is incomplete (it may span reads). */
  private headBytes: Buffer | null = null;
  private status = 0;
  private framing: ResponseBodyFraming | null = null;
  private chunked: ChunkedDecoder | null = null;
  /** Bytes of a content-length body still to come. */
  private left = 0;
  private readonly decoder = new StringDecoder("utf8");
  /** The unfinished line's pieces (searching a growing buffer for the newline again would be quadratic). */
  private parts: string[] = [];
  private refusal = "";
  private done = false;
  private readonly onData = (buf: Buffer, start: number, end: number): void => this.body(buf, start, end);

  constructor(h: PushStreamHandlers) {
    this.h = h;
  }

  read(buf: Buffer, n: number): void {
    if (this.done) return;
    this.h.onBytes();
    let at = 0;
    if (this.framing === null) {
      const bytes = this.headBytes === null ? buf.subarray(0, n) : Buffer.concat([this.headBytes, buf.subarray(0, n)]);
      const r = parseResponseHead(bytes, 0, bytes.length, "GET");
      if (r === null) {
        this.headBytes = Buffer.from(bytes);
        return;
      }
      if (r instanceof ParseError) return this.fail(`bad response from the control plane: ${r.message}`);
      if (r.isInterim) return this.fail(`unexpected interim response ${r.status}`);
      this.headBytes = null;
      this.status = r.status;
      this.framing = r.framing;
      if (r.framing.kind === "chunked") this.chunked = new ChunkedDecoder();
      else if (r.framing.kind === "length") this.left = r.framing.length;
      if (r.status === 200) this.h.onOpen();
      // What followed the head in this read (the head never spans more than the bytes read so far).
      at = n - (bytes.length - r.headLength);
      if (r.framing.kind === "none") return this.end();
    }
    if (this.chunked !== null) {
      if (this.chunked.execute(buf, at, n, this.onData) < 0) return this.fail(`bad response from the control plane: ${this.chunked.error?.message ?? "chunked framing"}`);
      if (this.chunked.done) this.end();
    } else if (this.framing?.kind === "length") {
      const take = Math.min(this.left, n - at);
      this.body(buf, at, at + take);
      this.left -= take;
      if (this.left === 0) this.end();
    } else this.body(buf, at, n);
  }

  /** The connection ended cleanly: the stream is over (the control plane closed it, or a refusal's body is complete). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.socket?.destroy();
    if (this.status === 200 || this.status === 0) this.h.onLost("closed by the control plane");
    else this.h.onLost(`HTTP ${this.status}`, { status: this.status, body: this.refusal });
  }

  lost(why: string): void {
    if (this.done) return;
    this.done = true;
    this.socket?.destroy();
    this.h.onLost(this.status !== 0 && this.status !== 200 ? `HTTP ${this.status}` : why, this.status !== 0 && this.status !== 200 ? { status: this.status, body: this.refusal } : undefined);
  }

  private fail(why: string): void {
    this.lost(why);
  }

  private body(buf: Buffer, start: number, end: number): void {
    if (start === end) return;
    const chunk = this.decoder.write(buf.subarray(start, end));
    if (this.status !== 200) {
      if (this.refusal.length < REFUSAL_CHARS) this.refusal += chunk.slice(0, REFUSAL_CHARS - this.refusal.length);
      return;
    }
    let from = 0;
    let nl: number;
    while (!this.done && (nl = chunk.indexOf("\n", from)) >= 0) {
      this.parts.push(chunk.slice(from, nl));
      const line = this.parts.length === 1 ? (this.parts[0] as string) : this.parts.join("");
      this.parts = [];
      from = nl + 1;
      this.h.onLine(line);
    }
    if (from < chunk.length) this.parts.push(chunk.slice(from));
  }
}
