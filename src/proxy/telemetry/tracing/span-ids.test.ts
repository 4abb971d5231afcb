import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../../core/random.ts";
import { HeaderLineWriter } from "../../http1/index.ts";
import { SpanIds, toOutgoingSpan, writeUnsampledTraceLines } from "./span-ids.ts";
import { extractTraceContext, writeTraceHeaderLines } from "./trace-context.ts";

describe("deferred span ids (unsampled spans)", () => {
  it("write the same trace headers as the span object they stand for", () => {
    const r = seededRandom(7);
    for (let i = 0; i < 50; i++) {
      const ids = new SpanIds();
      ids.drawIds(r);
      const span = toOutgoingSpan(ids);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.match(span.spanId, /^[0-9a-f]{16}$/);
      const lines = new HeaderLineWriter();
      writeUnsampledTraceLines(lines, ids);
      assert.equal(lines.toString(), writeTraceHeaderLines(new HeaderLineWriter(), span).toString());
      // What the next hop reads back: the same trace, our span as its parent, not sampled.
      const h = Object.fromEntries(lines.toString().trim().split("\r\n").map((l) => l.split(": ") as [string, string]));
      assert.deepEqual(extractTraceContext((n) => h[n]), { traceId: span.traceId, spanId: span.spanId, sampled: false, debug: false, b3Single: false });
    }
  });

  it("are the random numbers' 48 high bits in hex, 12 digits per draw", () => {
    const draws = [0x123456789abc / 2 ** 48, 0xdef012345678 / 2 ** 48, 0.5, 0x0000000000ff / 2 ** 48];
    const ids = new SpanIds();
    ids.drawIds({ next: () => draws.shift() ?? 0, int: () => 0 });
    assert.deepEqual(toOutgoingSpan(ids), { traceId: "123456789abcdef01234567880000000", spanId: "00000000000000ff", parentId: "", sampled: false, debug: false, b3Single: false });
  });

  it("are drawn again when the trace id or the span id would be all zeros", () => {
    const draws = [0, 0, 0, 0.25, 0.5, 0.5, 0.5, 0.5];
    const ids = new SpanIds();
    ids.drawIds({ next: () => draws.shift() ?? 0, int: () => 0 });
    assert.equal(toOutgoingSpan(ids).traceId, "800000000000".repeat(3).slice(0, 32));
  });
});
