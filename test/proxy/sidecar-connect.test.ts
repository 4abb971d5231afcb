// CONNECT on the outbound listener: Node 24's fetch through HTTP_PROXY (NODE_USE_ENV_PROXY=1)
// tunnels http:// requests; the sidecar must route what comes through the tunnel like any other
// request, pass TLS through as an opaque tunnel, and answer malformed CONNECTs with 400.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer as createTlsServer } from "node:tls";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { AddressInfo } from "node:net";
import { forward, proxyConfig, raw, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

describe("sidecar CONNECT", () => {
  let v1: Upstream;
  let v2: Upstream;
  let proxy: RunningProxy;

  before(async () => {
    v1 = await startUpstream("reviews-v1");
    v2 = await startUpstream("reviews-v2");
    proxy = await startProxy(
      proxyConfig({
        virtualHosts: [
          {
            domains: ["reviews", "reviews:9080"],
            routes: [
              route("jason", { headers: [{ name: "end-user", match: { exact: "jason" }, invert: false }], queryParams: [], ignoreUriCase: false }, forward("v2")),
              route("default", { headers: [], queryParams: [], ignoreUriCase: false }, forward("v1")),
            ],
          },
        ],
        clusters: [
          { name: "v1", endpoints: [{ port: v1.port }] },
          { name: "v2", endpoints: [{ port: v2.port }] },
        ],
      }),
    );
  });

  after(async () => {
    await proxy.close();
    await v1.close();
    await v2.close();
  });

  it("Node's fetch with NODE_USE_ENV_PROXY tunnels through CONNECT and is still routed per request", async () => {
    const script = `const a = await (await fetch("http://reviews:9080/reviews/0")).text();
const b = await (await fetch("http://reviews:9080/reviews/1", { headers: { "end-user": "jason" } })).text();
console.log(JSON.stringify([a, b]));`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, HTTP_PROXY: `http://127.0.0.1:${proxy.port}`, NODE_USE_ENV_PROXY: "1", NO_PROXY: "" }, timeout: 15_000 }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const [a, b] = JSON.parse(out.trim()) as [string, string];
    assert.equal(a, "reviews-v1 GET /reviews/0 0");
    assert.equal(b, "reviews-v2 GET /reviews/1 0");
    const inTunnel = proxy.records.filter((r) => r.method === "GET");
    assert.equal(inTunnel.length, 2);
    assert.ok(proxy.records.some((r) => r.method === "CONNECT" && r.status === 200));
  });

  it("an HTTP/2 (h2c) client after CONNECT is served by the HTTP/2 side, each stream routed on :authority", async () => {
    const { connect: h2connect } = await import("node:http2");
    const stats = proxy.sidecar.ctx.downstream;
    const total = stats.downstream_cx_total;
    const sock = await tunnel(proxy.port, "reviews:9080");
    const session = h2connect("http://reviews:9080", { createConnection: () => sock });
    try {
      const get = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const req = session.request({ ":path": path, ...headers });
          let status = 0;
          let body = "";
          req.on("response", (h) => (status = Number(h[":status"])));
          req.setEncoding("utf8");
          req.on("data", (c: string) => (body += c));
          req.on("end", () => resolve({ status, body }));
          req.on("error", reject);
          req.end();
        });
      // Two streams on the one tunnelled connection, routed apart.
      const [a, b] = await Promise.all([get("/reviews/0"), get("/reviews/1", { "end-user": "jason" })]);
      assert.deepEqual(a, { status: 200, body: "reviews-v1 GET /reviews/0 0" });
      assert.deepEqual(b, { status: 200, body: "reviews-v2 GET /reviews/1 0" });
      // One downstream connection, counted once (not again by the HTTP/2 side).
      assert.equal(stats.downstream_cx_total, total + 1);
    } finally {
      session.close();
    }
  });

  it("an HTTP/1.1 POST after CONNECT (its first byte is the preface's `P`) stays HTTP/1.1", async () => {
    const sock = await tunnel(proxy.port, "reviews:9080");
    const text = await new Promise<string>((resolve, reject) => {
      let got = "";
      sock.on("data", (c: Buffer) => (got += c.toString()));
      sock.on("end", () => resolve(got));
      sock.on("error", reject);
      sock.write("POST /ratings HTTP/1.1\r\nHost: reviews:9080\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    });
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /reviews-v1 POST \/ratings 2/);
  });

  it("a TLS client after CONNECT gets an opaque tunnel to host:port", async () => {
    const pem = await selfSigned();
    const tlsServer = createTlsServer({ key: pem.key, cert: pem.cert }, (s) => s.end("hello over tls\n"));
    await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
    const port = (tlsServer.address() as AddressInfo).port;
    try {
      const { connect: tlsConnect } = await import("node:tls");
      const text = await new Promise<string>((resolve, reject) => {
        const sock = connect({ host: "127.0.0.1", port: proxy.port }, () => sock.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
        sock.once("data", (d: Buffer) => {
          if (!d.toString().startsWith("HTTP/1.1 200")) return reject(new Error(d.toString()));
          const t = tlsConnect({ socket: sock, rejectUnauthorized: false });
          let got = "";
          t.on("data", (c: Buffer) => (got += c.toString()));
          t.on("end", () => resolve(got));
          t.on("error", reject);
        });
        sock.on("error", reject);
      });
      assert.equal(text, "hello over tls\n");
    } finally {
      tlsServer.close();
    }
  });

  it("a CONNECT without host:port is a 400, and the proxy keeps serving", async () => {
    const r = await raw(proxy.port, "CONNECT reviews HTTP/1.1\r\nHost: reviews\r\n\r\n");
    assert.match(r.text, /^HTTP\/1\.1 400/);
    const ok = await raw(proxy.port, "GET /x HTTP/1.1\r\nHost: reviews:9080\r\nConnection: close\r\n\r\n");
    assert.match(ok.text, /reviews-v1 GET \/x/);
  });
});

/** A socket through `CONNECT target` on the proxy, once it answered 200. */
function tunnel(port: number, target: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: "127.0.0.1", port }, () => sock.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    sock.once("data", (d: Buffer) => (d.toString().startsWith("HTTP/1.1 200 ") && d.toString().endsWith("\r\n\r\n") ? resolve(sock) : reject(new Error(d.toString()))));
    sock.once("error", reject);
  });
}

/** A throwaway self-signed certificate made by openssl. */
async function selfSigned(): Promise<{ key: string; cert: string }> {
  const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "amime-connect-"));
  try {
    await new Promise<void>((resolve, reject) =>
      execFile("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=localhost"], (e) => (e ? reject(e) : resolve())),
    );
    return { key: readFileSync(join(dir, "k.pem"), "utf8"), cert: readFileSync(join(dir, "c.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
