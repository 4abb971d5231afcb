// HTTP/1.1 client → sidecar → HTTP/2-only upstream (node:http2 createServer without allowHTTP1):
// clusters with protocol http2 (http2/grpc ports, DestinationRule h2UpgradePolicy UPGRADE) take
// HTTP/1.1 requests upstream as HTTP/2; useClientProtocol keeps HTTP/1.1 clients on HTTP/1.1.
// Clients: curl --http1.1 (plain, chunked upload, HEAD) and curl --http2-prior-knowledge.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { createServer as createH2Server, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "./harness.ts";
import { h2Config, NO_RETRY } from "./h2-harness.ts";

describe("HTTP/1.1 client → HTTP/2 upstream", () => {
  let h2: Http2Server;
  let h1: Server;
  let sidecar: Sidecar;
  let port = 0;
  const seen: { path: string; te: string | undefined; expect: string | undefined; bytes: number }[] = [];

  before(async () => {
    h2 = createH2Server();
    h2.on("stream", (stream, headers) => {
      const path = String(headers[":path"]);
      let bytes = 0;
      stream.on("data", (b: Buffer) => (bytes += b.length));
      stream.on("end", () => {
        seen.push({ path, te: headers["transfer-encoding"] as string | undefined, expect: headers.expect as string | undefined, bytes });
        if (path === "/flaky" && seen.filter((x) => x.path === "/flaky").length === 1) {
          stream.respond({ ":status": 503 });
          stream.end("try again");
          return;
        }
        if (path.startsWith("/stream")) {
          // No content-length: the sidecar must chunk it for the HTTP/1.1 client.
          stream.respond({ ":status": 200, "content-type": "text/plain" });
          let i = 0;
          const tick = (): void => {
            if (i === 5) {
              stream.end();
              return;
            }
            stream.write(`part${i++}\n`);
            setTimeout(tick, 5);
          };
          tick();
          return;
        }
        const body = `h2 ${headers[":method"]} ${path} authority=${headers[":authority"]} got=${bytes} xff=${headers["x-forwarded-for"]}`;
        stream.respond({ ":status": 200, "x-upstream": "h2", "content-length": String(Buffer.byteLength(body)) });
        stream.end(headers[":method"] === "HEAD" ? undefined : body);
      });
    });
    const h2Port = await new Promise<number>((r) => h2.listen(0, "127.0.0.1", () => r((h2.address() as AddressInfo).port)));
    h1 = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end(`h1 ${req.httpVersion}`));
    });
    const h1Port = await listen(h1);
    // A port nothing listens on: a connect failure.
    const probe = createServer();
    const deadPort = await listen(probe);
    await closeServer(probe);
    const domains = ["app.local"];
    const cfg = h2Config(
      {},
      [
        { name: "client", prefix: "/client", cluster: "use-client", domains },
        { name: "flaky", prefix: "/flaky", cluster: "up-h2", domains, retry: { ...NO_RETRY, attempts: 2, retryOn: ["5xx"], backoffBaseMs: 1, backoffMaxMs: 2 } },
        { name: "down", prefix: "/down", cluster: "dead-h2", domains },
        { name: "h2", prefix: "/", cluster: "up-h2", domains },
      ],
      [
        { name: "up-h2", protocol: "http2", ports: [h2Port] },
        { name: "use-client", protocol: "http2", ports: [h1Port] },
        { name: "dead-h2", protocol: "http2", ports: [deadPort] },
      ],
    );
    const clusters = cfg.clusters as Record<string, unknown>[];
    (clusters[1] as Record<string, unknown>).useClientProtocol = true;
    sidecar = await Sidecar.start(cfg);
    port = sidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar.close(100);
    await new Promise<void>((r) => h2.close(() => r()));
    await closeServer(h1);
  });

  const curl = (args: string[], input = "") => run("curl", ["--silent", "--show-error", "--max-time", "5", "-H", "Host: app.local", ...args], input, 8000);

  it("a plain GET gets through, with content-length kept and x-forwarded-for set", async () => {
    const r = await curl(["--http1.1", "--include", `http://127.0.0.1:${port}/a?b=1`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(r.stdout, /x-upstream: h2\r\n/);
    assert.match(r.stdout, /content-length: \d+\r\n/);
    assert.match(r.stdout, /h2 GET \/a\?b=1 authority=app\.local got=0 xff=127\.0\.0\.1$/);
  });

  it("two requests on one keep-alive connection", async () => {
    const r = await curl(["--http1.1", "-w", " %{num_connects}\n", `http://127.0.0.1:${port}/k1`, `http://127.0.0.1:${port}/k2`]);
    assert.match(r.stdout, /\/k1 .* 1\n/);
    assert.match(r.stdout, /\/k2 .* 0\n/);
  });

  it("a chunked upload arrives whole, without transfer-encoding or expect upstream", async () => {
    const body = "y".repeat(300_000);
    const r = await curl(["--http1.1", "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue", "--data-binary", "@-", `http://127.0.0.1:${port}/up`], body);
    assert.match(r.stdout, /h2 POST \/up .* got=300000 /);
    const s = seen.find((x) => x.path === "/up");
    assert.equal(s?.te, undefined);
    assert.equal(s?.expect, undefined);
    assert.equal(s?.bytes, 300_000);
  });

  it("a streamed response without length goes downstream chunked", async () => {
    const r = await curl(["--http1.1", "--include", "--raw", `http://127.0.0.1:${port}/stream`]);
    assert.match(r.stdout, /transfer-encoding: chunked\r\n/i);
    assert.match(r.stdout, /6\r\npart0\n\r\n/);
    assert.match(r.stdout, /\r\n0\r\n\r\n$/);
    const plain = await curl(["--http1.1", `http://127.0.0.1:${port}/stream2`]);
    assert.equal(plain.stdout, "part0\npart1\npart2\npart3\npart4\n");
  });

  it("HTTP/1.0 client: the body ends at close", async () => {
    const r = await curl(["--http1.0", "--include", `http://127.0.0.1:${port}/stream3`]);
    assert.match(r.stdout, /connection: close\r\n/i);
    assert.match(r.stdout, /part4\n$/);
  });

  it("HEAD gets the head only", async () => {
    const r = await curl(["--http1.1", "--head", `http://127.0.0.1:${port}/h`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(r.stdout, /h2 HEAD/);
  });

  it("retry on 503: a small chunked body is replayed de-chunked to the second attempt", async () => {
    const r = await curl(["--http1.1", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", `http://127.0.0.1:${port}/flaky`], "replay me");
    assert.match(r.stdout, /^h2 POST \/flaky .* got=9 /);
    assert.deepEqual(seen.filter((x) => x.path === "/flaky").map((x) => x.bytes), [9, 9]);
  });

  it("connect failure to the HTTP/2 upstream: 503 UF as for HTTP/1.1 clusters", async () => {
    const r = await curl(["--http1.1", "--include", `http://127.0.0.1:${port}/down`]);
    assert.match(r.stdout, /^HTTP\/1\.1 503 /);
    assert.match(r.stdout, /upstream connect error or disconnect\/reset before headers\. reset reason: connection failure/);
  });

  it("useClientProtocol: HTTP/1.1 stays HTTP/1.1 upstream on an http2 cluster", async () => {
    const r = await curl(["--http1.1", `http://127.0.0.1:${port}/client`]);
    assert.equal(r.stdout, "h1 1.1");
  });
});
