import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeaderLineWriter } from "./line-writer.ts";
import { parseRequestHead } from "./request-head.ts";
import { serializeRequestHead } from "./serialize.ts";
import { DEFAULT_HEAD_LIMITS, type RequestHead } from "./types.ts";

describe("HeaderLineWriter", () => {
  it("writes lines, pieces and numbers as latin1 bytes, and starts over on reset", () => {
    const w = new HeaderLineWriter();
    w.line("x-request-id: ", "0123456789abcdef0123").put("x-envoy-attempt-count: ").int(3).crlf().put("a: ").int(1234).crlf().int(0).int(9007199254740991);
    assert.equal(w.toString(), "x-request-id: 0123456789abcdef0123\r\nx-envoy-attempt-count: 3\r\na: 1234\r\n09007199254740991");
    assert.equal(w.length, w.toString().length);
    w.reset().put("b: é\r\n");
    assert.equal(w.toString(), "b: é\r\n");
  });

  it("grows past its first buffer and keeps what was written", () => {
    const w = new HeaderLineWriter();
    const value = "v".repeat(700);
    for (let i = 0; i < 5; i++) w.line(`x-long-${i}: `, value);
    assert.equal(w.toString(), Array.from({ length: 5 }, (_, i) => `x-long-${i}: ${value}\r\n`).join(""));
  });

  it("appends byte pieces short and long, and repeats bytes it holds, across a grow", () => {
    const w = new HeaderLineWriter();
    w.putAll(Buffer.from("ab", "latin1")).putAll(Buffer.from("x-envoy-attempt-count: ", "latin1")).int(1).crlf();
    assert.equal(w.toString(), "abx-envoy-attempt-count: 1\r\n");
    const at = w.length;
    w.put("0123456789");
    w.put("-".repeat(1020)).repeat(at, 10);
    assert.ok(w.bytes.length > 1024);
    assert.equal(w.toString(), `abx-envoy-attempt-count: 1\r\n0123456789${"-".repeat(1020)}0123456789`);
  });

  it("is copied into the head by the serializer after the forwarded lines", () => {
    const raw = Buffer.from("GET /a HTTP/1.1\r\nHost: h\r\nx-keep: 1\r\n\r\n", "latin1");
    const head = parseRequestHead(raw, 0, raw.length, DEFAULT_HEAD_LIMITS) as RequestHead;
    const w = new HeaderLineWriter().line("x-forwarded-for: ", "10.0.0.1");
    const out = serializeRequestHead(head, { lines: w, extra: [["x-extra", "2"]] }).toString("latin1");
    assert.equal(out, "GET /a HTTP/1.1\r\nHost: h\r\nx-keep: 1\r\nx-forwarded-for: 10.0.0.1\r\nx-extra: 2\r\n\r\n");
  });
});
