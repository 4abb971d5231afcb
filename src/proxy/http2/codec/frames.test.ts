// H2Connection against hand-made frames over real sockets: a request split at every byte
// boundary, and the error codes RFC 9113 asks for (connection errors → GOAWAY, stream errors →
// RST_STREAM), including the flood limits.
import { describe, it, after, before } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import type { IncomingHttpHeaders } from "node:http2";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { HpackDecoder, HpackEncoder } from "../hpack/index.ts";
import { H2Connection, type H2ConnectionOptions } from "./connection.ts";
import type { H2ServerStream } from "./server-stream.ts";
import * as F from "./frames.ts";

function frame(type: number, flags: number, id: number, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const p = typeof payload === "string" ? Buffer.from(payload) : payload;
  const b = Buffer.alloc(9 + p.length);
  F.putFrameHeader(b, 0, p.length, type, flags, id);
  p.copy(b, 9);
  return b;
}

function u32(...ns: number[]): Buffer {
  const b = Buffer.alloc(ns.length * 4);
  ns.forEach((n, i) => b.writeUInt32BE(n >>> 0, i * 4));
  return b;
}

function block(fields: string[]): Buffer {
  const out = Buffer.alloc(4096);
  return Buffer.from(out.subarray(0, new HpackEncoder().encode(fields, out, 0)));
}

const GET = [":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a"];
const START = Buffer.concat([Buffer.from(F.PREFACE), frame(F.SETTINGS, 0, 0)]);

interface Seen {
  type: number;
  flags: number;
  id: number;
  payload: Buffer;
}

/** A raw client: what it receives, parsed into frames. */
class Peer {
  readonly sock: Socket;
  private buf = Buffer.alloc(0);
  readonly frames: Seen[] = [];
  private waiters: (() => void)[] = [];
  constructor(port: number) {
    this.sock = connect(port, "127.0.0.1");
    this.sock.on("error", () => undefined);
    this.sock.on("data", (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      while (this.buf.length >= 9) {
        const len = this.buf.readUIntBE(0, 3);
        if (this.buf.length < 9 + len) break;
        this.frames.push({ type: this.buf[3] as number, flags: this.buf[4] as number, id: this.buf.readUInt32BE(5), payload: this.buf.subarray(9, 9 + len) });
        this.buf = this.buf.subarray(9 + len);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.sock.on("close", () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }
  send(...bs: Buffer[]): void {
    this.sock.write(Buffer.concat(bs));
  }
  /** The first received frame matching `pred` (fails when the connection closes first). */
  async wait(pred: (f: Seen) => boolean): Promise<Seen> {
    for (;;) {
      const f = this.frames.find(pred);
      if (f !== undefined) return f;
      if (this.sock.destroyed || this.sock.readableEnded) throw new Error(`closed without it; got ${JSON.stringify(this.frames.map((x) => [x.type, x.id]))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
  async goaway(): Promise<number> {
    return (await this.wait((f) => f.type === F.GOAWAY)).payload.readUInt32BE(4);
  }
  async rst(id: number): Promise<number> {
    return (await this.wait((f) => f.type === F.RST_STREAM && f.id === id)).payload.readUInt32BE(0);
  }
}

describe("H2Connection frames", () => {
  let server: Server;
  let port = 0;
  const conns: H2Connection[] = [];
  let handler: (s: H2ServerStream, h: IncomingHttpHeaders) => void = () => undefined;
  let opts: Partial<H2ConnectionOptions> = {};
  const peers: Peer[] = [];
  const peer = (): Peer => {
    const p = new Peer(port);
    peers.push(p);
    return p;
  };
  before(async () => {
    server = createServer((sock) => {
      conns.push(new H2Connection(sock, { onStream: (s, h) => handler(s, h), onClose: () => undefined }, { now: () => 0, ...opts }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    for (const p of peers) p.sock.destroy();
    server.close();
  });

  it("reads a request split at every byte boundary (padding, priority, CONTINUATION)", async () => {
    const hb = block([...GET.slice(0, 2), ":scheme", "http", ":path", "/split", ":authority", "a", "x-a", "1"]);
    const cut = 5;
    const headers = Buffer.concat([
      frame(F.HEADERS, F.FLAG_PADDED | F.FLAG_PRIORITY, 1, Buffer.concat([Buffer.from([2]), u32(0), Buffer.from([16]), hb.subarray(0, cut), Buffer.alloc(2)])),
      frame(F.CONTINUATION, F.FLAG_END_HEADERS, 1, hb.subarray(cut)),
    ]);
    const data = frame(F.DATA, F.FLAG_PADDED | F.FLAG_END_STREAM, 1, Buffer.concat([Buffer.from([3]), Buffer.from("hello"), Buffer.alloc(3)]));
    const all = Buffer.concat([START, headers, data]);
    for (let i = 1; i < all.length; i++) {
      let path = "";
      let body = "";
      let ended = false;
      handler = (s, h) => {
        path = String(h[":path"]) + String(h["x-a"]);
        s.on("data", (b) => (body += b.toString()));
        s.on("end", () => (ended = true));
      };
      const p = peer();
      await once(server, "connection");
      const conn = conns[conns.length - 1] as H2Connection;
      const read = (conn as unknown as { read(b: Buffer): void }).read.bind(conn);
      read(Buffer.from(all.subarray(0, i)));
      read(Buffer.from(all.subarray(i)));
      assert.equal(path, "/split1", `split at ${i}`);
      assert.equal(body, "hello", `split at ${i}`);
      assert.ok(ended, `split at ${i}`);
      p.sock.destroy();
    }
  });

  it("reads from a shared buffer that every read overwrites: a cut frame and held DATA are kept as sent", async () => {
    const data = frame(F.DATA, F.FLAG_END_STREAM, 1, "hello");
    const all = Buffer.concat([START, frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block([...GET.slice(0, 4), ":path", "/shared", ":authority", "a"])), data]);
    const shared = Buffer.alloc(all.length);
    for (let i = 1; i < all.length; i++) {
      let stream: H2ServerStream | null = null;
      handler = (s) => {
        stream = s;
        // Held: the DATA stays with the stream until resume(), past the reads that follow.
        s.pause();
      };
      const p = peer();
      await once(server, "connection");
      const conn = conns[conns.length - 1] as H2Connection;
      const readBorrowed = (conn as unknown as { readBorrowed(b: Buffer, n: number): void }).readBorrowed.bind(conn);
      const n = all.copy(shared, 0, 0, i);
      readBorrowed(shared, n);
      shared.fill(0xee);
      const m = all.copy(shared, 0, i);
      readBorrowed(shared, m);
      shared.fill(0xee);
      assert.ok(stream !== null, `split at ${i}`);
      const s = stream as H2ServerStream;
      const chunks: Buffer[] = [];
      s.on("data", (b) => chunks.push(b));
      const ended = new Promise<void>((resolve) => s.on("end", resolve));
      s.resume();
      await ended;
      assert.equal(Buffer.concat(chunks).toString(), "hello", `split at ${i}`);
      p.sock.destroy();
    }
  });

  it("answers PING with an ACK carrying the same payload, SETTINGS with an ACK", async () => {
    const p = peer();
    p.send(START, frame(F.PING, 0, 0, "abcdefgh"));
    const ack = await p.wait((f) => f.type === F.PING);
    assert.equal(ack.flags, F.FLAG_ACK);
    assert.equal(ack.payload.toString(), "abcdefgh");
    assert.ok(p.frames.some((f) => f.type === F.SETTINGS && f.flags === F.FLAG_ACK));
  });

  const connectionErrors: [string, () => Buffer[], number][] = [
    ["a bad preface", () => [Buffer.from("PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n"), frame(F.SETTINGS, 0, 0)], F.PROTOCOL_ERROR],
    ["a first frame that is not SETTINGS", () => [Buffer.from(F.PREFACE), frame(F.PING, 0, 0, "12345678")], F.PROTOCOL_ERROR],
    ["DATA on stream 0", () => [START, frame(F.DATA, 0, 0, "x")], F.PROTOCOL_ERROR],
    ["a frame over 16,384 octets", () => [START, frame(F.DATA, 0, 1, Buffer.alloc(16385))], F.FRAME_SIZE_ERROR],
    ["a PING of 7 octets", () => [START, frame(F.PING, 0, 0, "1234567")], F.FRAME_SIZE_ERROR],
    ["a connection WINDOW_UPDATE past 2^31-1", () => [START, frame(F.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))], F.FLOW_CONTROL_ERROR],
    ["a WINDOW_UPDATE of 0 on the connection", () => [START, frame(F.WINDOW_UPDATE, 0, 0, u32(0))], F.PROTOCOL_ERROR],
    ["a frame between HEADERS and CONTINUATION", () => [START, frame(F.HEADERS, 0, 1, block(GET)), frame(F.PING, 0, 0, "12345678")], F.PROTOCOL_ERROR],
    ["a header block HPACK cannot decode", () => [START, frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))], F.COMPRESSION_ERROR],
    ["an even stream id", () => [START, frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 2, block(GET))], F.PROTOCOL_ERROR],
    ["PUSH_PROMISE from a client", () => [START, frame(F.PUSH_PROMISE, F.FLAG_END_HEADERS, 1, Buffer.concat([u32(2), block(GET)]))], F.PROTOCOL_ERROR],
    ["a PING flood (1,001 unanswered in one read)", () => [START, ...Array.from({ length: 1001 }, () => frame(F.PING, 0, 0, "12345678"))], F.ENHANCE_YOUR_CALM],
    ["rapid reset (1,001 streams opened and reset)", () => [START, ...Array.from({ length: 1001 }, (_, i) => [frame(F.HEADERS, F.FLAG_END_HEADERS, 2 * i + 1, block(GET)), frame(F.RST_STREAM, 0, 2 * i + 1, u32(F.CANCEL))]).flat()], F.ENHANCE_YOUR_CALM],
    ["an empty DATA frame flood", () => [START, frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(GET)), ...Array.from({ length: 1001 }, () => frame(F.DATA, 0, 1))], F.ENHANCE_YOUR_CALM],
  ];
  for (const [what, bytes, code] of connectionErrors) {
    it(`GOAWAY ${code} for ${what}`, async () => {
      handler = () => undefined;
      const p = peer();
      p.send(...bytes());
      assert.equal(await p.goaway(), code);
      if (!p.sock.readableEnded) await once(p.sock, "end");
    });
  }

  const streamErrors: [string, () => Buffer[], number][] = [
    ["an uppercase header name", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block([...GET, "X-Up", "1"]))], F.PROTOCOL_ERROR],
    ["a connection-specific header", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block([...GET, "connection", "close"]))], F.PROTOCOL_ERROR],
    ["te other than trailers", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block([...GET, "te", "gzip"]))], F.PROTOCOL_ERROR],
    ["a missing :path", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block([":method", "GET", ":scheme", "http"]))], F.PROTOCOL_ERROR],
    ["a pseudo-header after a regular one", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block([":method", "GET", "x", "1", ":scheme", "http", ":path", "/"]))], F.PROTOCOL_ERROR],
    ["an unknown pseudo-header", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block([...GET, ":foo", "1"]))], F.PROTOCOL_ERROR],
    ["DATA past the stream window", () => [frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(GET)), ...Array.from({ length: 4 }, () => frame(F.DATA, 0, 1, Buffer.alloc(16384)))], F.FLOW_CONTROL_ERROR],
    ["DATA after END_STREAM", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block(GET)), frame(F.DATA, 0, 1, "x")], F.STREAM_CLOSED],
    ["a body longer than content-length", () => [frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block([...GET, "content-length", "2"])), frame(F.DATA, F.FLAG_END_STREAM, 1, "abc")], F.PROTOCOL_ERROR],
    ["request trailers without END_STREAM", () => [frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(GET)), frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(["x-t", "1"]))], F.PROTOCOL_ERROR],
    ["HEADERS whose priority names its own stream", () => [frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM | F.FLAG_PRIORITY, 1, Buffer.concat([u32(1), Buffer.from([16]), block(GET)]))], F.PROTOCOL_ERROR],
    ["PRIORITY naming its own stream", () => [frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(GET)), frame(F.PRIORITY, 0, 1, Buffer.concat([u32(1), Buffer.from([16])]))], F.PROTOCOL_ERROR],
    ["a stream WINDOW_UPDATE of 0", () => [frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(GET)), frame(F.WINDOW_UPDATE, 0, 1, u32(0))], F.PROTOCOL_ERROR],
  ];
  for (const [what, bytes, code] of streamErrors) {
    it(`RST_STREAM ${code} for ${what}`, async () => {
      handler = () => undefined;
      const p = peer();
      p.send(START, ...bytes());
      assert.equal(await p.rst(1), code);
      // The connection lives on: a PING is still answered.
      p.send(frame(F.PING, 0, 0, "stillok!"));
      await p.wait((f) => f.type === F.PING);
    });
  }

  it("closed streams: HEADERS on a finished one → GOAWAY STREAM_CLOSED, on a skipped id → PROTOCOL_ERROR, frames on one this side reset are ignored", async () => {
    handler = (s) => s.respond([":status", "204"] as never, { endStream: true });
    const p = peer();
    p.send(START, frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block(GET)));
    await p.wait((f) => f.type === F.HEADERS && f.id === 1);
    p.send(frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block(GET)));
    assert.equal(await p.goaway(), F.STREAM_CLOSED);

    const q = peer();
    q.send(START, frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 5, block(GET)), frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 3, block(GET)));
    assert.equal(await q.goaway(), F.PROTOCOL_ERROR);

    handler = (s) => s.close(F.CANCEL);
    const r = peer();
    r.send(START, frame(F.HEADERS, F.FLAG_END_HEADERS, 1, block(GET)));
    assert.equal(await r.rst(1), F.CANCEL);
    r.send(frame(F.DATA, 0, 1, "late"), frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block(["x-t", "1"])), frame(F.PING, 0, 0, "after!!!"));
    await r.wait((f) => f.type === F.PING && f.flags === F.FLAG_ACK);
    assert.equal(r.frames.filter((f) => f.type === F.RST_STREAM || f.type === F.GOAWAY).length, 1, "only the stream's own reset");
  });

  it("REFUSED_STREAM over max concurrent streams; 431 for a header list over its limit", async () => {
    opts = { maxConcurrentStreams: 1, maxHeaderPairs: 8 };
    handler = () => undefined;
    const p = peer();
    p.send(START, frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 1, block(GET)), frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 3, block(GET)));
    assert.equal(await p.rst(3), F.REFUSED_STREAM);
    const many = [...GET];
    for (let i = 0; i < 10; i++) many.push(`x-${i}`, "v");
    p.send(frame(F.RST_STREAM, 0, 1, u32(F.CANCEL)), frame(F.HEADERS, F.FLAG_END_HEADERS | F.FLAG_END_STREAM, 5, block(many)));
    const h = await p.wait((f) => f.type === F.HEADERS && f.id === 5);
    const out: string[] = [];
    new HpackDecoder().decode(h.payload, 0, h.payload.length, out);
    assert.deepEqual(out, [":status", "431"]);
    opts = {};
  });
});
