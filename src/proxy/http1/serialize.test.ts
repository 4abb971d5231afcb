import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRequestHead } from "./request-head.ts";
import { parseResponseHead } from "./response-head.ts";
import { checkHeaderLines, chooseResponseFraming, serializeLocalResponse, serializeRequestHead, serializeResponseHead } from "./serialize.ts";
import { compileHeaderNames } from "./header-names.ts";
import type { RequestHead, ResponseHead } from "./types.ts";

function req(text: string): RequestHead {
  const b = Buffer.from(text, "latin1");
  const h = parseRequestHead(b, 0, b.length);
  if (h === null || h instanceof Error) throw new Error(`bad fixture: ${String(h)}`);
  return h;
}

function res(text: string, method = "GET"): ResponseHead {
  const b = Buffer.from(text, "latin1");
  const h = parseResponseHead(b, 0, b.length, method);
  if (h === null || h instanceof Error) throw new Error(`bad fixture: ${String(h)}`);
  return h;
}

test("request: hop-by-hop and Connection-named headers dropped, order kept, Host and framing rewritten", () => {
  const h = req(
    "POST http://svc:80/p?q HTTP/1.1\r\nHost: ignored\r\nA: 1\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\n" +
      "X-Hop: secret\r\nB: 2\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic x\r\nUpgrade: h2c\r\n" +
      "Trailer: X-T\r\nX-Forwarded-For: 6.6.6.6\r\nContent-Length: 3\r\nC: 3\r\n\r\n",
  );
  const out = serializeRequestHead(h, {
    host: "svc.default.svc.cluster.local",
    drop: compileHeaderNames(["X-Forwarded-For"]),
    extra: [
      ["x-forwarded-for", "10.0.0.1"],
      ["x-request-id", "abc"],
    ],
  }).toString("latin1");
  assert.equal(
    out,
    "POST /p?q HTTP/1.1\r\nHost: svc.default.svc.cluster.local\r\nA: 1\r\nB: 2\r\nProxy-Authorization: Basic x\r\nC: 3\r\n" +
      "x-forwarded-for: 10.0.0.1\r\nx-request-id: abc\r\nContent-Length: 3\r\n\r\n",
  );
});

test("request: chunked framing, close, body in the same buffer", () => {
  const h = req("PUT /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nX: y\r\n\r\n");
  assert.equal(
    serializeRequestHead(h, { close: true }).toString("latin1"),
    "PUT /u HTTP/1.1\r\nHost: a\r\nX: y\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
  );
  assert.equal(
    serializeRequestHead(h, { framing: { kind: "length", length: 2 }, body: Buffer.from("hi") }).toString("latin1"),
    "PUT /u HTTP/1.1\r\nHost: a\r\nX: y\r\nContent-Length: 2\r\n\r\nhi",
  );
});

test("request: Upgrade is forwarded only when passed", () => {
  const h = req("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n");
  assert.equal(
    serializeRequestHead(h, { passUpgrade: true }).toString("latin1"),
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\nConnection: upgrade\r\n\r\n",
  );
  assert.equal(serializeRequestHead(h).toString("latin1"), "GET /ws HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\n\r\n");
});

test("request: rewritten values cannot inject lines", () => {
  const h = req("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.throws(() => serializeRequestHead(h, { extra: [["x-a", "b\r\nEvil: 1"]] }), TypeError);
  assert.throws(() => serializeRequestHead(h, { extra: [["x a", "b"]] }), TypeError);
  assert.throws(() => serializeRequestHead(h, { path: "/a b" }), TypeError);
  assert.throws(() => serializeRequestHead(h, { host: "a\r\nX: y" }), TypeError);
  assert.throws(() => serializeRequestHead(h, { method: "GET /" }), TypeError);
});

test("response: proxy headers appended, Content-Length rewritten", () => {
  const h = res("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: up\r\nConnection: keep-alive\r\n\r\n");
  assert.equal(
    serializeResponseHead(h, { extra: [["x-envoy-upstream-service-time", "4"]] }).toString("latin1"),
    "HTTP/1.1 200 OK\r\nServer: up\r\nx-envoy-upstream-service-time: 4\r\nContent-Length: 5\r\n\r\n",
  );
});

test("response: a slice of a body buffer in the same Buffer, Content-Length digits written in place", () => {
  const h = res("HTTP/1.1 200 OK\r\nContent-Length: 12345678901\r\n\r\n");
  const body = Buffer.from("xxhello worldyy", "latin1");
  assert.equal(serializeResponseHead(h, {}, body, 2, 13).toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 12345678901\r\n\r\nhello world");
  assert.equal(serializeResponseHead(h, { framing: { kind: "length", length: 0 } }).toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
});

test("response: HEAD / 304 keep the upstream Content-Length as metadata", () => {
  const h = res("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: x\r\n\r\n", "HEAD");
  assert.equal(serializeResponseHead(h).toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: x\r\n\r\n");
});

test("response: HTTP/1.0 downstream gets keep-alive or close and never chunked", () => {
  const h = res("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  const plan = chooseResponseFraming(h.framing, 0, true);
  assert.deepEqual({ ...plan }, { framing: { kind: "close" }, dechunk: true, rechunk: false, close: true });
  assert.equal(serializeResponseHead(h, { framing: plan.framing, downstreamMinor: 0 }).toString("latin1"), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  assert.throws(() => serializeResponseHead(h, { downstreamMinor: 0 }), TypeError);
  const cl = res("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
  assert.equal(
    serializeResponseHead(cl, { downstreamMinor: 0 }).toString("latin1"),
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
  );
});

test("chooseResponseFraming: re-chunks close-delimited bodies for HTTP/1.1 keep-alive downstreams", () => {
  assert.deepEqual({ ...chooseResponseFraming({ kind: "close" }, 1, true) }, { framing: { kind: "chunked" }, dechunk: false, rechunk: true, close: false });
  assert.deepEqual({ ...chooseResponseFraming({ kind: "close" }, 0, true) }, { framing: { kind: "close" }, dechunk: false, rechunk: false, close: true });
  assert.deepEqual({ ...chooseResponseFraming({ kind: "chunked" }, 1, false) }, { framing: { kind: "chunked" }, dechunk: false, rechunk: false, close: true });
  assert.deepEqual({ ...chooseResponseFraming({ kind: "length", length: 3 }, 1, true) }, {
    framing: { kind: "length", length: 3 },
    dechunk: false,
    rechunk: false,
    close: false,
  });
});

test("response: 101 passes Upgrade with Connection: upgrade", () => {
  const h = res("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: z\r\n\r\n");
  assert.equal(
    serializeResponseHead(h).toString("latin1"),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: z\r\nConnection: upgrade\r\n\r\n",
  );
});

test("local responses", () => {
  assert.equal(
    serializeLocalResponse(503, "Service Unavailable", [["content-type", "text/plain"]], "no healthy upstream", true).toString("latin1"),
    "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nno healthy upstream",
  );
  assert.equal(serializeLocalResponse(200, "OK", [], "abc", false, true).toString("latin1"), "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
  assert.throws(() => serializeLocalResponse(200, "OK", [["a", "b\nc"]]), TypeError);
});

test("forEachForwarded lists end-to-end headers (Host kept) and honours drop", () => {
  const h = req("GET / HTTP/1.1\r\nHost: a\r\nConnection: x-a\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n");
  const seen: string[] = [];
  h.forEachForwarded((n, v) => seen.push(`${n}=${v}`), compileHeaderNames(["x-c"]));
  assert.deepEqual(seen, ["Host=a", "X-B=2"]);
});

test("request: empty lines before the request line never end the forwarded head early (owned view or copy)", () => {
  const b = Buffer.from("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\n", "latin1");
  for (const owned of [false, true]) {
    const h = parseRequestHead(b, 0, b.length, undefined, 0, owned);
    if (h === null || h instanceof Error) throw new Error("bad fixture");
    assert.equal(h.headLength, b.length);
    const out = serializeRequestHead(h, { lines: "x-request-id: 1\r\n", extra: [["x-e", "2"]] }).toString("latin1");
    assert.equal(out, "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\nx-request-id: 1\r\nx-e: 2\r\n\r\n");
  }
});

test("request: `lines` are written as given before `extra`; changed path and host are still checked", () => {
  const h = req("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  const out = serializeRequestHead(h, { path: "/b", lines: "x-l: 1\r\n", extra: [["x-e", "2"]] }).toString("latin1");
  assert.equal(out, "GET /b HTTP/1.1\r\nHost: x\r\nx-l: 1\r\nx-e: 2\r\n\r\n");
  assert.throws(() => serializeRequestHead(h, { path: "/b\r\nX: y" }), TypeError);
  assert.throws(() => serializeRequestHead(h, { host: "x\r\nX: y" }), TypeError);
});

test("checkHeaderLines: renders name: value lines and refuses CR/LF or bad names", () => {
  assert.equal(checkHeaderLines([["a", "1"], ["b", ""]]), "a: 1\r\nb: \r\n");
  assert.throws(() => checkHeaderLines([["a", "1\r\nX: y"]]), TypeError);
  assert.throws(() => checkHeaderLines([["a b", "1"]]), TypeError);
});
