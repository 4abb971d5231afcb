import { test } from "node:test";
import assert from "node:assert/strict";
import { parseResponseHead } from "./response-head.ts";
import { serializeResponseHead } from "./serialize.ts";
import { ParseError, statusForUpstreamError } from "./parse-error.ts";
import type { ResponseHead } from "./types.ts";

const LIMITS = { maxHeadBytes: 60 * 1024, maxHeaders: 100 };

function parse(text: string, method = "GET"): ResponseHead | ParseError | null {
  const buf = Buffer.from(text, "latin1");
  return parseResponseHead(buf, 0, buf.length, method, LIMITS);
}

function ok(text: string, method = "GET"): ResponseHead {
  const r = parse(text, method);
  if (r === null) assert.fail("incomplete");
  if (r instanceof ParseError) assert.fail(`rejected: ${r.message}`);
  return r;
}

function rejects(text: string, code: string, method = "GET"): void {
  const r = parse(text, method);
  assert.ok(r instanceof ParseError, `expected ${code} for ${JSON.stringify(text)}`);
  assert.equal(r.code, code, r.message);
  assert.equal(statusForUpstreamError(r), 502);
}

test("200 with Content-Length", () => {
  const text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n";
  const h = ok(text + "hello");
  assert.equal(h.status, 200);
  assert.equal(h.reason, "OK");
  assert.equal(h.versionMinor, 1);
  assert.deepEqual(h.framing, { kind: "length", length: 5 });
  assert.equal(h.keepAlive, true);
  assert.equal(h.isInterim, false);
  assert.equal(h.headLength, text.length);
  assert.equal(h.get("content-type"), "text/plain");
});

test("framing per RFC 9112 §6.3", () => {
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").framing, { kind: "chunked" });
  const close = ok("HTTP/1.1 200 OK\r\n\r\n");
  assert.deepEqual(close.framing, { kind: "close" });
  assert.equal(close.keepAlive, false, "a close-delimited body ends the connection");
  // HEAD, 1xx, 204, 304: no body whatever the headers say.
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "HEAD").framing, { kind: "none" });
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD").framing, { kind: "none" });
  assert.deepEqual(ok("HTTP/1.1 204 No Content\r\n\r\n").framing, { kind: "none" });
  assert.deepEqual(ok("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n").framing, { kind: "none" });
  assert.equal(ok("HTTP/1.1 304 Not Modified\r\n\r\n").keepAlive, true);
  assert.deepEqual(ok("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT").framing, { kind: "none" });
});

test("1xx interim heads, then the final head on the same buffer", () => {
  const buf = Buffer.from(
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    "latin1",
  );
  let at = 0;
  const seen: number[] = [];
  for (;;) {
    const h = parseResponseHead(buf, at, buf.length, "POST", LIMITS) as ResponseHead;
    seen.push(h.status);
    at += h.headLength;
    if (!h.isInterim) break;
    assert.deepEqual(h.framing, { kind: "none" });
  }
  assert.deepEqual(seen, [100, 103, 201]);
  assert.equal(at, buf.length);
});

test("101 Switching Protocols carries the upgrade token and is not interim", () => {
  const h = ok("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  assert.equal(h.upgrade, "websocket");
  assert.equal(h.isInterim, false);
});

test("keep-alive: Connection close, HTTP/1.0", () => {
  assert.equal(ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").keepAlive, false);
  assert.equal(ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keepAlive, false);
  assert.equal(ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n").keepAlive, true);
});

test("reason phrase may be empty, even without its SP", () => {
  assert.equal(ok("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").reason, "");
  assert.equal(ok("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").reason, "");
  assert.equal(ok("HTTP/1.1 404 Not  Found\r\nContent-Length: 0\r\n\r\n").reason, "Not  Found");
});

test("identical repeated Content-Length is accepted from an upstream (RFC 9110 §8.6)", () => {
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n").framing, { kind: "length", length: 5 });
  assert.deepEqual(ok("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n").framing, { kind: "length", length: 5 });
});

test("incomplete → null; garbage → early error", () => {
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Le"), null);
  assert.ok(parse("<html>hello") instanceof ParseError);
});

const REJECTED: ReadonlyArray<readonly [string, string, string]> = [
  ["CL and TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "E_CL_AND_TE"],
  ["conflicting CL", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "E_BAD_CONTENT_LENGTH"],
  ["conflicting CL list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "E_BAD_CONTENT_LENGTH"],
  ["CL not a number", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "E_BAD_CONTENT_LENGTH"],
  ["TE gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "E_UNSUPPORTED_TE"],
  ["TE chunked, gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "E_UNSUPPORTED_TE"],
  ["TE on HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "E_BAD_TRANSFER_ENCODING"],
  ["obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", "E_OBS_FOLD"],
  ["bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", "E_BAD_LINE_ENDING"],
  ["NUL in value", "HTTP/1.1 200 OK\r\nX-A: \u0000\r\n\r\n", "E_BAD_HEADER"],
  ["status not 3 digits", "HTTP/1.1 20 OK\r\n\r\n", "E_BAD_STATUS_LINE"],
  ["status out of range", "HTTP/1.1 099 Low\r\n\r\n", "E_BAD_STATUS_LINE"],
  ["status 4 digits", "HTTP/1.1 2000 OK\r\n\r\n", "E_BAD_STATUS_LINE"],
  ["lower-case version", "http/1.1 200 OK\r\n\r\n", "E_BAD_STATUS_LINE"],
  ["HTTP/2.0 status line", "HTTP/2.0 200 OK\r\n\r\n", "E_VERSION"],
  ["CTL in reason", "HTTP/1.1 200 O\u0001K\r\n\r\n", "E_BAD_STATUS_LINE"],
];

for (const [name, text, code] of REJECTED) {
  test(`rejects upstream response: ${name}`, () => rejects(text, code));
}

test("oversized response head → E_HEAD_TOO_LARGE", () => {
  const buf = Buffer.from(`HTTP/1.1 200 OK\r\nX-Pad: ${"x".repeat(200)}\r\n\r\n`, "latin1");
  const r = parseResponseHead(buf, 0, buf.length, "GET", { maxHeadBytes: 100, maxHeaders: 10 });
  assert.ok(r instanceof ParseError && r.code === "E_HEAD_TOO_LARGE");
});

test("response heads: every split gives null or the final verdict", () => {
  const texts = [
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
    "HTTP/1.1 20x OK\r\n\r\n",
    "HTTP/1.1 200 OK\r\nBad Name: y\r\n\r\n",
  ];
  for (const text of texts) {
    const buf = Buffer.from(text, "latin1");
    const verdict = (r: ResponseHead | ParseError | null): string =>
      r === null ? "null" : r instanceof ParseError ? r.code : `head:${r.headLength}`;
    const full = verdict(parseResponseHead(buf, 0, buf.length, "GET", LIMITS));
    assert.notEqual(full, "null");
    for (let n = 0; n < buf.length; n++) {
      const v = verdict(parseResponseHead(buf, 0, n, "GET", LIMITS));
      if (v !== "null") {
        assert.equal(v, full, `${JSON.stringify(text)} cut at ${n}`);
        break;
      }
    }
  }
});

test("a view reads the caller's buffer where the head sits, and serializes like a copy", () => {
  const text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-a: 1\r\nConnection: x-hop\r\nx-hop: 2\r\nx-b:  two \r\n\r\nhi";
  const buf = Buffer.from("junk" + text, "latin1");
  const copy = parseResponseHead(buf, 4, buf.length, "GET", LIMITS) as ResponseHead;
  const copied = serializeResponseHead(copy).toString("latin1");
  const view = parseResponseHead(buf, 4, buf.length, "GET", LIMITS, 4, true) as ResponseHead;
  assert.equal(view.headLength, copy.headLength);
  assert.deepEqual([view.status, view.reason, view.framing, view.keepAlive], [copy.status, copy.reason, copy.framing, copy.keepAlive]);
  assert.equal(view.get("x-b"), "two");
  assert.deepEqual(view.getAll("x-a"), ["1"]);
  assert.equal(serializeResponseHead(view).toString("latin1"), copied);
  assert.equal(copied, "HTTP/1.1 200 OK\r\nx-a: 1\r\nx-b:  two \r\nContent-Length: 2\r\n\r\n");
});

test("forEachForwardedLower: lower-case end-to-end fields, names reused by position when they match", () => {
  const names: string[] = [];
  const seen = (text: string): string[] => {
    const out: string[] = [];
    ok(text).forEachForwardedLower((n, v) => out.push(n, v), names);
    return out;
  };
  const first = seen("HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n");
  assert.deepEqual(first, ["server", "nginx", "content-type", "text/plain"]);
  assert.deepEqual(names, ["server", "content-type"]);
  // Another field at a remembered position replaces the name there; the same one in other case keeps it.
  assert.deepEqual(seen("HTTP/1.1 200 OK\r\nSERVER: envoy\r\nDate: x\r\n\r\n"), ["server", "envoy", "date", "x"]);
  assert.deepEqual(names, ["server", "date"]);
});
