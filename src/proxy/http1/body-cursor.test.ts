import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BODY_CHUNKED, BODY_CLOSE, BODY_LENGTH, BODY_NONE, bodyBytes, startBody, type BodyCursor } from "./body-cursor.ts";
import { FRAMING_CHUNKED, FRAMING_CLOSE, FRAMING_NONE, lengthFraming } from "./framing.ts";
import type { ResponseBodyFraming } from "./types.ts";

function cursor(): BodyCursor {
  return { bodyKind: BODY_NONE, bodyRemaining: 0, bodyDecoder: null };
}

/** Feeds `wire` cut at `cuts`; returns how many bytes the body took and whether it ended (-1: malformed). */
function run(f: ResponseBodyFraming, wire: string, cuts: readonly number[] = []): { taken: number; ended: boolean } {
  const c = cursor();
  if (!startBody(c, f)) return { taken: 0, ended: true };
  const buf = Buffer.from(wire, "latin1");
  const points = [...new Set(cuts.filter((x) => x > 0 && x < buf.length)), buf.length].sort((a, b) => a - b);
  let pos = 0;
  for (const end of points) {
    while (pos < end && c.bodyKind !== BODY_NONE) {
      const used = bodyBytes(c, buf, pos, end);
      if (used < 0) return { taken: -1, ended: false };
      pos += used;
      if (used === 0) break;
    }
    if (c.bodyKind === BODY_NONE) break;
  }
  return { taken: pos, ended: c.bodyKind === BODY_NONE };
}

const CHUNKED = "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: v\r\n\r\n";
const NEXT = "GET /next HTTP/1.1\r\n\r\n";

test("a head without a body, or with Content-Length 0, starts no body", () => {
  for (const f of [FRAMING_NONE, lengthFraming(0)]) {
    const c = cursor();
    assert.equal(startBody(c, f), false);
    assert.equal(c.bodyKind, BODY_NONE);
  }
});

test("each framing sets its kind", () => {
  const table: [ResponseBodyFraming, number][] = [
    [lengthFraming(7), BODY_LENGTH],
    [FRAMING_CHUNKED, BODY_CHUNKED],
    [FRAMING_CLOSE, BODY_CLOSE],
  ];
  for (const [f, kind] of table) {
    const c = cursor();
    assert.equal(startBody(c, f), true);
    assert.equal(c.bodyKind, kind);
  }
});

test("Content-Length: the body ends after exactly that many bytes; what follows is not taken", () => {
  assert.deepEqual(run(lengthFraming(5), "hello" + NEXT), { taken: 5, ended: true });
  assert.deepEqual(run(lengthFraming(10), "hello"), { taken: 5, ended: false });
});

test("chunked: the body ends after the last chunk and trailers, the framing included in what is taken", () => {
  assert.deepEqual(run(FRAMING_CHUNKED, CHUNKED + NEXT), { taken: CHUNKED.length, ended: true });
  assert.deepEqual(run(FRAMING_CHUNKED, CHUNKED.slice(0, 12)), { taken: 12, ended: false });
});

test("chunked: malformed framing is -1", () => {
  assert.equal(run(FRAMING_CHUNKED, "zz\r\nhello\r\n0\r\n\r\n").taken, -1);
});

test("close-delimited: every byte is body and it never ends by itself", () => {
  assert.deepEqual(run(FRAMING_CLOSE, "anything" + NEXT), { taken: 8 + NEXT.length, ended: false });
});

test("any split of the input ends the body at the same place", () => {
  fc.assert(
    fc.property(fc.array(fc.nat(CHUNKED.length + NEXT.length), { maxLength: 8 }), (cuts) => {
      assert.deepEqual(run(FRAMING_CHUNKED, CHUNKED + NEXT, cuts), { taken: CHUNKED.length, ended: true });
      assert.deepEqual(run(lengthFraming(CHUNKED.length), CHUNKED + NEXT, cuts), { taken: CHUNKED.length, ended: true });
    }),
  );
});

test("the decoder is let go at the end of a chunked body", () => {
  const c = cursor();
  startBody(c, FRAMING_CHUNKED);
  assert.notEqual(c.bodyDecoder, null);
  const buf = Buffer.from("0\r\n\r\n", "latin1");
  assert.equal(bodyBytes(c, buf, 0, buf.length), buf.length);
  assert.equal(c.bodyKind, BODY_NONE);
  assert.equal(c.bodyDecoder, null);
});
