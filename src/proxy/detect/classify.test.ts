import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { classifyAtDeadline, classifyFirstBytes, H2_PREFACE } from "./classify.ts";

const b = (s: string | number[]): Uint8Array => (typeof s === "string" ? Buffer.from(s, "latin1") : Uint8Array.from(s));

describe("classifyFirstBytes", () => {
  const table: [string, Uint8Array, string][] = [
    ["TLS 1.0 record ClientHello", b([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), "tls"],
    ["TLS first byte only", b([0x16]), "more"],
    ["0x16 not followed by 0x03", b([0x16, 0x04]), "tcp"],
    ["h2c preface", b(H2_PREFACE + "\x00\x00"), "h2c"],
    ["h2c preface, partial", b("PRI * HTTP/2"), "more"],
    ["GET request", b("GET / HTTP/1.1\r\n"), "http1"],
    ["custom method", b("M-SEARCH * HTTP/1.1\r\n"), "http1"],
    ["PRI as an HTTP/1 method is not the preface", b("PRI / HTTP/1.1\r\n"), "http1"],
    ["method prefix", b("POS"), "more"],
    ["lower-case is not a method", b("get / HTTP/1.1"), "tcp"],
    ["leading space", b(" GET"), "tcp"],
    ["binary", b([0x00, 0x01, 0x02]), "tcp"],
    ["redis inline", b("*1\r\n$4\r\nPING\r\n"), "tcp"],
    ["a method token that never ends", b("A".repeat(40)), "tcp"],
    ["nothing yet", b([]), "more"],
  ];
  for (const [name, input, want] of table) it(name, () => assert.equal(classifyFirstBytes(input), want));

  it("at the deadline, 'more' becomes tcp and decisions stay", () => {
    assert.equal(classifyAtDeadline(b([])), "tcp");
    assert.equal(classifyAtDeadline(b("GE")), "tcp");
    assert.equal(classifyAtDeadline(b("GET /")), "http1");
  });

  it("a decision never changes when more bytes arrive (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, more) => {
        const first = classifyFirstBytes(a);
        if (first === "more") return;
        const joined = new Uint8Array(a.length + more.length);
        joined.set(a);
        joined.set(more, a.length);
        assert.equal(classifyFirstBytes(joined), first);
      }),
    );
  });
});
