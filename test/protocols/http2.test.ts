// HTTP/2 downstream end to end: curl (--http2-prior-knowledge, --http2 over TLS with ALPN) and
// h2load against the sidecar, forwarding to an HTTP/1.1 upstream (node:http) and to an HTTP/2
// upstream (node:http2, cluster protocol http2). HTTP/1.1 keeps working on the same listener.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { connect as connectH2, createServer as createH2Server, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "./harness.ts";
import { h2Config } from "./h2-harness.ts";
import { makePki, type Pki } from "./pki.ts";

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bytes: number;
  version: string;
}

describe("HTTP/2 downstream", () => {
  const seen: Seen[] = [];
  let h1: Server;
  let h2: Http2Server;
  let sidecar: Sidecar;
  let tlsSidecar: Sidecar;
  let pki: Pki;
  let port = 0;
  let tlsPort = 0;

  before(async () => {
    h1 = createServer((req, res) => {
      let bytes = 0;
      req.on("data", (b: Buffer) => (bytes += b.length));
      req.on("end", () => {
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bytes, version: req.httpVersion });
        if (req.url === "/len") {
          // A length set by the application: node sends it on a HEAD response too.
          res.setHeader("content-length", "10");
          res.end(req.method === "HEAD" ? undefined : "0123456789");
          return;
        }
        if (req.url === "/big") {
          // 2 MiB down, in chunks: exercises HTTP/2 flow control on the downstream stream.
          res.writeHead(200, { "content-type": "application/octet-stream" });
          const chunk = Buffer.alloc(64 * 1024, 0x61);
          for (let i = 0; i < 32; i++) res.write(chunk);
          res.end();
          return;
        }
        res.setHeader("x-upstream", "h1");
        res.end(`h1 ${req.method} ${req.url} host=${req.headers.host} proto=${req.headers["x-forwarded-proto"]} got=${bytes}`);
      });
    });
    h2 = createH2Server();
    h2.on("stream", (stream, headers) => {
      let bytes = 0;
      stream.on("data", (b: Buffer) => (bytes += b.length));
      stream.on("end", () => {
        stream.respond({ ":status": 201, "x-upstream": "h2" });
        stream.end(`h2 ${headers[":method"]} ${headers[":path"]} authority=${headers[":authority"]} got=${bytes}`);
      });
    });
    const h1Port = await listen(h1);
    const h2Port = await new Promise<number>((r) => h2.listen(0, "127.0.0.1", () => r((h2.address() as AddressInfo).port)));
    const routes = [
      { name: "to-h2", prefix: "/h2", cluster: "up-h2" },
      { name: "nothing", prefix: "/empty", cluster: "empty" },
      { name: "to-h1", prefix: "/", cluster: "up-h1", domains: ["app.local", "app.example.test", "127.0.0.1"] },
    ];
    const clusters = [
      { name: "up-h1", ports: [h1Port] },
      { name: "up-h2", protocol: "http2" as const, ports: [h2Port] },
      { name: "empty", ports: [] },
    ];
    sidecar = await Sidecar.start(h2Config({}, routes.map((r) => (r.domains ? r : { ...r, domains: ["app.local", "app.example.test", "127.0.0.1"] })), clusters));
    port = sidecar.ports().outbound!;
    pki = await makePki({ gw: ["app.example.test"] });
    const gw = pki.leaf("gw");
    tlsSidecar = await Sidecar.start(
      h2Config({ tls: { servers: [{ hosts: ["app.example.test"], mode: "SIMPLE", serverCertificate: gw.cert, privateKey: gw.key }] } }, routes.map((r) => ({ ...r, domains: ["app.local", "app.example.test", "127.0.0.1"] })), clusters),
    );
    tlsPort = tlsSidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar.close(100);
    await tlsSidecar.close(100);
    await closeServer(h1);
    await new Promise<void>((r) => h2.close(() => r()));
    pki.cleanup();
  });

  const curl = (args: string[]) => run("curl", ["--silent", "--show-error", "--max-time", "5", ...args], "", 8000);

  it("h2c prior knowledge → HTTP/1.1 upstream: request line, Host from :authority, body both ways", async () => {
    const r = await curl(["--http2-prior-knowledge", "--include", "-H", "Host: app.local", "--data-binary", "hello world", `http://127.0.0.1:${port}/echo?q=1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/2 200/);
    assert.match(r.stdout, /x-upstream: h1/);
    assert.match(r.stdout, /x-envoy-upstream-service-time: \d+/);
    assert.ok(r.stdout.endsWith("h1 POST /echo?q=1 host=app.local proto=http got=11"), r.stdout);
    const s = seen.at(-1)!;
    assert.equal(s.version, "1.1");
    assert.equal(s.headers["x-envoy-attempt-count"], "1");
    assert.ok(s.headers["x-request-id"]);
    assert.equal(s.headers["x-forwarded-for"], "127.0.0.1");
  });

  it("h2c `expect: 100-continue`: the sidecar answers 100 at once and the upstream never sees the Expect (Envoy's default)", async () => {
    const session = connectH2(`http://127.0.0.1:${port}`);
    try {
      const st = session.request({ ":method": "POST", ":path": "/expect", ":authority": "app.local", expect: "100-continue" });
      // The client sends its body only after the 100 (node:http2 emits 'continue' for it).
      await new Promise<void>((resolve, reject) => {
        st.once("continue", resolve);
        st.once("response", (h) => reject(new Error(`a final response before 100: ${h[":status"]}`)));
        st.once("error", reject);
      });
      st.end("after the 100");
      let text = "";
      st.setEncoding("utf8");
      st.on("data", (d: string) => (text += d));
      await new Promise((r) => st.on("end", r));
      assert.equal(text, "h1 POST /expect host=app.local proto=http got=13");
      const s = seen.at(-1)!;
      assert.equal(s.url, "/expect");
      assert.equal(s.headers.expect, undefined);
    } finally {
      session.close();
    }
  });

  it("h2c → HTTP/1.1 upstream: the response's content-length crosses (GET: the body's; HEAD: the upstream's)", async () => {
    const session = connectH2(`http://127.0.0.1:${port}`);
    try {
      const head = (method: string): Promise<{ headers: IncomingHttpHeaders; body: string }> =>
        new Promise((resolve, reject) => {
          const st = session.request({ ":method": method, ":path": "/len", ":authority": "app.local" }, { endStream: true });
          let headers: IncomingHttpHeaders = {};
          let body = "";
          st.setEncoding("utf8");
          st.on("response", (h) => (headers = h));
          st.on("data", (d: string) => (body += d));
          st.on("end", () => resolve({ headers, body }));
          st.on("error", reject);
        });
      const get = await head("GET");
      assert.equal(get.body, "0123456789");
      assert.equal(get.headers["content-length"], "10");
      const h = await head("HEAD");
      assert.equal(h.body, "");
      assert.equal(h.headers["content-length"], "10");
    } finally {
      session.close();
    }
  });

  it("h2c → HTTP/1.1 upstream: concurrent streams, heads held to the turn's end, bodies after their heads", async () => {
    // Many streams in flight: each upstream head is written with the turn's other writes
    // (SocketWriter.writeSoon); a body (Content-Length or chunked) must still follow its own head.
    const session = connectH2(`http://127.0.0.1:${port}`);
    try {
      const one = (i: number): Promise<string> =>
        new Promise((resolve, reject) => {
          const body = "x".repeat(i * 7);
          const headers: Record<string, string> = { ":method": i % 3 === 0 ? "GET" : "POST", ":path": `/c/${i}`, ":authority": "app.local" };
          if (i % 3 === 1) headers["content-length"] = String(body.length);
          const st = session.request(headers, { endStream: i % 3 === 0 });
          let text = "";
          st.setEncoding("utf8");
          st.on("data", (d: string) => (text += d));
          st.on("end", () => resolve(text));
          st.on("error", reject);
          if (i % 3 !== 0) st.end(body);
        });
      const got = await Promise.all(Array.from({ length: 30 }, (_, i) => one(i)));
      for (let i = 0; i < 30; i++) assert.equal(got[i], `h1 ${i % 3 === 0 ? "GET" : "POST"} /c/${i} host=app.local proto=http got=${i % 3 === 0 ? 0 : i * 7}`);
    } finally {
      session.close();
    }
  });

  it("h2c → HTTP/1.1 upstream: a 2 MiB response streams with flow control", async () => {
    const r = await run("curl", ["--silent", "--max-time", "5", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{http_code} %{size_download}", `http://127.0.0.1:${port}/big`]);
    assert.equal(r.stdout, "2 200 2097152");
  });

  it("h2c → HTTP/1.1 upstream: an upload of unknown length goes chunked", async () => {
    const r = await run("curl", ["--silent", "--max-time", "5", "--http2-prior-knowledge", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", `http://127.0.0.1:${port}/up`], "x".repeat(300_000));
    assert.match(r.stdout, /got=300000$/);
    assert.equal(seen.at(-1)!.headers["transfer-encoding"], "chunked");
  });

  it("h2c → HTTP/2 upstream (cluster protocol http2)", async () => {
    const r = await curl(["--http2-prior-knowledge", "--include", "--data-binary", "abc", `http://127.0.0.1:${port}/h2/x`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/2 201/);
    assert.match(r.stdout, /x-upstream: h2/);
    assert.ok(r.stdout.endsWith(`h2 POST /h2/x authority=127.0.0.1:${port} got=3`), r.stdout);
  });

  it("no route → 404 NR and no healthy upstream → 503 over HTTP/2", async () => {
    const nr = await curl(["--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: nowhere.test", `http://127.0.0.1:${port}/`]);
    assert.equal(nr.stdout, "404");
    const uh = await curl(["--http2-prior-knowledge", "-w", " %{http_code}", `http://127.0.0.1:${port}/empty`]);
    assert.equal(uh.stdout, "no healthy upstream 503");
  });

  it("HTTP/1.1 still works on the same listener", async () => {
    const r = await curl(["--http1.1", "--include", "-H", "Host: app.local", `http://127.0.0.1:${port}/one`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200/);
    assert.ok(r.stdout.endsWith("h1 GET /one host=app.local proto=http got=0"), r.stdout);
  });

  it("TLS listener: ALPN h2 (curl --http2) and scheme https; HTTP/1.1 over TLS sees https too", async () => {
    const base = ["--cacert", pki.ca, "--resolve", `app.example.test:${tlsPort}:127.0.0.1`];
    const r2 = await curl([...base, "--http2", "--include", `https://app.example.test:${tlsPort}/tls`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /^HTTP\/2 200/);
    assert.ok(r2.stdout.endsWith(`h1 GET /tls host=app.example.test:${tlsPort} proto=https got=0`), r2.stdout);
    const r1 = await curl([...base, "--http1.1", `https://app.example.test:${tlsPort}/tls1`]);
    assert.ok(r1.stdout.endsWith(`h1 GET /tls1 host=app.example.test:${tlsPort} proto=https got=0`), r1.stdout);
  });

  it("nghttp: concurrent requests with an upload and a 2 MiB download on one connection (Amime's own framing)", async () => {
    const r = await run("nghttp", ["-v", "-H", "Host: app.local", "-d", "-", `http://127.0.0.1:${port}/up1`, `http://127.0.0.1:${port}/big`, `http://127.0.0.1:${port}/h2/x`], "y".repeat(100_000), 20_000);
    // One connection: SETTINGS in both directions and ACKed, the server's window opened beyond the default.
    assert.match(r.stdout, /recv SETTINGS frame <length=12, flags=0x00, stream_id=0>/, r.stdout);
    assert.match(r.stdout, /recv SETTINGS frame <length=0, flags=0x01, stream_id=0>/);
    assert.match(r.stdout, /recv WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=0>/);
    // Three responses, each ended by the server (END_STREAM), no resets, no GOAWAY before the client's own.
    for (const id of [13, 15, 17]) assert.match(r.stdout, new RegExp(`recv \\(stream_id=${id}\\) :status: 20[01]`), r.stdout);
    assert.doesNotMatch(r.stdout, /recv RST_STREAM/);
    assert.match(r.stdout, /got=100000/);
    assert.equal(r.code, 0, r.stderr);
  });

  it("h2load: 200 multiplexed requests on 2 connections all succeed", async () => {
    const r = await run("h2load", ["-n", "200", "-c", "2", "-m", "10", "-H", "Host: app.local", `http://127.0.0.1:${port}/load`], "", 20_000);
    assert.match(r.stdout, /requests: 200 total, 200 started, 200 done, 200 succeeded, 0 failed, 0 errored/, r.stdout);
    assert.match(r.stdout, /status codes: 200 2xx/);
  });
});
