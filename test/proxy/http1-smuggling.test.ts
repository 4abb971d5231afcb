// Request-smuggling vectors against the sidecar's HTTP/1.1 codec: each must either be rejected
// with the expected code, or split into exactly the expected requests with nothing left over —
// and the verdict must not depend on how the bytes are cut into reads.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ChunkedDecoder, ParseError, parseRequestHead } from "../../src/proxy/http1/index.ts";
import { SMUGGLING_VECTORS } from "../../src/proxy/http1/smuggling-vectors.ts";

type Verdict = { reject: string } | { requests: string[] } | { incomplete: string[] };

/**
 * Reads `raw` the way the proxy does: bytes arrive `readSize` at a time into a growing buffer;
 * heads are parsed with parseRequestHead, bodies consumed by Content-Length or ChunkedDecoder.
 */
function readStream(raw: string, readSize: number): Verdict {
  const all = Buffer.from(raw, "latin1");
  const paths: string[] = [];
  let have = 0;
  let pos = 0;
  let mode: "head" | "length" | "chunked" = "head";
  let left = 0;
  const chunked = new ChunkedDecoder();
  while (pos < all.length || mode !== "head") {
    if (mode === "head") {
      const r = parseRequestHead(all, pos, have);
      if (r instanceof ParseError) return { reject: r.code };
      if (r === null) {
        if (have === all.length) return { incomplete: paths };
        have = Math.min(all.length, have + readSize);
        continue;
      }
      paths.push(r.path);
      pos += r.headLength;
      if (r.framing.kind === "length") {
        mode = "length";
        left = r.framing.length;
      } else if (r.framing.kind === "chunked") {
        mode = "chunked";
        chunked.reset();
      }
      continue;
    }
    if (pos === have) {
      if (have === all.length) return { incomplete: paths };
      have = Math.min(all.length, have + readSize);
      continue;
    }
    if (mode === "length") {
      const take = Math.min(left, have - pos);
      pos += take;
      left -= take;
      if (left === 0) mode = "head";
    } else {
      const n = chunked.execute(all, pos, have);
      if (n < 0) return { reject: chunked.error!.code };
      pos += n;
      if (chunked.done) mode = "head";
    }
  }
  return { requests: paths };
}

for (const v of SMUGGLING_VECTORS) {
  test(`smuggling vector: ${v.name}`, () => {
    const whole = readStream(v.raw, v.raw.length);
    assert.deepEqual(whole, v.expect, `whole input: ${JSON.stringify(v.raw)}`);
    for (const readSize of [1, 2, 3, 7, 16]) {
      assert.deepEqual(readStream(v.raw, readSize), v.expect, `read size ${readSize}`);
    }
  });
}

test("the vector table covers the classic families", () => {
  const names = SMUGGLING_VECTORS.map((v) => v.name).join("\n");
  for (const family of ["CL.TE", "TE.CL", "xchunked", "obs-fold", "0x5", "bare LF", "NUL", "pipelined", "leading zeros"]) {
    assert.ok(names.includes(family), `missing a ${family} vector`);
  }
});
