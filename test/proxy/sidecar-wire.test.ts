// Sidecar HTTP/1.1 wire behaviour end to end: chunked and large bodies streamed both ways,
// bodiless responses (HEAD/204/304), pipelining, upstream keep-alive reuse and Connection: close,
// HTTP/1.0 clients, malformed requests.
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { Gate, waitFor, within } from "../support/wait.ts";
import { forward, proxyConfig, raw, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const MB = 1024 * 1024;

describe("sidecar wire", () => {
  let app: Upstream;
  let closer: Upstream;
  let proxy: RunningProxy;
  /** What the upstream saw: body bytes of the current /upload, /hold requests and their fate. */
  const seen = { uploadBytes: 0, held: 0, heldClosed: 0 };
  /** The upstream sends the rest of /download once the client has its first megabyte. */
  const downloadRest = new Gate();

  before(async () => {
    app = await startUpstream(
      "app",
      (req, res) => {
        const url = req.url ?? "/";
        if (url === "/upload") {
          let n = 0;
          seen.uploadBytes = 0;
          req.on("data", (c: Buffer) => {
            n += c.length;
            seen.uploadBytes = n;
          });
          req.on("end", () => res.end(`received ${n}`));
          return;
        }
        if (url === "/hold") {
          // Never answered: the test ends it from the client side.
          seen.held++;
          res.on("close", () => seen.heldClosed++);
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
          void downloadRest.opened.then(() => {
            for (let i = 0; i < 9; i++) res.write(Buffer.alloc(MB, 2));
            res.end();
          });
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
    seen.uploadBytes = 0;
    const body = await new Promise<{ status: number; te: string | undefined; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port: proxy.port, method: "POST", path: "/upload", agent: false, headers: { host: "svc" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, te: res.headers["transfer-encoding"], text }));
      });
      req.on("error", reject);
      req.write("abc");
      // The first chunk reaches the upstream on its own before the rest is sent.
      waitFor(() => seen.uploadBytes === 3, { what: "the upstream to receive the first chunk" }).then(() => req.end("defgh"), reject);
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
    // Upload: the client sends its last megabyte only once the upstream has received body bytes,
    // which a proxy holding the whole (content-length) body first would never let happen.
    seen.uploadBytes = 0;
    const up = await within(
      new Promise<{ text: string; seenBeforeLast: number }>((resolve, reject) => {
        let seenBeforeLast = 0;
        const req = httpRequest(
          { host: "127.0.0.1", port: proxy.port, method: "POST", path: "/upload", agent: false, headers: { host: "svc", "content-length": String(10 * MB) } },
          (res) => {
            let text = "";
            res.on("data", (c: Buffer) => (text += c.toString()));
            res.on("end", () => resolve({ text, seenBeforeLast }));
          },
        );
        req.on("error", reject);
        for (let i = 0; i < 9; i++) req.write(Buffer.alloc(MB, 7));
        waitFor(() => seen.uploadBytes > 0, { what: "the upstream to receive the first body bytes while the last megabyte is unsent" }).then(() => {
          seenBeforeLast = seen.uploadBytes;
          req.end(Buffer.alloc(MB, 7));
        }, reject);
      }),
      { what: "the 10 MB upload's answer" },
    );
    assert.equal(up.text, `received ${10 * MB}`);
    assert.ok(up.seenBeforeLast > 0 && up.seenBeforeLast < 10 * MB, `the upstream saw the body before the client finished sending (${up.seenBeforeLast} bytes)`);

    // Download: the upstream sends its first megabyte and holds the other nine until the client
    // has received bytes, which a proxy holding the whole response first would never let happen.
    const down = await within(
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port: proxy.port, path: "/download", agent: false, headers: { host: "svc" } }, (res) => {
          let bytes = 0;
          res.on("data", (c: Buffer) => {
            bytes += c.length;
            downloadRest.open();
          });
          res.on("end", () => resolve(bytes));
        });
        req.on("error", reject);
        req.end();
      }),
      { what: "the first megabyte of the download before the upstream sends the rest" },
    );
    assert.equal(down, 10 * MB);
    assert.ok(downloadRest.isOpen);
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
    const before = { held: seen.held, closed: seen.heldClosed };
    const s = connect(proxy.port, "127.0.0.1");
    s.on("error", () => {});
    s.write("GET /hold HTTP/1.1\r\nHost: svc\r\n\r\n");
    await waitFor(() => seen.held === before.held + 1, { what: "the request to reach the upstream" });
    s.destroy();
    await waitFor(() => proxy.records.some((r) => r.path === "/hold"), { what: "the proxy to record the abandoned request" });
    const rec = proxy.records.find((r) => r.path === "/hold");
    assert.ok(rec !== undefined && (rec.flags & 1) !== 0, "DC flag");
    await waitFor(() => seen.heldClosed === before.closed + 1, { what: "the upstream request to be reset" });
  });
});
