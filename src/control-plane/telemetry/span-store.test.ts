import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkSpan, SpanStore, type StoredSpan } from "./span-store.ts";

const T = (n: number): string => n.toString(16).padStart(32, "0");
const S = (n: number): string => n.toString(16).padStart(16, "0");

function span(trace: number, id: number, service: string, name: string, tsMs: number, durUs: number): StoredSpan {
  return { traceId: T(trace), id: S(id), name, timestamp: tsMs * 1000, duration: durUs, localEndpoint: { serviceName: service } };
}

describe("SpanStore", () => {
  it("answers services, span names, traces and searches", () => {
    const st = new SpanStore(100);
    st.add([span(1, 1, "productpage.default", "a/*", 1000, 5000), span(1, 2, "reviews.default", "b/*", 1001, 3000)]);
    st.add([span(2, 3, "reviews.default", "b/*", 2000, 100)]);
    assert.deepEqual(st.services(), ["productpage.default", "reviews.default"]);
    assert.deepEqual(st.spanNames("reviews.default"), ["b/*"]);
    assert.deepEqual(st.trace(T(1))?.map((s) => s.id), [S(1), S(2)]);
    assert.equal(st.trace(T(9)), undefined);
    // 64-bit lookup of a 128-bit id with zero high half.
    assert.equal(st.trace(S(1))?.length, 2);
    const now = 3000;
    assert.deepEqual(st.traces({ serviceName: "reviews.default" }, now).map((t) => t[0]?.traceId), [T(2), T(1)]);
    assert.deepEqual(st.traces({ serviceName: "reviews.default", minDuration: 1000 }, now).map((t) => t[0]?.traceId), [T(1)]);
    assert.deepEqual(st.traces({ serviceName: "reviews.default", limit: 1 }, now).length, 1);
    assert.deepEqual(st.traces({ spanName: "a/*" }, now).map((t) => t[0]?.traceId), [T(1)]);
    assert.deepEqual(st.traces({ endTs: 1500, lookback: 1000 }, now).map((t) => t[0]?.traceId), [T(1)]);
    assert.deepEqual(st.traces({ serviceName: "nobody" }, now), []);
  });

  it("is a bounded ring: the oldest spans go first and their traces shrink", () => {
    const st = new SpanStore(3);
    for (let i = 1; i <= 5; i++) st.add([span(i, i, "s", "n", i, 1)]);
    assert.equal(st.spanCount, 3);
    assert.equal(st.evicted, 2);
    assert.equal(st.trace(T(1)), undefined);
    assert.equal(st.trace(T(2)), undefined);
    assert.equal(st.trace(T(5))?.length, 1);
  });

  it("annotationQuery: every term on one span (tag value, or tag present), as Zipkin's", () => {
    const st = new SpanStore(100);
    st.add([{ ...span(1, 1, "reviews.default", "a", 1000, 10), tags: { "http.status_code": "500", error: "true" } }, { ...span(1, 2, "ratings.default", "b", 1000, 10), tags: { "http.status_code": "200" } }]);
    st.add([{ ...span(2, 3, "reviews.default", "a", 1000, 10), tags: { "http.status_code": "200" } }]);
    const hits = (q: string, service?: string): string[] => st.traces({ annotationQuery: q, ...(service ? { serviceName: service } : {}) }, 2000).map((t) => t[0]!.traceId);
    assert.deepEqual(hits("http.status_code=500"), [T(1)]);
    assert.deepEqual(hits("http.status_code=500 and error"), [T(1)]);
    assert.deepEqual(hits("http.status_code=200", "reviews.default"), [T(2)], "the same span must match the service");
    assert.deepEqual(hits("http.status_code=200 and error"), []);
    assert.deepEqual(hits("http.status_code=200").sort(), [T(1), T(2)]);
  });

  it("validates posted spans", () => {
    assert.equal(typeof checkSpan({ traceId: "xyz", id: S(1) }, 0), "string");
    assert.equal(typeof checkSpan({ traceId: T(1), id: "12" }, 0), "string");
    assert.equal(typeof checkSpan({ traceId: T(1), id: S(1), duration: -1 }, 0), "string");
    assert.equal(typeof checkSpan([], 0), "string");
    const ok = checkSpan({ traceId: T(1).toUpperCase(), id: S(1), name: "GET /X" }, 0);
    assert.ok(typeof ok === "object");
    assert.equal(ok.traceId, T(1));
    assert.equal(ok.name, "get /x");
  });
});
