// H2Connection never throws on what a client sends: random frames (any type, flags, stream id and
// payload, including HEADERS with random HPACK octets) after a valid preface either go through or
// end in RST_STREAM / GOAWAY — an exception in a socket's 'data' handler would take the proxy down.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import fc from "fast-check";
import { HpackEncoder } from "../hpack/index.ts";
import { H2Connection } from "./connection.ts";
import * as F from "./frames.ts";

function frame(type: number, flags: number, id: number, payload: Uint8Array): Buffer {
  const b = Buffer.alloc(9 + payload.length);
  F.putFrameHeader(b, 0, payload.length, type, flags, id);
  b.set(payload, 9);
  return b;
}

const GET = (() => {
  const out = Buffer.alloc(256);
  return Buffer.from(out.subarray(0, new HpackEncoder().encode([":method", "POST", ":scheme", "http", ":path", "/", ":authority", "a"], out, 0)));
})();

const frameArb = fc.oneof(
  fc.record({ type: fc.integer({ min: 0, max: 10 }), flags: fc.integer({ min: 0, max: 255 }), id: fc.constantFrom(0, 1, 2, 3, 5, 0x7fffffff), payload: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant(F.HEADERS), flags: fc.constantFrom(4, 5), id: fc.constantFrom(1, 3, 5), payload: fc.constant(new Uint8Array(GET)) }),
  fc.record({ type: fc.constant(F.DATA), flags: fc.constantFrom(0, 1, 8, 9), id: fc.constantFrom(1, 3), payload: fc.uint8Array({ maxLength: 40 }) }),
);

describe("H2Connection under random frames", () => {
  let server: Server;
  let port = 0;
  const pending: ((c: H2Connection) => void)[] = [];
  let streams = 0;
  before(async () => {
    server = createServer((sock: Socket) => {
      const conn = new H2Connection(
        sock,
        {
          onStream: (s, _h, endStream) => {
            // Answer some streams at once, read others, reset a few: every path of the stream.
            streams++;
            if (s.id % 3 === 0) return s.close(F.CANCEL);
            if (!endStream) s.on("data", () => undefined);
            s.respond([":status", "200"] as never, { waitForTrailers: s.id % 5 === 0 });
            s.once("wantTrailers", () => s.sendTrailers({ "x-t": "1" }));
            s.write(Buffer.from("body"));
            s.end();
          },
          onClose: () => undefined,
        },
        { now: () => 0 },
      );
      pending.shift()?.(conn);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  it("never throws", async () => {
    const start = Buffer.concat([Buffer.from(F.PREFACE), frame(F.SETTINGS, 0, 0, new Uint8Array(0))]);
    await fc.assert(
      fc.asyncProperty(fc.array(frameArb, { maxLength: 30 }), fc.integer({ min: 1, max: 64 }), async (frames, cut) => {
        const got = new Promise<H2Connection>((resolve) => pending.push(resolve));
        const client = connect(port, "127.0.0.1");
        client.on("error", () => undefined);
        client.resume();
        const conn = await got;
        const read = (conn as unknown as { read(b: Buffer): void }).read.bind(conn);
        const all = Buffer.concat([start, ...frames.map((f) => frame(f.type, f.flags, f.id, f.payload))]);
        // Fed in pieces of `cut` bytes: frames split anywhere.
        for (let o = 0; o < all.length; o += cut) assert.doesNotThrow(() => read(all.subarray(o, o + cut)));
        // The turn's deferred work (the write, streams' 'close', held DATA) runs before the connection goes:
        // an exception there fails the run as an uncaught error.
        await new Promise<void>((resolve) => setImmediate(resolve));
        client.destroy();
        conn.destroy();
      }),
      { numRuns: 300 },
    );
    // The runs must reach the stream paths, not only end in GOAWAY: 300 runs open ≈ 100 streams (79–116
    // in 12 runs of this file; a bound at 100 failed 4 of them), so the bound sits far below that spread.
    assert.ok(streams > 30, `streams opened: ${streams}`);
  });
});
