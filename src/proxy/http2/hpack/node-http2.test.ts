// The decoder against an independent encoder: a real node:http2 client (nghttp2's HPACK) sends
// random header lists over a loopback socket, on one connection so its dynamic table grows,
// evicts and is referenced across requests; a bare TCP server cuts the HEADERS (+ CONTINUATION)
// frames out of the byte stream and decodes their blocks. Every request's fields must come back.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from "node:http2";
import { createServer, type AddressInfo, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { HpackDecoder } from "./decoder.ts";

const PREFACE = 24;
const EMPTY_SETTINGS = Buffer.from("000000040000000000", "hex");
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

function frameServer(queue: BlockQueue): Server {
  return createServer((sock) => {
    const decoder = new HpackDecoder();
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
        let payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 4 && (flags & 1) === 0) sock.write(Buffer.from("000000040100000000", "hex")); // SETTINGS ack
        if (type !== 1 && type !== 9) continue;
        if (type === 1) {
          if ((flags & FLAG_PADDED) !== 0) payload = payload.subarray(1, payload.length - payload[0]!);
          if ((flags & FLAG_PRIORITY) !== 0) payload = payload.subarray(5);
        }
        fragments.push(payload);
        if ((flags & FLAG_END_HEADERS) === 0) continue;
        const block = Buffer.concat(fragments);
        fragments = [];
        const out: string[] = [];
        try {
          decoder.decode(block, 0, block.length, out);
        } catch (e) {
          queue.failure ??= e;
        }
        queue.push(out);
      }
    });
  });
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
  const server = frameServer(queue);
  let client: ClientHttp2Session;
  let authority = "";

  before(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    authority = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = connect(`http://${authority}`);
    client.on("error", () => {});
  });

  after(() => {
    client.destroy();
    server.close();
  });

  it("every random request's fields decode as sent, over one connection", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: OutgoingHttpHeaders = { ":path": r.path, ...r.single, ...r.multi };
        if (r.cookies.length > 0) headers.cookie = r.cookies;
        const stream = client.request(headers, { endStream: true });
        stream.on("error", () => {});
        const got = grouped(await queue.next());
        stream.close();
        assert.equal(queue.failure, undefined);
        const want = new Map<string, string[]>([
          [":path", [r.path]],
          [":method", ["GET"]],
          [":authority", [authority]],
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
