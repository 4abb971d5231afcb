import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { forEachForwardable, rawResponseHeaders } from "./headers.ts";

describe("forEachForwardable", () => {
  const forwarded = (h: Record<string, string | string[]>): string[] => {
    const out: string[] = [];
    forEachForwardable(h, undefined, (n, v) => out.push(n, v));
    return out;
  };

  it("drops `expect: 100-continue` (answered by the exchange), whatever the value's case; keeps another expectation", () => {
    assert.deepEqual(forwarded({ ":method": "POST", expect: "100-Continue", "x-a": "1" }), ["x-a", "1"]);
    assert.deepEqual(forwarded({ expect: "100-continue" }), []);
    assert.deepEqual(forwarded({ expect: "something-else" }), ["expect", "something-else"]);
  });

  it("drops connection-specific fields and keeps TE only as trailers", () => {
    assert.deepEqual(forwarded({ connection: "x", "keep-alive": "1", te: "trailers, deflate", "x-b": ["1", "2"] }), ["te", "trailers", "x-b", "1", "x-b", "2"]);
  });
});

describe("rawResponseHeaders", () => {
  it("lowercases names and drops connection-specific fields, whatever their case", () => {
    assert.deepEqual(rawResponseHeaders(200, ["X-Added", "1", "Connection", "close", "content-type", "text/plain", "Transfer-Encoding", "chunked"]), [
      ":status",
      "200",
      "x-added",
      "1",
      "content-type",
      "text/plain",
    ]);
  });

  it("gives each head only its own fields when the list is reused for the next", () => {
    assert.deepEqual([...rawResponseHeaders(200, ["a", "1", "b", "2", "c", "3"])], [":status", "200", "a", "1", "b", "2", "c", "3"]);
    assert.deepEqual([...rawResponseHeaders(404, ["d", "4"])], [":status", "404", "d", "4"]);
  });
});
