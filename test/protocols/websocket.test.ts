// WebSocket (HTTP/1.1 Upgrade) through the sidecar: a node:http server doing the RFC 6455
// handshake on 'upgrade' and echoing frames; curl's handshake and a raw-socket client that sends
// a masked frame in the same write as the request head (so the proxy must carry early bytes).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, dial, listen, readAll, readUntil, run } from "./harness.ts";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; // RFC 6455 §1.3's example

function acceptFor(key: string): string {
  return createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
}

/** A masked client text frame (payload < 126 bytes). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Decode one unmasked server text frame. */
function serverFrameText(b: Buffer): string {
  assert.equal(b[0], 0x81);
  const len = b[1]! & 0x7f;
  return b.subarray(2, 2 + len).toString();
}

/** Refusals in each HTTP/1.1 body framing: the proxy relays each as it is, to its end. */
const REFUSALS: Record<string, string> = {
  "/refuse": "HTTP/1.1 403 Forbidden\r\ncontent-length: 6\r\n\r\nno ws!",
  "/refuse-chunked": "HTTP/1.1 403 Forbidden\r\ntransfer-encoding: chunked\r\n\r\n6\r\nno ws!\r\n0\r\n\r\n",
  "/refuse-close": "HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\nno ws, and this body ends with the connection",
};

describe("WebSocket upgrade pass-through", () => {
  const seen: IncomingMessage["headers"][] = [];
  const server = createServer((req, res) => res.end(`plain ${req.url}`));
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push(req.headers);
    const refusal = REFUSALS[req.url ?? ""];
    if (refusal !== undefined) {
      socket.end(refusal);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(String(req.headers["sec-websocket-key"]))}\r\n\r\n`);
    // Echo every client frame back unmasked, prefixed "echo:".
    let buf = head;
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 6) {
        const len = buf[1]! & 0x7f;
        if (buf.length < 6 + len) return;
        const mask = buf.subarray(2, 6);
        const text = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!)).toString();
        buf = buf.subarray(6 + len);
        const out = Buffer.from(`echo:${text}`);
        socket.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
      }
    };
    socket.on("data", onData);
    onData(Buffer.alloc(0));
    socket.on("error", () => undefined);
    // node:http leaves upgraded sockets half-open: answer the proxy's FIN with ours.
    socket.on("end", () => socket.end());
  });
  let sidecar: Sidecar;
  let port = 0;

  before(async () => {
    const upPort = await listen(server);
    sidecar = await Sidecar.start({
      version: "ws",
      node: { id: "sidecar~t", kind: "sidecar", workload: "t", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
      listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound" }],
      routes: [{ name: "outbound", virtualHosts: [{ name: "ws", domains: ["*"], routes: [{ name: "r", match: { headers: [], queryParams: [], ignoreUriCase: false }, action: { kind: "forward", clusters: [{ cluster: "ws", weight: 100 }], timeoutMs: 0, retry: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false }, mirrors: [] }, origin: { resource: "t", ruleIndex: 0, matchIndex: -1 } }] }] }],
      clusters: [{ name: "ws", direction: "outbound", discovery: "eds", protocol: "http1", lb: { policy: "ROUND_ROBIN" }, connectionPool: {} }],
      endpoints: { ws: [{ address: "127.0.0.1", port: upPort, weight: 1, labels: {}, healthy: true }] },
    });
    port = sidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar.close(100);
    await closeServer(server);
  });

  it("curl's handshake gets the upstream's 101 with Upgrade/Connection and the accept key", async () => {
    const r = await run("curl", ["--include", "--no-buffer", "--silent", "--max-time", "1.5", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", `Sec-WebSocket-Key: ${KEY}`, "-H", "Sec-WebSocket-Version: 13", `http://127.0.0.1:${port}/chat`]);
    assert.match(r.stdout, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(r.stdout, /\r\nUpgrade: websocket\r\n/i);
    assert.match(r.stdout, /\r\nConnection: upgrade\r\n/i);
    assert.ok(r.stdout.includes(`Sec-WebSocket-Accept: ${ACCEPT}`), r.stdout);
    const h = seen.at(-1)!;
    assert.equal(h.upgrade, "websocket");
    assert.match(String(h.connection), /upgrade/i);
    assert.equal(h["sec-websocket-key"], KEY);
  });

  it("a raw client exchanges frames over the spliced sockets (early frame included)", async () => {
    const s = await dial(port);
    s.write(`GET /chat HTTP/1.1\r\nHost: echo.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const first = await readUntil(s, (b) => b.includes("\r\n\r\n"));
    const headEnd = first.indexOf("\r\n\r\n") + 4;
    assert.match(first.subarray(0, headEnd).toString(), /^HTTP\/1\.1 101 /);
    let rest = first.subarray(headEnd);
    s.write(clientFrame("hello"));
    if (rest.length < 2) rest = Buffer.concat([rest, await readUntil(s, (b) => b.length >= 2 + (b[1]! & 0x7f))]);
    assert.equal(serverFrameText(rest), "echo:hello");
    s.write(clientFrame("again"));
    assert.equal(serverFrameText(await readUntil(s, (b) => b.length >= 2 && b.length >= 2 + (b[1]! & 0x7f))), "echo:again");
    const closed = readAll(s);
    s.end();
    assert.equal((await closed).closed, true);
    assert.ok(sidecar.runtime.clusters.get("ws")!.stats.upstream_cx_tx_bytes_total >= 2 * 11);
  });

  it("a frame sent right behind the request head is delivered after the upgrade", async () => {
    const s = await dial(port);
    s.write(Buffer.concat([Buffer.from(`GET /chat HTTP/1.1\r\nHost: echo.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`), clientFrame("early")]));
    const all = await readUntil(s, (b) => b.includes("echo:early"));
    assert.match(all.toString("latin1"), /^HTTP\/1\.1 101 /);
    s.destroy();
  });

  it("an upgrade the upstream refuses is relayed as a normal response; plain requests are untouched", async () => {
    const s = await dial(port);
    s.write(`GET /refuse HTTP/1.1\r\nHost: echo.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const { data, closed } = await readAll(s);
    assert.match(data.toString(), /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nno ws!$/);
    assert.equal(closed, true);
    const plain = await run("curl", ["--silent", `http://127.0.0.1:${port}/x`]);
    assert.equal(plain.stdout, "plain /x");
  });

  for (const [path, body] of [
    ["/refuse-chunked", "\r\n\r\n6\r\nno ws!\r\n0\r\n\r\n"],
    ["/refuse-close", "\r\n\r\nno ws, and this body ends with the connection"],
  ] as const) {
    it(`a refused upgrade's ${path === "/refuse-close" ? "close-delimited" : "chunked"} body is relayed whole, then the connection closes`, async () => {
      const s = await dial(port);
      s.write(`GET ${path} HTTP/1.1\r\nHost: echo.local\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      const { data, closed } = await readAll(s);
      assert.match(data.toString(), /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.ok(data.toString().endsWith(body), JSON.stringify(data.toString()));
      assert.equal(closed, true);
    });
  }
});
