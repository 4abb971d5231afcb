import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRequestHead } from "./request-head.ts";
import { ParseError } from "./parse-error.ts";
import type { RequestHead } from "./types.ts";

const LIMITS = { maxHeadBytes: 60 * 1024, maxHeaders: 100 };

function parse(text: string, limits = LIMITS): RequestHead | ParseError | null {
  const buf = Buffer.from(text, "latin1");
  return parseRequestHead(buf, 0, buf.length, limits);
}

function ok(text: string): RequestHead {
  const r = parse(text);
  if (r === null) assert.fail(`incomplete: ${JSON.stringify(text)}`);
  if (r instanceof ParseError) assert.fail(`rejected ${JSON.stringify(text)}: ${r.message}`);
  return r;
}

function rejects(text: string, code: string, status: number): void {
  const r = parse(text);
  assert.ok(r instanceof ParseError, `expected ${code} for ${JSON.stringify(text)}, got ${r === null ? "incomplete" : "a head"}`);
  assert.equal(r.code, code, `${JSON.stringify(text)}: ${r.message}`);
  assert.equal(r.status, status);
}

test("simple GET: method, path, authority, keep-alive, no body, head length", () => {
  const text = "GET /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\n\r\n";
  const h = ok(text + "GET /next");
  assert.equal(h.method, "GET");
  assert.equal(h.target, "/a/b?c=d");
  assert.equal(h.path, "/a/b?c=d");
  assert.equal(h.authority, "example.com:8080");
  assert.equal(h.absoluteForm, false);
  assert.equal(h.versionMinor, 1);
  assert.equal(h.keepAlive, true);
  assert.deepEqual(h.framing, { kind: "none" });
  assert.equal(h.upgrade, null);
  assert.equal(h.expectContinue, false);
  assert.equal(h.headLength, text.length);
  assert.equal(h.count, 2);
});

test("header accessors: case-insensitive get, OWS trimmed, original case kept, multiple values", () => {
  const h = ok("GET / HTTP/1.1\r\nHost: a\r\nX-Thing: \t one \t\r\nx-thing: two\r\nEmpty:\r\n\r\n");
  assert.equal(h.get("x-thing"), "one");
  assert.deepEqual(h.getAll("x-thing"), ["one", "two"]);
  assert.equal(h.get("empty"), "");
  assert.equal(h.has("empty"), true);
  assert.equal(h.has("missing"), false);
  assert.equal(h.get("missing"), undefined);
  assert.equal(h.nameAt(1), "X-Thing");
  assert.equal(h.valueAt(2), "two");
  assert.equal(h.indexOf("host"), 0);
  assert.throws(() => h.nameAt(4), RangeError);
});

test("the head is copied: reusing the caller's buffer does not change it", () => {
  const buf = Buffer.from("GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n", "latin1");
  const h = parseRequestHead(buf, 0, buf.length, LIMITS) as RequestHead;
  buf.fill(0x5a);
  assert.equal(h.get("x-a"), "b");
  assert.equal(h.path, "/x");
});

test("parses at an offset and stops at end", () => {
  const buf = Buffer.from("xxxxGET / HTTP/1.1\r\nHost: a\r\n\r\nyyyy", "latin1");
  const h = parseRequestHead(buf, 4, buf.length - 4, LIMITS) as RequestHead;
  assert.equal(h.headLength, buf.length - 8);
  assert.equal(parseRequestHead(buf, 4, buf.length - 5, LIMITS), null);
});

test("incomplete heads return null at every split, and the full head parses", () => {
  const text = "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  const buf = Buffer.from(text, "latin1");
  const headLen = text.indexOf("\r\n\r\n") + 4;
  for (let n = 0; n < headLen; n++) assert.equal(parseRequestHead(buf, 0, n, LIMITS), null, `split at ${n}`);
  for (let n = headLen; n <= buf.length; n++) {
    const h = parseRequestHead(buf, 0, n, LIMITS) as RequestHead;
    assert.equal(h.headLength, headLen);
  }
});

test("searchFrom skips bytes already searched (terminator split across reads)", () => {
  const buf = Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "latin1");
  const mid = buf.length - 2; // "...\r\n" + "\r\n" arrives later
  assert.equal(parseRequestHead(buf, 0, mid, LIMITS, 0), null);
  const h = parseRequestHead(buf, 0, buf.length, LIMITS, mid) as RequestHead;
  assert.equal(h.headLength, buf.length);
});

test("absolute-form: authority from the target wins over Host; path keeps the query", () => {
  const h = ok("GET http://svc.ns:9080/p/q?x=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  assert.equal(h.absoluteForm, true);
  assert.equal(h.authority, "svc.ns:9080");
  assert.equal(h.path, "/p/q?x=1");
  assert.equal(h.target, "http://svc.ns:9080/p/q?x=1");
  assert.equal(ok("GET HTTP://a HTTP/1.1\r\nHost: a\r\n\r\n").path, "/");
  assert.equal(ok("GET http://a?q HTTP/1.1\r\nHost: a\r\n\r\n").path, "/?q");
  assert.equal(ok("GET https://b:443/ HTTP/1.1\r\nHost: a\r\n\r\n").authority, "b:443");
});

test("asterisk-form for OPTIONS and authority-form for CONNECT", () => {
  assert.equal(ok("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").path, "*");
  const c = ok("CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n");
  assert.equal(c.authority, "db:5432");
  assert.equal(c.path, "");
});

test("methods are interned; unknown tokens pass through", () => {
  for (const m of ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE"]) {
    assert.equal(ok(`${m} / HTTP/1.1\r\nHost: a\r\n\r\n`).method, m);
  }
  assert.equal(ok("PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n").method, "PROPFIND");
  assert.equal(ok("get / HTTP/1.1\r\nHost: a\r\n\r\n").method, "get"); // case-sensitive token, not GET
});

test("keep-alive rules for HTTP/1.0 and 1.1", () => {
  assert.equal(ok("GET / HTTP/1.0\r\n\r\n").keepAlive, false);
  assert.equal(ok("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive, true);
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keepAlive, false);
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n").keepAlive, false);
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,, keep-alive ,\r\n\r\n").keepAlive, true);
});

test("Upgrade only counts when Connection lists upgrade", () => {
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\n").upgrade, "websocket");
  assert.equal(ok("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade, null);
});

test("Expect: 100-continue (HTTP/1.1 only)", () => {
  assert.equal(ok("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-Continue\r\n\r\n").expectContinue, true);
  assert.equal(ok("PUT / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n").expectContinue, false);
});

test("body framing: Content-Length (leading zeros are unambiguous), chunked, none", () => {
  assert.deepEqual(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n").framing, { kind: "length", length: 42 });
  assert.deepEqual(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n").framing, { kind: "length", length: 7 });
  assert.deepEqual(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").framing, { kind: "length", length: 0 });
  assert.deepEqual(ok("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740991\r\n\r\n").framing, {
    kind: "length",
    length: Number.MAX_SAFE_INTEGER,
  });
  assert.deepEqual(ok("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n").framing, { kind: "chunked" });
  assert.deepEqual(ok("POST / HTTP/1.1\r\nHost: a\r\n\r\n").framing, { kind: "none" });
});

test("one leading CRLF before the request line is skipped (RFC 9112 §2.2)", () => {
  const h = ok("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(h.headLength, 2 + "GET / HTTP/1.1\r\nHost: a\r\n\r\n".length);
  assert.equal(h.nameAt(0), "Host");
});

test("empty Host is allowed (target without authority), HTTP/1.0 needs no Host", () => {
  assert.equal(ok("GET / HTTP/1.1\r\nHost:\r\n\r\n").authority, "");
  assert.equal(ok("GET / HTTP/1.0\r\n\r\n").authority, "");
  assert.equal(ok("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").authority, "[::1]:80");
});

const REJECTED: ReadonlyArray<readonly [string, string, string, number]> = [
  ["CL and TE together", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "E_CL_AND_TE", 400],
  ["two Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["conflicting Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length +5", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length -1", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["Content-Length over 2^53", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740992\r\n\r\n", "E_BAD_CONTENT_LENGTH", 400],
  ["TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", "E_UNSUPPORTED_TE", 501],
  ["TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "E_UNSUPPORTED_TE", 501],
  ["TE xchunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", "E_UNSUPPORTED_TE", 501],
  ["TE chunked, identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", "E_BAD_TRANSFER_ENCODING", 400],
  ["TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "E_BAD_TRANSFER_ENCODING", 400],
  ["TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", "E_BAD_TRANSFER_ENCODING", 400],
  ["TE with parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", "E_BAD_TRANSFER_ENCODING", 400],
  ["TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "E_BAD_TRANSFER_ENCODING", 400],
  ["header name with space before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", "E_BAD_HEADER", 400],
  ["header name with tab before colon", "GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n", "E_BAD_HEADER", 400],
  ["invalid header name token", "GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", "E_BAD_HEADER", 400],
  ["header without colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", "E_BAD_HEADER", 400],
  ["empty header name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", "E_BAD_HEADER", 400],
  ["NUL in header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u0000c\r\n\r\n", "E_BAD_HEADER", 400],
  ["bare CR in header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", "E_BAD_LINE_ENDING", 400],
  ["bare CR in header name", "GET / HTTP/1.1\r\nHost: a\r\nX\rA: b\r\n\r\n", "E_BAD_LINE_ENDING", 400],
  ["bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_LINE_ENDING", 400],
  ["CTL in header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u0001\r\n\r\n", "E_BAD_HEADER", 400],
  ["DEL in header value", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u007f\r\n\r\n", "E_BAD_HEADER", 400],
  ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", "E_OBS_FOLD", 400],
  ["whitespace before first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", "E_OBS_FOLD", 400],
  ["bare LF everywhere", "GET / HTTP/1.1\nHost: a\n\n", "E_BAD_LINE_ENDING", 400],
  ["bare LF in one header line", "GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n", "E_BAD_LINE_ENDING", 400],
  ["bare LF ending the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", "E_BAD_LINE_ENDING", 400],
  ["missing Host on 1.1", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", "E_MISSING_HOST", 400],
  ["two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "E_BAD_HOST", 400],
  ["Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "E_BAD_HOST", 400],
  ["Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "E_BAD_HOST", 400],
  ["method not a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["tab as separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["non-ASCII in target", "GET /\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["relative target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["absolute-form with userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["absolute-form ftp", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["absolute-form empty authority", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["asterisk with GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["CONNECT without port", "CONNECT db HTTP/1.1\r\nHost: db\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["lower-case http/1.1", "GET / http/1.1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["missing version", "GET /\r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["trailing space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", "E_BAD_REQUEST_LINE", 400],
  ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "E_VERSION", 505],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", "E_VERSION", 505],
  ["HTTP/0.9", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", "E_VERSION", 505],
];

for (const [name, text, code, status] of REJECTED) {
  test(`rejects: ${name} → ${status}`, () => rejects(text, code, status));
}

test("oversized head → 431, whether complete or not", () => {
  const small = { maxHeadBytes: 64, maxHeaders: 100 };
  const big = `GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ${"p".repeat(64)}\r\n\r\n`;
  const r1 = parse(big, small);
  assert.ok(r1 instanceof ParseError && r1.code === "E_HEAD_TOO_LARGE" && r1.status === 431);
  const r2 = parse(big.slice(0, 70), small);
  assert.ok(r2 instanceof ParseError && r2.code === "E_HEAD_TOO_LARGE");
  // Exactly at the limit is fine.
  const exact = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  assert.ok(!(parse(exact, { maxHeadBytes: exact.length, maxHeaders: 10 }) instanceof ParseError));
});

test("too many headers → 431", () => {
  const lines = Array.from({ length: 5 }, (_, i) => `X-${i}: v\r\n`).join("");
  const r = parse(`GET / HTTP/1.1\r\nHost: a\r\n${lines}\r\n`, { maxHeadBytes: 4096, maxHeaders: 5 });
  assert.ok(r instanceof ParseError && r.code === "E_TOO_MANY_HEADERS" && r.status === 431);
  assert.ok(!(parse(`GET / HTTP/1.1\r\n${lines}\r\n`.replace("HTTP/1.1", "HTTP/1.0"), { maxHeadBytes: 4096, maxHeaders: 5 }) instanceof ParseError));
});

test("garbage is rejected early, before a terminator arrives", () => {
  const tls = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]);
  assert.ok(parseRequestHead(tls, 0, tls.length, LIMITS) instanceof ParseError);
  const badLine = parse("GET / HTTP/3.0\r\nHost: a\r\n");
  assert.ok(badLine instanceof ParseError && badLine.code === "E_VERSION");
  assert.equal(parse("GET / HTTP/1.1\r\nHost: a\r\n"), null);
  assert.equal(parse("\r"), null);
});

test("pipelined requests parse one after another", () => {
  const buf = Buffer.from("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n", "latin1");
  const a = parseRequestHead(buf, 0, buf.length, LIMITS) as RequestHead;
  const b = parseRequestHead(buf, a.headLength, buf.length, LIMITS) as RequestHead;
  assert.equal(a.path, "/1");
  assert.equal(b.path, "/admin");
  assert.equal(a.headLength + b.headLength, buf.length);
});

test("property: the verdict never depends on how the head is cut into reads", async () => {
  const fc = (await import("fast-check")).default;
  const piece = (valid: string[], invalid: string[]) =>
    fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 8 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
  const line = fc
    .tuple(
      piece(["GET", "POST"], ["G(T", ""]),
      piece([" "], ["  ", "\t"]),
      piece(["/", "http://h/x", "/a?b"], ["a", "/\u0000", "/ "]),
      piece([" HTTP/1.1", " HTTP/1.0"], [" HTTP/2.0", " http/1.1"]),
    )
    .map((p) => p.join(""));
  const eol = piece(["\r\n"], ["\n", "\r", "\r\r\n"]);
  const header = fc
    .tuple(
      piece(["Host", "X-A", "Content-Length", "Transfer-Encoding", "Connection"], ["X A", "", "X\u0000"]),
      piece([": ", ":"], [" :"]),
      piece(["a", "5", "chunked", "close", ""], ["+5", "a\u0001", "gzip"]),
      eol,
    )
    .map((p) => p.join(""));
  fc.assert(
    fc.property(line, eol, fc.array(header, { maxLength: 5 }), eol, fc.string({ maxLength: 5 }), (l, e1, hs, e2, tail) => {
      const buf = Buffer.from(l + e1 + hs.join("") + e2 + tail, "latin1");
      const verdict = (r: RequestHead | ParseError | null): string =>
        r === null ? "null" : r instanceof ParseError ? r.code : `head:${r.headLength}:${r.count}:${r.path}`;
      const full = verdict(parseRequestHead(buf, 0, buf.length, LIMITS));
      let prev = 0;
      for (let n = 1; n <= buf.length; n++) {
        const fresh = verdict(parseRequestHead(buf, 0, n, LIMITS));
        const incremental = verdict(parseRequestHead(buf, 0, n, LIMITS, prev));
        assert.equal(incremental, fresh, `searchFrom changes the verdict at ${n}`);
        if (fresh !== "null") {
          assert.equal(fresh, full, `prefix ${n} of ${JSON.stringify(buf.toString("latin1"))}`);
          break;
        }
        prev = n;
      }
    }),
    { numRuns: 400, seed: 7 },
  );
});

test("a big head arriving in small reads parses once complete; past the limit it is 431", () => {
  const pad = Array.from({ length: 100 }, (_, i) => `X-Pad-${i}: ${"v".repeat(90)}\r\n`).join("");
  const text = `GET /big HTTP/1.1\r\nHost: a\r\n${pad}\r\n`;
  const buf = Buffer.from(text, "latin1");
  const limits = { maxHeadBytes: 60 * 1024, maxHeaders: 200 };
  let prev = 0;
  for (let n = 100; n < buf.length; n += 100) {
    assert.equal(parseRequestHead(buf, 0, n, limits, prev), null, `at ${n}`);
    prev = n;
  }
  const h = parseRequestHead(buf, 0, buf.length, limits, prev) as RequestHead;
  assert.equal(h.count, 101);
  assert.equal(h.get("x-pad-99"), "v".repeat(90));
  // A bad line inside a big head is still found once the terminator is there.
  const bad = Buffer.from(text.replace("X-Pad-50:", "X-Pad-50 :"), "latin1");
  assert.equal((parseRequestHead(bad, 0, bad.length, limits, bad.length - 50) as ParseError).code, "E_BAD_HEADER");
  const small = { maxHeadBytes: 8 * 1024, maxHeaders: 200 };
  const r = parseRequestHead(buf, 0, 9000, small, 8900);
  assert.ok(r instanceof ParseError && r.code === "E_HEAD_TOO_LARGE");
});
