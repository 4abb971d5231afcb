import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkedDecoder, LAST_CHUNK, encodeChunk, encodeChunkHeader } from "./chunked.ts";

interface Decoded {
  consumed: number;
  data: string;
  done: boolean;
  error: string | null;
}

/** Feeds `text` in pieces cut at `cuts`, returns what the decoder made of it. */
function decode(text: string, cuts: readonly number[] = [], limits = {}): Decoded {
  const buf = Buffer.from(text, "latin1");
  const d = new ChunkedDecoder(limits);
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  let data = "";
  let consumed = 0;
  let prev = 0;
  for (const end of [...points, buf.length]) {
    const n = d.execute(buf, prev, end, (b, s, e) => {
      data += b.toString("latin1", s, e);
    });
    if (n < 0) return { consumed, data, done: false, error: d.error!.code };
    consumed += n;
    if (d.done) break;
    prev = end;
  }
  return { consumed, data, done: d.done, error: null };
}

test("decodes chunks, extensions, trailers; stops at the end of the body", () => {
  const body = '5;a=b;c="q \\"x\\""\r\nhello\r\n6 ; d\r\n world\r\n000\r\nX-Trailer: v\r\nY: \r\n\r\n';
  const r = decode(body + "GET / HTTP/1.1\r\n");
  assert.deepEqual(r, { consumed: body.length, data: "hello world", done: true, error: null });
});

test("upper- and lower-case hex sizes", () => {
  assert.equal(decode(`A\r\n${"x".repeat(10)}\r\na\r\n${"y".repeat(10)}\r\n0\r\n\r\n`).data.length, 20);
});

test("pass-through without onData counts bytes only", () => {
  const buf = Buffer.from("3\r\nabc\r\n0\r\n\r\nrest", "latin1");
  const d = new ChunkedDecoder();
  assert.equal(d.execute(buf, 0, buf.length), buf.length - 4);
  assert.equal(d.done, true);
  assert.equal(d.bodyBytes, 3);
  assert.equal(d.execute(buf, 0, buf.length), 0, "after done nothing more is consumed");
  d.reset();
  assert.equal(d.done, false);
});

const BAD: ReadonlyArray<readonly [string, string, string]> = [
  ["0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["empty size", "\r\nhello\r\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["non-hex size", "g\r\n", "E_BAD_CHUNK"],
  ["negative size", "-1\r\n", "E_BAD_CHUNK"],
  ["leading space", " 5\r\nhello\r\n", "E_BAD_CHUNK"],
  ["trailing space without extension", "5 \r\nhello\r\n", "E_BAD_CHUNK"],
  ["word after size (no semicolon)", "2 erfrferferf\r\naa\r\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["semicolon without extension", "2;\r\naa\r\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["unbalanced quote in extension", '5;a="b\r\nhello\r\n', "E_BAD_CHUNK"],
  ["CTL in extension", "5;a\u0001\r\nhello\r\n", "E_BAD_CHUNK"],
  ["bare LF after size", "5\nhello\r\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["bare CR after size", "5\rhello\r\n", "E_BAD_CHUNK"],
  ["bare LF after data", "5\r\nhello\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["bare CR after data", "5\r\nhello\rX0\r\n\r\n", "E_BAD_CHUNK"],
  ["bare CR after the last chunk", "0\r\n\rX", "E_BAD_CHUNK"],
  ["bare CR in trailer", "0\r\nX: y\rZ\r\n\r\n", "E_BAD_CHUNK"],
  ["data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", "E_BAD_CHUNK"],
  ["missing CRLF after data", "5\r\nhello0\r\n\r\n", "E_BAD_CHUNK"],
  ["bare LF ending the body", "0\r\n\n", "E_BAD_CHUNK"],
  ["bare LF in trailer", "0\r\nX: y\n\r\n", "E_BAD_CHUNK"],
  ["obs-fold in trailer", "0\r\nX: y\r\n z\r\n\r\n", "E_BAD_CHUNK"],
  ["trailer name with space", "0\r\nX : y\r\n\r\n", "E_BAD_CHUNK"],
  ["NUL in trailer", "0\r\nX: \u0000\r\n\r\n", "E_BAD_CHUNK"],
  ["size over 2^53", "20000000000000\r\n", "E_CHUNK_TOO_LARGE"],
  ["huge size", "ffffffffffffffffffff\r\n", "E_CHUNK_TOO_LARGE"],
  ["endless leading zeros", `${"0".repeat(100)}5\r\n`, "E_CHUNK_TOO_LARGE"],
];

for (const [name, text, code] of BAD) {
  test(`rejects chunked body: ${name}`, () => {
    const r = decode(text);
    assert.equal(r.error, code, JSON.stringify(r));
    // The same verdict whatever the split.
    for (let cut = 1; cut < text.length; cut++) assert.equal(decode(text, [cut]).error, code, `cut at ${cut}`);
  });
}

test("limits: extension length, trailer size, chunk size", () => {
  assert.equal(decode(`1;${"e".repeat(50)}\r\nx\r\n0\r\n\r\n`, [], { maxExtensionBytes: 20 }).error, "E_CHUNK_TOO_LARGE");
  assert.equal(decode(`0\r\nX: ${"v".repeat(50)}\r\n\r\n`, [], { maxTrailerBytes: 20 }).error, "E_CHUNK_TOO_LARGE");
  assert.equal(decode("401\r\n", [], { maxChunkSize: 1024 }).error, "E_CHUNK_TOO_LARGE");
  assert.equal(decode("400\r\n", [], { maxChunkSize: 1024 }).error, null);
});

test("encodeChunk / LAST_CHUNK round-trip through the decoder", () => {
  const parts = [Buffer.from("hello"), Buffer.alloc(300, 0x61), Buffer.alloc(0)];
  const wire = Buffer.concat([...parts.map((p) => encodeChunk(p)), LAST_CHUNK]).toString("latin1");
  assert.equal(encodeChunkHeader(300), "12c\r\n");
  const r = decode(wire);
  assert.equal(r.data, "hello" + "a".repeat(300));
  assert.equal(r.consumed, wire.length);
});

test("property: any chunked encoding, split anywhere, decodes to its data and consumes exactly the body", () => {
  const ext = fc.constantFrom("", ";a", ";a=b", ';n="v \\" x"', " ;k=v", ";x;y=z");
  const chunk = fc.record({ data: fc.string({ minLength: 1, maxLength: 40 }), ext });
  const trailer = fc.array(fc.constantFrom("X-A: 1", "Checksum: abc", "Empty:"), { maxLength: 3 });
  fc.assert(
    fc.property(fc.array(chunk, { maxLength: 6 }), trailer, fc.array(fc.nat(400), { maxLength: 8 }), (chunks, trailers, cuts) => {
      let wire = "";
      let data = "";
      for (const c of chunks) {
        const bytes = Buffer.from(c.data, "utf8").toString("latin1");
        wire += bytes.length.toString(16) + c.ext + "\r\n" + bytes + "\r\n";
        data += bytes;
      }
      wire += "0\r\n" + trailers.map((t) => t + "\r\n").join("") + "\r\n";
      const r = decode(wire + "NEXT", cuts);
      assert.equal(r.error, null);
      assert.equal(r.done, true);
      assert.equal(r.data, data);
      assert.equal(r.consumed, wire.length);
    }),
    { numRuns: 300, seed: 42 },
  );
});
