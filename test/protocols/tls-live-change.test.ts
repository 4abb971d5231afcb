// A live DestinationRule TLS change (plain text → SIMPLE) must drain the cluster's pools: idle
// upstream connections close at once, a request in flight finishes on its old connection (which is
// then closed, never reused), and every request after the new config is applied goes out over TLS.
// The upstream speaks both on one port (it peeks the first byte: 0x16 is a TLS handshake) and
// records, per request and per connection, whether it came over TLS. HTTP/1.1 pools and HTTP/2
// sessions are both checked; certificates come from openssl.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter, once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createH2Server, createSecureServer as createH2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen } from "./harness.ts";
import { h2Config } from "./h2-harness.ts";
import { makePki, type Pki } from "./pki.ts";

const HOST = "api.example.test";

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** One port, plain text and TLS: each request's transport is recorded; /hold waits for release(). */
class DualUpstream extends EventEmitter {
  readonly seen: { path: string; tls: boolean }[] = [];
  /** Open connections by transport. */
  open = { plain: 0, tls: 0 };
  private held: Res[] = [];
  private readonly front: Server;
  private readonly back: { emit(e: "connection", s: Socket): boolean; close(): unknown }[];

  constructor(pki: Pki, h2: boolean) {
    super();
    const leaf = pki.leaf("api");
    const creds = { cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) };
    const answer = (req: Req, res: Res): void => {
      const tls = (req.socket as Socket & { encrypted?: boolean }).encrypted === true;
      this.seen.push({ path: String(req.url), tls });
      this.emit("request", req.url);
      if (req.url === "/hold") {
        this.held.push(res);
        return;
      }
      res.end(`tls=${tls}`);
    };
    const plain = h2 ? createH2Server(answer) : createHttpServer(answer);
    const secure = h2 ? createH2SecureServer({ ...creds, ALPNProtocols: ["h2"] }, answer) : createHttpsServer(creds, answer);
    this.back = [plain, secure];
    this.front = createNetServer((sock) => {
      sock.once("data", (first: Buffer) => {
        sock.pause();
        sock.unshift(first);
        const kind = first[0] === 0x16 ? "tls" : "plain";
        this.open[kind]++;
        this.emit("change");
        sock.once("close", () => {
          this.open[kind]--;
          this.emit("change");
        });
        (kind === "tls" ? secure : plain).emit("connection", sock);
        // node:http reads with 'data' events, which a paused socket does not emit.
        if (kind === "plain" && !h2) sock.resume();
      });
    });
  }

  listen(): Promise<number> {
    return listen(this.front);
  }

  release(): void {
    for (const r of this.held.splice(0)) r.end("held");
  }

  /** Resolves once `cond` holds (checked on every connection open/close). */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await once(this, "change");
  }

  async close(): Promise<void> {
    this.release();
    for (const b of this.back) b.close();
    await closeServer(this.front);
  }
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host: HOST }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("latin1");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

for (const protocol of ["http1", "http2"] as const) {
  describe(`a live TLS change drains the ${protocol} pool`, () => {
    let pki: Pki;
    let upstream: DualUpstream;
    let sidecar: Sidecar;
    let cfg: Record<string, unknown>;
    let port = 0;

    before(async () => {
      pki = await makePki({ api: [HOST] });
      upstream = new DualUpstream(pki, protocol === "http2");
      const upPort = await upstream.listen();
      cfg = h2Config({}, [{ name: "api", cluster: "api" }], [{ name: "api", protocol, ports: [upPort] }]);
      sidecar = await Sidecar.start(cfg);
      port = sidecar.ports().outbound!;
    });

    after(async () => {
      await sidecar.close(100);
      await upstream.close();
      pki.cleanup();
    });

    it("no request after the push goes out in plain text; the request in flight finishes on its connection", async () => {
      // Warm the pool: concurrent requests leave several idle plain-text connections (HTTP/1.1)
      // or one session (HTTP/2); one more request stays in flight.
      const warm = await Promise.all([1, 2, 3].map(() => get(port, "/warm")));
      assert.deepEqual(warm.map((r) => r.body), ["tls=false", "tls=false", "tls=false"]);
      const gotHold = once(upstream, "request");
      const held = get(port, "/hold");
      await gotHold;
      assert.ok(upstream.open.plain >= 1);

      const tls = { mode: "SIMPLE", sni: HOST, caCertificates: pki.ca, subjectAltNames: [], insecureSkipVerify: false };
      const clusters = (cfg.clusters as Record<string, unknown>[]).map((c) => ({ ...c, tls }));
      const applied = await sidecar.applyConfig({ ...cfg, version: "tls-on", clusters });
      assert.deepEqual(applied, { ok: true, version: "tls-on" });

      const after = upstream.seen.length;
      const now = await Promise.all([1, 2, 3, 4].map(() => get(port, "/after")));
      assert.deepEqual(now.map((r) => `${r.status} ${r.body}`), ["200 tls=true", "200 tls=true", "200 tls=true", "200 tls=true"]);
      assert.deepEqual(upstream.seen.slice(after).map((s) => s.tls), [true, true, true, true]);
      // Idle connections were closed; the busy one (HTTP/1.1), or the session carrying the held
      // stream (HTTP/2), stays until its exchange ends.
      await upstream.until(() => upstream.open.plain === 1);

      upstream.release();
      assert.deepEqual(await held, { status: 200, body: "held" });
      // The old connection carried its last exchange and is closed, never reused.
      await upstream.until(() => upstream.open.plain === 0);
      const last = await get(port, "/last");
      assert.equal(last.body, "tls=true");
      assert.deepEqual(upstream.seen.filter((s) => !s.tls).map((s) => s.path), ["/warm", "/warm", "/warm", "/hold"]);
    });
  });
}
