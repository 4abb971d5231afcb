import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../core/random.ts";
import { HeaderLineWriter } from "../../http1/index.ts";
import { extractTraceContext, injectTraceHeaders, parseB3Single, parseTraceparent, randomHex, writeTraceHeaderLines, type OutgoingSpan } from "./trace-context.ts";

const T32 = "0af7651916cd43dd8448eb211c80319c";
const S16 = "b7ad6b7169203331";

function headers(h: Record<string, string>): (n: string) => string | undefined {
  return (n) => h[n];
}

describe("trace context extraction", () => {
  const table: { name: string; in: Record<string, string>; out: ReturnType<typeof extractTraceContext> }[] = [
    { name: "nothing", in: {}, out: null },
    { name: "traceparent sampled", in: { traceparent: `00-${T32}-${S16}-01` }, out: { traceId: T32, spanId: S16, sampled: true, debug: false, b3Single: false } },
    { name: "traceparent not sampled", in: { traceparent: `00-${T32}-${S16}-00` }, out: { traceId: T32, spanId: S16, sampled: false, debug: false, b3Single: false } },
    { name: "traceparent upper case is normalised", in: { traceparent: `00-${T32.toUpperCase()}-${S16}-01` }, out: { traceId: T32, spanId: S16, sampled: true, debug: false, b3Single: false } },
    { name: "future version with extra fields", in: { traceparent: `cc-${T32}-${S16}-03-extra` }, out: { traceId: T32, spanId: S16, sampled: true, debug: false, b3Single: false } },
    { name: "version 00 with extra fields is invalid, falls back to B3", in: { traceparent: `00-${T32}-${S16}-01-x`, "x-b3-traceid": T32, "x-b3-spanid": S16 }, out: { traceId: T32, spanId: S16, sampled: undefined, debug: false, b3Single: false } },
    { name: "all-zero trace id is invalid", in: { traceparent: `00-${"0".repeat(32)}-${S16}-01` }, out: null },
    { name: "version ff is invalid", in: { traceparent: `ff-${T32}-${S16}-01` }, out: null },
    { name: "B3 multi 64-bit", in: { "x-b3-traceid": "463ac35c9f6413ad", "x-b3-spanid": "a2fb4a1d1a96d312", "x-b3-sampled": "1" }, out: { traceId: "463ac35c9f6413ad", spanId: "a2fb4a1d1a96d312", sampled: true, debug: false, b3Single: false } },
    { name: "B3 multi debug flag", in: { "x-b3-traceid": T32, "x-b3-spanid": S16, "x-b3-flags": "1" }, out: { traceId: T32, spanId: S16, sampled: true, debug: true, b3Single: false } },
    { name: "B3 sampled=0 without ids keeps the decision", in: { "x-b3-sampled": "0" }, out: { traceId: "", spanId: "", sampled: false, debug: false, b3Single: false } },
    { name: "B3 single full", in: { b3: `${T32}-${S16}-1-a2fb4a1d1a96d312` }, out: { traceId: T32, spanId: S16, sampled: true, debug: false, b3Single: true } },
    { name: "B3 single without sampling", in: { b3: `${T32}-${S16}` }, out: { traceId: T32, spanId: S16, sampled: undefined, debug: false, b3Single: true } },
    { name: "B3 single deny only", in: { b3: "0" }, out: { traceId: "", spanId: "", sampled: false, debug: false, b3Single: true } },
    { name: "B3 single debug", in: { b3: `${T32}-${S16}-d` }, out: { traceId: T32, spanId: S16, sampled: true, debug: true, b3Single: true } },
    { name: "B3 single garbage", in: { b3: "zz-yy" }, out: null },
    { name: "traceparent wins over B3", in: { traceparent: `00-${T32}-${S16}-00`, "x-b3-traceid": "463ac35c9f6413ad", "x-b3-spanid": "a2fb4a1d1a96d312" }, out: { traceId: T32, spanId: S16, sampled: false, debug: false, b3Single: false } },
  ];
  for (const c of table) it(c.name, () => assert.deepEqual(extractTraceContext(headers(c.in)), c.out));

  it("rejects malformed values", () => {
    for (const v of ["", "00", `00-${T32}-${S16}`, `00-${T32.slice(1)}-${S16}-01`, `0-${T32}-${S16}-01`, `00-${T32}-${"0".repeat(16)}-01`]) assert.equal(parseTraceparent(v), null, v);
    for (const v of ["", "2", `${T32}`, `${T32}-${S16}-x`, `${T32}-${S16}-1-zz`, `${T32}-${S16}-1-${S16}-5`]) assert.equal(parseB3Single(v), null, v);
  });
});

describe("trace context injection (in → out)", () => {
  const span = (o: Partial<OutgoingSpan>): OutgoingSpan => ({ traceId: T32, spanId: "1111111111111111", parentId: S16, sampled: true, debug: false, b3Single: false, ...o });
  const table: { name: string; span: OutgoingSpan; out: [string, string][] }[] = [
    {
      name: "sampled child of an incoming span",
      span: span({}),
      out: [
        ["traceparent", `00-${T32}-1111111111111111-01`],
        ["x-b3-traceid", T32],
        ["x-b3-spanid", "1111111111111111"],
        ["x-b3-parentspanid", S16],
        ["x-b3-sampled", "1"],
      ],
    },
    {
      name: "root, not sampled, 64-bit trace id padded for W3C only",
      span: span({ traceId: "463ac35c9f6413ad", parentId: "", sampled: false }),
      out: [
        ["traceparent", "00-0000000000000000463ac35c9f6413ad-1111111111111111-00"],
        ["x-b3-traceid", "463ac35c9f6413ad"],
        ["x-b3-spanid", "1111111111111111"],
        ["x-b3-sampled", "0"],
      ],
    },
    {
      name: "debug and b3 single",
      span: span({ debug: true, b3Single: true }),
      out: [
        ["traceparent", `00-${T32}-1111111111111111-01`],
        ["x-b3-traceid", T32],
        ["x-b3-spanid", "1111111111111111"],
        ["x-b3-parentspanid", S16],
        ["x-b3-flags", "1"],
        ["b3", `${T32}-1111111111111111-d-${S16}`],
      ],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const out: [string, string][] = [];
      injectTraceHeaders(out, c.span);
      assert.deepEqual(out, c.out);
      // The HTTP/1.1 form: the same headers, in the same order, as header lines.
      assert.equal(writeTraceHeaderLines(new HeaderLineWriter(), c.span).toString(), c.out.map(([n, v]) => `${n}: ${v}\r\n`).join(""));
    });
  }

  it("round-trips: what is injected extracts to the new span as parent", () => {
    const out: [string, string][] = [];
    injectTraceHeaders(out, span({ b3Single: true }));
    const m = Object.fromEntries(out);
    const ctx = extractTraceContext((n) => m[n]);
    assert.deepEqual(ctx, { traceId: T32, spanId: "1111111111111111", sampled: true, debug: false, b3Single: true });
    delete m.traceparent;
    assert.equal(extractTraceContext((n) => m[n])?.spanId, "1111111111111111");
  });

  it("random ids are hex of the right length and differ", () => {
    const r = seededRandom(42);
    const a = randomHex(r, 16);
    const b = randomHex(r, 32);
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.match(b, /^[0-9a-f]{32}$/);
    assert.notEqual(a, randomHex(r, 16));
  });

  it("random ids are the random integers in hex, 8 digits each, zero-padded", () => {
    const ints = [0x1, 0xdeadbeef, 0, 0xffffffff];
    const fixed = { next: () => (ints.shift() ?? 7) / 2 ** 32, int: () => 0 };
    assert.equal(randomHex(fixed, 32), "00000001deadbeef00000000ffffffff");
    // All zeros is never an id: drawn again.
    const zeros = [0, 0, 5, 6];
    assert.equal(randomHex({ next: () => (zeros.shift() ?? 0) / 2 ** 32, int: () => 0 }, 16), "0000000500000006");
  });
});
