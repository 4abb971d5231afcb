// The codec against an independent one, nghttp2's inside node:http2, over loopback sockets and
// one connection per test, so the dynamic tables grow, evict and are referenced across messages.
// Decoder: a real node:http2 client sends random requests; a bare TCP server cuts the HEADERS (+
// CONTINUATION) frames out of the byte stream and decodes their blocks. Encoder: the bare server
// answers with random responses it encodes, while the client changes its header table size; the
// client's response headers must be the fields sent.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, sensitiveHeaders, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { HpackDecoder } from "./decoder.ts";
import { HpackEncoder } from "./encoder.ts";

const PREFACE = 24;
const EMPTY_SETTINGS = Buffer.from("000000040000000000", "hex");
const SETTINGS_ACK = Buffer.from("000000040100000000", "hex");
const HEADERS = 1;
const SETTINGS = 4;
const CONTINUATION = 9;
const SETTINGS_HEADER_TABLE_SIZE = 1;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;

/** Decoded header lists, one per HEADERS block, in arrival order. */
class BlockQueue {
  private readonly blocks: string[][] = [];
  private readonly waiters: ((b: string[]) => void)[] = [];
  failure: unknown;

  push(b: string[]): void {
    const w = this.waiters.shift();
    if (w) w(b);
    else this.blocks.push(b);
  }

  next(): Promise<string[]> {
    const b = this.blocks.shift();
    return b ? Promise.resolve(b) : new Promise((resolve) => this.waiters.push(resolve));
  }
}

interface FrameHandlers {
  /** A complete header block of stream `id` (HEADERS + CONTINUATION joined, padding removed). */
  block(id: number, block: Buffer): void;
  /** The client's SETTINGS_HEADER_TABLE_SIZE. */
  tableSize?(n: number): void;
}

/** A bare TCP server that speaks just enough HTTP/2 to cut header blocks out of the stream. */
function frameServer(connection: (sock: Socket) => FrameHandlers): Server {
  return createServer((sock) => {
    const on = connection(sock);
    let buf: Buffer = Buffer.alloc(0);
    let skip = PREFACE;
    let fragments: Buffer[] = [];
    sock.write(EMPTY_SETTINGS);
    sock.on("error", () => {});
    sock.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        skip -= n;
        buf = buf.subarray(n);
      }
      while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
        const len = buf.readUIntBE(0, 3);
        const type = buf[3]!;
        const flags = buf[4]!;
        const id = buf.readUInt32BE(5) & 0x7fffffff;
        let payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === SETTINGS && (flags & 1) === 0) {
          for (let i = 0; i + 6 <= payload.length; i += 6) {
            if (payload.readUInt16BE(i) === SETTINGS_HEADER_TABLE_SIZE) on.tableSize?.(payload.readUInt32BE(i + 2));
          }
          sock.write(SETTINGS_ACK);
        }
        if (type !== HEADERS && type !== CONTINUATION) continue;
        if (type === HEADERS) {
          if ((flags & FLAG_PADDED) !== 0) payload = payload.subarray(1, payload.length - payload[0]!);
          if ((flags & FLAG_PRIORITY) !== 0) payload = payload.subarray(5);
        }
        fragments.push(payload);
        if ((flags & FLAG_END_HEADERS) === 0) continue;
        const block = Buffer.concat(fragments);
        fragments = [];
        on.block(id, block);
      }
    });
  });
}

/** Decodes every request's block with HpackDecoder into `queue`. */
function decodingServer(queue: BlockQueue): Server {
  return frameServer(() => {
    const decoder = new HpackDecoder();
    return {
      block(_id, block) {
        const out: string[] = [];
        try {
          decoder.decode(block, 0, block.length, out);
        } catch (e) {
          queue.failure ??= e;
        }
        queue.push(out);
      },
    };
  });
}

/** Answers every request with `responses.shift()`, encoded by HpackEncoder (one HEADERS frame, END_STREAM). */
function encodingServer(responses: string[][]): Server {
  return frameServer((sock) => {
    const encoder = new HpackEncoder();
    const out = Buffer.alloc(16384);
    return {
      block(id) {
        const n = encoder.encode(responses.shift()!, out, 9);
        assert.ok(n > 0);
        out.writeUIntBE(n - 9, 0, 3);
        out[3] = HEADERS;
        out[4] = FLAG_END_HEADERS | FLAG_END_STREAM;
        out.writeUInt32BE(id, 5);
        sock.write(Buffer.from(out.subarray(0, n)));
      },
      tableSize: (n) => encoder.setPeerMaxTableSize(n),
    };
  });
}

/** For the suite: `server` on a loopback port and one node:http2 client connected to it. */
function clientOf(server: Server): { client: ClientHttp2Session; authority: string } {
  const peer = { client: undefined as unknown as ClientHttp2Session, authority: "" };
  before(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    peer.authority = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    peer.client = connect(`http://${peer.authority}`);
    peer.client.on("error", () => {});
  });
  after(() => {
    peer.client.destroy();
    server.close();
  });
  return peer;
}

const token = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-"), minLength: 1, maxLength: 16 });
/** Visible ASCII and latin1 octets ≥ 0x80 (node:http2 sends header values as latin1). */
const value = fc.string({
  unit: fc.oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff })).map((c) => String.fromCharCode(c)),
  maxLength: 120,
});
const single = fc.constantFrom("user-agent", "accept", "accept-encoding", "authorization", "cache-control", "content-type", "if-none-match", "referer", "x-request-id");
const request = fc.record({
  path: fc.string({ unit: fc.constantFrom(..."abc/?=&0123456789"), maxLength: 40 }).map((p) => "/" + p),
  single: fc.dictionary(single, value, { maxKeys: 6 }),
  multi: fc.dictionary(token.map((t) => "x-" + t), fc.array(value, { minLength: 1, maxLength: 3 }), { maxKeys: 6 }),
  cookies: fc.array(value, { maxLength: 3 }),
});

/** name → values, in the order they were sent. */
function grouped(list: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (let i = 0; i < list.length; i += 2) {
    const vs = m.get(list[i]!);
    if (vs) vs.push(list[i + 1]!);
    else m.set(list[i]!, [list[i + 1]!]);
  }
  return m;
}

describe("HpackDecoder against node:http2's encoder", () => {
  const queue = new BlockQueue();
  const peer = clientOf(decodingServer(queue));

  it("every random request's fields decode as sent, over one connection", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: OutgoingHttpHeaders = { ":path": r.path, ...r.single, ...r.multi };
        if (r.cookies.length > 0) headers.cookie = r.cookies;
        const stream = peer.client.request(headers, { endStream: true });
        stream.on("error", () => {});
        const got = grouped(await queue.next());
        stream.close();
        assert.equal(queue.failure, undefined);
        const want = new Map<string, string[]>([
          [":path", [r.path]],
          [":method", ["GET"]],
          [":authority", [peer.authority]],
          [":scheme", ["http"]],
          ...Object.entries(r.single).map(([k, v]) => [k, [v]] as [string, string[]]),
          ...Object.entries(r.multi),
        ]);
        if (r.cookies.length > 0) want.set("cookie", r.cookies);
        assert.deepEqual(new Map([...got].sort()), new Map([...want].sort()));
      }),
      { numRuns: 400 },
    );
  });
});

const responseName = fc.oneof(
  fc.constantFrom("content-type", "server", "x-envoy-upstream-service-time", "date", "cache-control", "etag", "location", "vary", "www-authenticate"),
  token.map((t) => "x-" + t),
);
const response = fc.record({
  status: fc.constantFrom("200", "204", "302", "404", "500", "503"),
  fields: fc.uniqueArray(fc.tuple(responseName, value), { selector: ([n]) => n, maxLength: 8 }),
  cookies: fc.array(value, { maxLength: 3 }),
});
/** A response, or first a new SETTINGS_HEADER_TABLE_SIZE from the client. */
const exchange = fc.tuple(response, fc.option(fc.integer({ min: 0, max: 8192 }), { freq: 6 }));

describe("HpackEncoder against node:http2's decoder", () => {
  const responses: string[][] = [];
  const peer = clientOf(encodingServer(responses));

  it("every random response arrives as sent, while the client changes its table size", async () => {
    await fc.assert(
      fc.asyncProperty(exchange, async ([r, tableSize]) => {
        if (tableSize !== null) await new Promise((resolve) => peer.client.settings({ headerTableSize: tableSize }, resolve));
        const fields = [":status", r.status, ...r.fields.flat()];
        for (const c of r.cookies) fields.push("set-cookie", c);
        responses.push(fields);
        const stream = peer.client.request({ ":path": "/" }, { endStream: true });
        const [headers] = (await once(stream, "response")) as [IncomingHttpHeaders];
        stream.close();
        const want: Record<string, unknown> = { ":status": Number(r.status), ...Object.fromEntries(r.fields) };
        if (r.cookies.length > 0) want["set-cookie"] = r.cookies;
        assert.deepEqual(Object.fromEntries(Object.entries(headers)), want);
        // nghttp2 reports the never-indexed fields: set-cookie's values, each one
        const sensitive = (headers as Record<symbol, string[]>)[sensitiveHeaders] ?? [];
        assert.deepEqual(sensitive, r.cookies.map(() => "set-cookie"));
      }),
      { numRuns: 300 },
    );
  });
});
