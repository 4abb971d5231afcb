// Sidecar HTTP/1.1 wire behaviour end to end: chunked and large bodies streamed both ways,
// bodiless responses (HEAD/204/304), pipelining, upstream keep-alive reuse and Connection: close,
// HTTP/1.0 clients, malformed requests.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { forward, proxyConfig, raw, route, sleep, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const MB = 1024 * 1024;

describe("sidecar wire", () => {
  let app: Upstream;
  let closer: Upstream;
  let proxy: RunningProxy;
  const events: { uploadFirstByteAt: number; downloadEndAt: number } = { uploadFirstByteAt: 0, downloadEndAt: 0 };

  before(async () => {
    app = await startUpstream(
      "app",
      (req, res) => {
        const url = req.url ?? "/";
        if (url === "/upload") {
          let n = 0;
          req.on("data", (c: Buffer) => {
            if (n === 0) events.uploadFirstByteAt = Date.now();
            n += c.length;
          });
          req.on("end", () => res.end(`received ${n}`));
          return;
        }
        req.resume();
        if (url === "/chunked") {
          res.write("one,");
          setTimeout(() => {
            res.write("two,");
            res.end("three");
          }, 20);
        } else if (url === "/download") {
          res.setHeader("content-type", "application/octet-stream");
          res.write(Buffer.alloc(MB, 1));
          setTimeout(() => {
            for (let i = 0; i < 9; i++) res.write(Buffer.alloc(MB, 2));
            res.end(() => (events.downloadEndAt = Date.now()));
          }, 300);
        } else if (url === "/head") {
          res.setHeader("content-length", "100");
          res.end(req.method === "HEAD" ? undefined : Buffer.alloc(100, 0x61));
        } else if (url === "/204") {
          res.statusCode = 204;
          res.end();
        } else if (url === "/304") {
          res.statusCode = 304;
          res.setHeader("etag", '"x"');
          res.end();
        } else if (url.startsWith("/delay/")) {
          const ms = Number(url.slice(7));
          setTimeout(() => res.end(`done ${url}`), ms);
        } else {
          res.end(`ok ${url}`);
        }
      },
      false,
    );
    closer = await startUpstream("closer", (_req, res) => {
      res.setHeader("connection", "close");
      res.end("bye");
    });
    proxy = await startProxy(
      proxyConfig({
        clusters: [
          { name: "app", endpoints: [{ port: app.port }] },
          { name: "closer", endpoints: [{ port: closer.port }] },
        ],
        virtualHosts: [
          { domains: ["closer"], routes: [route("c", {}, forward("closer"))] },
          { domains: ["*"], routes: [route("a", {}, forward("app"))] },
        ],
      }),
    );
  });

  after(async () => {
    await proxy.close();
    await app.close();
    await closer.close();
  });

  it("streams a chunked request body and a chunked response", async () => {
    const body = await new Promise<{ status: number; te: string | undefined; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: proxy.port, method: "POST", path: "/upload", agent: false, headers: { host: "svc" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, te: res.headers["transfer-encoding"], text }));
      });
      req.on("error", reject);
      req.write("abc");
      setTimeout(() => req.end("defgh"), 20);
    });
    assert.equal(body.status, 200);
    assert.equal(body.text, "received 8");

    const r = await raw(proxy.port, "GET /chunked HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.text, /transfer-encoding: chunked\r\n/i);
    assert.ok(r.text.endsWith("0\r\n\r\n"), "the last chunk is relayed");
    assert.match(r.text, /one,[\s\S]*two,[\s\S]*three/);
  });

  it("streams a 10 MB upload and a 10 MB download without waiting for the whole body", async () => {
    const up = await new Promise<{ text: string; finishedAt: number }>((resolve, reject) => {
      let finishedAt = 0;
      const req = httpRequest(
        { host: "127.0.0.1", port: proxy.port, method: "POST", path: "/upload", agent: false, headers: { host: "svc", "content-length": String(10 * MB) } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ text, finishedAt }));
        },
      );
      req.on("error", reject);
      // Send in 1 MB pieces, pausing between them, so buffering in the proxy would show.
      let sent = 0;
      const next = (): void => {
        if (sent === 10) {
          req.end();
          return;
        }
        sent++;
        if (sent === 10) finishedAt = Date.now();
        req.write(Buffer.alloc(MB, 7));
        setTimeout(next, 15);
      };
      next();
    });
    assert.equal(up.text, `received ${10 * MB}`);
    assert.ok(events.uploadFirstByteAt > 0 && events.uploadFirstByteAt < up.finishedAt - 50, `the upstream saw the body before the client finished sending (${events.uploadFirstByteAt} vs ${up.finishedAt})`);

    const down = await new Promise<{ bytes: number; firstAt: number }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: proxy.port, path: "/download", agent: false, headers: { host: "svc" } }, (res) => {
        let bytes = 0;
        let firstAt = 0;
        res.on("data", (c: Buffer) => {
          if (firstAt === 0) firstAt = Date.now();
          bytes += c.length;
        });
        res.on("end", () => resolve({ bytes, firstAt }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(down.bytes, 10 * MB);
    assert.ok(down.firstAt < events.downloadEndAt - 200, "the first megabyte arrived before the upstream finished");
  });

  it("sends no body for HEAD, 204 and 304, and keeps the connection usable", async () => {
    const r = await raw(
      proxy.port,
      "HEAD /head HTTP/1.1\r\nHost: svc\r\n\r\n" + "GET /204 HTTP/1.1\r\nHost: svc\r\n\r\n" + "GET /304 HTTP/1.1\r\nHost: svc\r\n\r\n" + "GET /last HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    const parts = r.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(parts.length, 4, r.text);
    assert.match(parts[0] ?? "", /^HTTP\/1\.1 200 [\s\S]*content-length: 100\r\n[\s\S]*\r\n\r\n$/i);
    assert.match(parts[1] ?? "", /^HTTP\/1\.1 204 [\s\S]*\r\n\r\n$/);
    assert.match(parts[2] ?? "", /^HTTP\/1\.1 304 [\s\S]*etag: "x"\r\n[\s\S]*\r\n\r\n$/i);
    assert.match(parts[3] ?? "", /ok \/last$/);
    assert.ok(r.closed);
  });

  it("answers pipelined requests in order", async () => {
    const r = await raw(
      proxy.port,
      "GET /delay/80 HTTP/1.1\r\nHost: svc\r\n\r\nGET /delay/0 HTTP/1.1\r\nHost: svc\r\n\r\nGET /delay/20 HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n",
    );
    const bodies = [...r.text.matchAll(/done \/delay\/(\d+)/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ["80", "0", "20"]);
  });

  it("reuses upstream connections across requests and client connections", async () => {
    const before = app.connections;
    for (let i = 0; i < 20; i++) {
      const r = await raw(proxy.port, `GET /reuse/${i} HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n`);
      assert.match(r.text, new RegExp(`ok /reuse/${i}$`));
    }
    assert.ok(app.connections - before <= 1, `opened ${app.connections - before} upstream connections`);
  });

  it("does not reuse an upstream connection that said Connection: close", async () => {
    const before = closer.connections;
    for (let i = 0; i < 3; i++) {
      const r = await raw(proxy.port, "GET / HTTP/1.1\r\nHost: closer\r\nConnection: close\r\n\r\n");
      assert.match(r.text, /^HTTP\/1\.1 200[\s\S]*bye$/);
    }
    assert.equal(closer.connections - before, 3);
    // The downstream connection stays open: the upstream's close is hop-by-hop.
    const two = await raw(proxy.port, "GET / HTTP/1.1\r\nHost: closer\r\n\r\nGET / HTTP/1.1\r\nHost: closer\r\nConnection: close\r\n\r\n");
    assert.equal([...two.text.matchAll(/bye/g)].length, 2);
  });

  it("opens a new upstream connection after maxRequestsPerConnection", async () => {
    const limited = await startUpstream("limited");
    const p = await startProxy(
      proxyConfig({
        clusters: [{ name: "l", endpoints: [{ port: limited.port }], connectionPool: { maxRequestsPerConnection: 2 } }],
        virtualHosts: [{ domains: ["*"], routes: [route("l", {}, forward("l"))] }],
      }),
    );
    try {
      for (let i = 0; i < 4; i++) {
        const r = await raw(p.port, "GET / HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
        assert.match(r.text, /^HTTP\/1\.1 200/);
      }
      assert.equal(limited.connections, 2);
    } finally {
      await p.close();
      await limited.close();
    }
  });

  it("de-chunks for an HTTP/1.0 client and closes", async () => {
    const r = await raw(proxy.port, "GET /chunked HTTP/1.0\r\nHost: svc\r\n\r\n");
    assert.ok(r.closed);
    const [head, body] = r.text.split("\r\n\r\n");
    assert.doesNotMatch(head ?? "", /transfer-encoding/i);
    assert.equal(body, "one,two,three");
  });

  it("answers malformed requests with 400/431/501/505 and closes", async () => {
    const bad = await raw(proxy.port, "GARBAGE\r\n\r\n");
    assert.match(bad.text, /^HTTP\/1\.1 400 /);
    assert.ok(bad.closed);
    const big = await raw(proxy.port, `GET / HTTP/1.1\r\nHost: svc\r\nx-big: ${"a".repeat(70 * 1024)}\r\n\r\n`);
    assert.match(big.text, /^HTTP\/1\.1 431 /);
    assert.ok(big.closed);
    const te = await raw(proxy.port, "POST / HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
    assert.match(te.text, /^HTTP\/1\.1 (501|400) /);
    const ver = await raw(proxy.port, "GET / HTTP/2.0\r\nHost: svc\r\n\r\n");
    assert.match(ver.text, /^HTTP\/1\.1 505 /);
    const smuggle = await raw(proxy.port, "POST / HTTP/1.1\r\nHost: svc\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert.match(smuggle.text, /^HTTP\/1\.1 400 /);
    // The proxy is still fine afterwards.
    const ok = await raw(proxy.port, "GET /after HTTP/1.1\r\nHost: svc\r\nConnection: close\r\n\r\n");
    assert.match(ok.text, /ok \/after$/);
  });

  it("resets the upstream request when the client goes away (DC)", async () => {
    const s = connect(proxy.port, "127.0.0.1");
    s.write("GET /delay/300 HTTP/1.1\r\nHost: svc\r\n\r\n");
    await sleep(50);
    s.destroy();
    await sleep(100);
    const rec = proxy.records.find((r) => r.path === "/delay/300");
    assert.ok(rec, "recorded");
    assert.ok((rec.flags & 1) !== 0, "DC flag");
  });
});
