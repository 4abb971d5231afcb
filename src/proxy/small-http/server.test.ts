import assert from "node:assert/strict";
import fc from "fast-check";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { SmallHttpServer, type SmallRequest } from "./server.ts";

/** Everything the server sends until it closes the connection. */
function exchange(port: number, ...writes: (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1" });
    const got: Buffer[] = [];
    s.on("data", (b) => got.push(b));
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(got).toString("latin1")));
    for (const w of writes) s.write(w);
  });
}

/** Resolves once `s` has received text containing `marker`. */
function until(s: Socket, marker: string): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const on = (b: Buffer): void => {
      text += b.toString("latin1");
      if (text.includes(marker)) {
        s.off("data", on);
        resolve(text);
      }
    };
    s.on("data", on);
  });
}

describe("SmallHttpServer (admin, status and Prometheus listeners without node:http)", () => {
  const clock = new FakeClock();
  const seen: SmallRequest[] = [];
  const server = new SmallHttpServer((req) => {
    seen.push(req);
    if (req.path === "/boom") throw new Error("handler bug");
    return { status: 200, body: `${req.method} ${req.path} ${req.target}\n`, headers: [["x-test", "1"]] };
  }, clock);
  let port = 0;
  before(async () => {
    port = await server.listen(0, "127.0.0.1");
  });
  after(() => server.close());

  it("answers with Envoy's reason phrase, content-length and the handler's headers; path without the query", async () => {
    const r = await exchange(port, "GET /stats?usedonly HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    assert.equal(r, "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 27\r\nx-test: 1\r\nconnection: close\r\n\r\nGET /stats /stats?usedonly\n");
  });

  it("keeps the connection for pipelined requests, skips their bodies (length and chunked), and HEAD gets no body", async () => {
    const r = await exchange(
      port,
      "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
      "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      "HEAD /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    );
    const heads = r.split("HTTP/1.1 ").slice(1);
    assert.equal(heads.length, 3, r);
    assert.ok(r.includes("POST /a /a\n") && r.includes("POST /b /b\n"), r);
    assert.ok(heads[2]?.endsWith("content-length: 11\r\nx-test: 1\r\nconnection: close\r\n\r\n"), r);
  });

  it("a malformed head gets 400, a bad version 505, a huge head 431: each closes the connection", async () => {
    assert.match(await exchange(port, "GET /x HTTP/1.1\r\nHost: a\r\nBad Header: 1\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request\r\n[^]*connection: close\r\n\r\nBad Request: E_BAD_HEADER\n$/);
    assert.match(await exchange(port, "GET /x HTTP/1.1\nHost: a\n\n"), /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(await exchange(port, "GET /x HTTP/2.0\r\nHost: a\r\n\r\n"), /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/);
    assert.match(await exchange(port, "GET /x HTTP/1.1\r\nHost: a\r\n", `x-big: ${"a".repeat(70 * 1024)}\r\n\r\n`), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    assert.match(await exchange(port, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"), /^HTTP\/1\.1 413 Payload Too Large\r\n/);
    assert.match(await exchange(port, "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), /^HTTP\/1\.1 200 OK\r\n[^]*HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it("a handler that throws answers 500 and the server goes on", async () => {
    assert.match(await exchange(port, "GET /boom HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), /^HTTP\/1\.1 500 Internal Server Error\r\n[^]*internal error: handler bug\n$/);
    assert.match(await exchange(port, "GET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), /^HTTP\/1\.1 200 OK/);
  });

  it("a head not complete 10 s after its first byte gets 408; an idle kept connection is closed after 5 s", async () => {
    const slow = connect({ port, host: "127.0.0.1" });
    const closed = new Promise<string>((resolve) => {
      let text = "";
      slow.on("data", (b) => (text += b.toString("latin1")));
      slow.on("close", () => resolve(text));
    });
    slow.write("GET /slow HTTP/1.1\r\nHost: a\r\n");
    // The server has the partial head once it armed the head timer (10 s).
    while (!clock.pendingDelays().includes(10_000)) await new Promise((r) => setImmediate(r));
    clock.advance(9_999);
    slow.write("x-more: 1\r\n");
    await new Promise((r) => setImmediate(r));
    clock.advance(1);
    assert.match(await closed, /^HTTP\/1\.1 408 Request Timeout\r\n[^]*request head not complete in time\n$/);

    // The 408'd connection's timers go with its socket; then the only timer is the idle one's.
    while (clock.pending() !== 0) await new Promise((r) => setImmediate(r));
    const idle = connect({ port, host: "127.0.0.1" });
    const idleClosed = new Promise<void>((resolve) => idle.on("close", () => resolve()));
    idle.write("GET /one HTTP/1.1\r\nHost: a\r\n\r\n");
    await until(idle, "GET /one");
    while (!clock.pendingDelays().includes(5_000)) await new Promise((r) => setImmediate(r));
    clock.advance(5_000);
    await idleClosed;
  });

  it("close() ends every connection, idle or not", async () => {
    const other = new SmallHttpServer(() => ({ status: 204, body: "" }));
    const p = await other.listen(0, "127.0.0.1");
    const s = connect({ port: p, host: "127.0.0.1" });
    const gone = new Promise<void>((resolve) => s.on("close", () => resolve()));
    s.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.match(await until(s, "\r\n\r\n"), /^HTTP\/1\.1 204 No Content\r\ncontent-length: 0\r\n\r\n$/);
    await other.close();
    await gone;
  });

  it("whatever bytes a client sends, in whatever pieces, it gets answers or a close, and the server goes on", async () => {
    const ok = "GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    const piece = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom("GET / HTTP/1.1\r\n", "Host: a\r\n", "\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: 3\r\n", "5\r\nab", "\n", "\0", "HTTP/1.1 200 OK\r\n").map((t) => Buffer.from(t, "latin1")));
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const s = connect({ port, host: "127.0.0.1" });
        s.on("error", () => {});
        const closed = new Promise<string>((resolve) => {
          let text = "";
          s.on("data", (b) => (text += b.toString("latin1")));
          s.on("close", () => resolve(text));
        });
        for (const p of pieces) s.write(p);
        s.end();
        const text = await closed;
        // Every answer starts with a status line of ours; a connection that got bytes it could not take is closed.
        for (const line of text.split("\r\n").filter((l) => l.startsWith("HTTP/"))) assert.match(line, /^HTTP\/1\.1 \d{3} [A-Za-z -]+$/);
      }),
      { numRuns: 60 },
    );
    assert.match(await exchange(port, ok), /^HTTP\/1\.1 200 OK/);
  });

  it("refuses to bind a taken port with the bind error", async () => {
    await assert.rejects(new SmallHttpServer(() => ({ status: 200, body: "" })).listen(port, "127.0.0.1"), /EADDRINUSE/);
  });
});
