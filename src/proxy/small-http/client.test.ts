import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { SmallHttpClient, SmallHttpError } from "./client.ts";

/** A raw TCP server: each connection's bytes go to `answer`, which writes what the test wants. */
function rawServer(answer: (s: Socket, request: string) => void): Promise<{ server: Server; port: number; connections: () => number; heads: string[] }> {
  let n = 0;
  const heads: string[] = [];
  const server = createServer((s) => {
    n++;
    let text = "";
    s.on("data", (b) => {
      text += b.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
      if (text.length < end + 4 + length) return;
      const request = text.slice(0, end + 4 + length);
      text = text.slice(end + 4 + length);
      heads.push(request);
      answer(s, request);
    });
    s.on("error", () => {});
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, connections: () => n, heads })));
}

describe("SmallHttpClient (exports and control-plane calls without node:http)", () => {
  const clock = new FakeClock();
  const client = new SmallHttpClient(clock);
  let srv: Awaited<ReturnType<typeof rawServer>>;
  before(async () => {
    srv = await rawServer((s, req) => {
      const path = req.split(" ")[1];
      if (path === "/length") s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 5\r\n\r\nhel", () => s.write("lo"));
      else if (path === "/chunked") s.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
      else if (path === "/close") s.end("HTTP/1.1 503 Service Unavailable\r\n\r\nuntil close");
      else if (path === "/bad") s.write("HTTP/1.1 2000 Nope\r\n\r\n");
      else if (path === "/cut") s.end("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
      // "/silent": no answer at all.
    });
  });
  after(() => {
    client.close();
    srv.server.close();
  });
  const url = (path: string): URL => new URL(`http://127.0.0.1:${srv.port}${path}`);

  it("sends the method, host, headers and body with content-length; reads a Content-Length answer after a 100", async () => {
    const r = await client.request(url("/length"), { method: "POST", headers: { "content-type": "application/json", "x-key": "k" }, body: "{}", timeoutMs: 1000 });
    assert.equal(r.status, 202);
    assert.equal(r.body.toString(), "hello");
    assert.equal(srv.heads.at(-1), `POST /length HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\ncontent-type: application/json\r\nx-key: k\r\ncontent-length: 2\r\n\r\n{}`);
  });

  it("reads chunked and close-delimited answers", async () => {
    assert.equal((await client.request(url("/chunked"), { method: "GET", timeoutMs: 1000 })).body.toString(), "abcde");
    const closed = await client.request(url("/close"), { method: "GET", timeoutMs: 1000 });
    assert.deepEqual([closed.status, closed.body.toString()], [503, "until close"]);
  });

  it("keeps a connection per pool key and origin; without a key, none is kept", async () => {
    const before = srv.connections();
    for (let i = 0; i < 3; i++) await client.request(url("/chunked"), { method: "GET", timeoutMs: 1000, poolKey: "a" });
    assert.equal(srv.connections() - before, 1);
    await client.request(url("/chunked"), { method: "GET", timeoutMs: 1000, poolKey: "b" });
    await client.request(url("/chunked"), { method: "GET", timeoutMs: 1000 });
    await client.request(url("/chunked"), { method: "GET", timeoutMs: 1000 });
    assert.equal(srv.connections() - before, 4);
  });

  it("fails with a stable code: bad answer, cut-off answer, no connection, timeout, bad header", async () => {
    const code = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
        return "ok";
      } catch (e) {
        assert.ok(e instanceof SmallHttpError);
        return e.code;
      }
    };
    assert.equal(await code(client.request(url("/bad"), { method: "GET", timeoutMs: 1000 })), "E_BAD_RESPONSE");
    assert.equal(await code(client.request(url("/cut"), { method: "GET", timeoutMs: 1000 })), "E_CLOSED");
    assert.equal(await code(client.request(url("/x"), { method: "GET", headers: { "x-a": "1\r\nx-b: 2" }, timeoutMs: 1000 })), "E_BAD_REQUEST");
    const closed = createServer();
    const port = await new Promise<number>((resolve) => closed.listen(0, "127.0.0.1", () => resolve((closed.address() as { port: number }).port)));
    await new Promise((r) => closed.close(r));
    assert.equal(await code(client.request(new URL(`http://127.0.0.1:${port}/`), { method: "GET", timeoutMs: 1000 })), "E_CONNECT");
    const silent = code(client.request(url("/silent"), { method: "POST", body: "x", timeoutMs: 3000 }));
    while (srv.heads.at(-1)?.startsWith("POST /silent") !== true) await new Promise((r) => setImmediate(r));
    clock.advance(3000);
    assert.equal(await silent, "E_TIMEOUT");
  });

  it("a kept connection the server drops as the next request arrives fails it with `reused` (the ACK sender then sends again at once)", async () => {
    const served = new WeakSet<Socket>();
    const once = await rawServer((s) => {
      if (served.has(s)) return void s.destroy();
      served.add(s);
      s.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    });
    const u = new URL(`http://127.0.0.1:${once.port}/`);
    const c = new SmallHttpClient(clock);
    await c.request(u, { method: "GET", timeoutMs: 1000, poolKey: "k" });
    const e = await c.request(u, { method: "GET", timeoutMs: 1000, poolKey: "k" }).then(
      () => null,
      (x: SmallHttpError) => x,
    );
    assert.deepEqual([e?.code, e?.reused], ["E_CLOSED", true]);
    // A request that failed on a fresh connection is not `reused`.
    const fresh = await c.request(u, { method: "GET", timeoutMs: 1000, poolKey: "k" });
    assert.equal(fresh.status, 200);
    c.close();
    once.server.close();
  });
});
