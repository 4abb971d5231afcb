import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { rawResponseHeaders } from "./headers.ts";

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
});
