// Consistent-hash affinity on the upgrade path (issue 10 item 7): with a RING_HASH cluster keyed
// on a header (DestinationRule consistentHash.httpHeaderName), a WebSocket upgrade carrying a key
// lands on the same host as a plain request with that key, as in Envoy, where an upgrade is an
// ordinary routed request whose hash policy picks the host.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, dial, listen, readUntil, run } from "./harness.ts";

/** An upstream that names itself in plain answers and in its 101 (x-host). */
function upstream(name: string): Server {
  const s = createServer((_req, res) => res.end(name));
  s.on("upgrade", (_req: IncomingMessage, socket: Socket) => {
    socket.on("error", () => undefined);
    socket.on("end", () => socket.end());
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nx-host: ${name}\r\n\r\n`);
  });
  return s;
}

describe("WebSocket upgrades keep consistent-hash affinity", () => {
  const servers = [upstream("a"), upstream("b"), upstream("c")];
  let sidecar: Sidecar;
  let port = 0;

  before(async () => {
    const ports = await Promise.all(servers.map((s) => listen(s)));
    sidecar = await Sidecar.start({
      version: "ws-hash",
      node: { id: "sidecar~t", kind: "sidecar", workload: "t", namespace: "default", labels: {}, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
      listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound" }],
      routes: [{ name: "outbound", virtualHosts: [{ name: "ws", domains: ["*"], routes: [{ name: "r", match: { headers: [], queryParams: [], ignoreUriCase: false }, action: { kind: "forward", clusters: [{ cluster: "ws", weight: 100 }], timeoutMs: 0, retry: { attempts: 0, perTryTimeoutMs: 0, retryOn: [], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: false }, mirrors: [] }, origin: { resource: "t", ruleIndex: 0, matchIndex: -1 } }] }] }],
      clusters: [{ name: "ws", direction: "outbound", discovery: "eds", protocol: "http1", lb: { policy: "RING_HASH", hashKey: { header: "x-user" } }, connectionPool: {} }],
      endpoints: { ws: ports.map((p) => ({ address: "127.0.0.1", port: p, weight: 1, labels: {}, healthy: true })) },
    });
    port = sidecar.ports().outbound!;
  });

  after(async () => {
    await sidecar.close(100);
    for (const s of servers) await closeServer(s);
  });

  async function plainHost(user: string): Promise<string> {
    const r = await run("curl", ["--silent", "--show-error", "--max-time", "5", "-H", `x-user: ${user}`, `http://127.0.0.1:${port}/plain`], "", 8000);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  async function upgradeHost(user: string): Promise<string> {
    const s = await dial(port);
    try {
      s.write(`GET /ws HTTP/1.1\r\nHost: ws\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nx-user: ${user}\r\n\r\n`);
      const head = (await readUntil(s, (b) => b.includes("\r\n\r\n"))).toString("latin1");
      assert.match(head, /^HTTP\/1\.1 101 /);
      return /\r\nx-host: (\w+)\r\n/i.exec(head)?.[1] ?? "";
    } finally {
      s.destroy();
    }
  }

  it("each key's upgrades go to the host its plain requests go to", async () => {
    const hosts = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const user = `user-${i}`;
      const plain = await plainHost(user);
      hosts.add(plain);
      assert.equal(await plainHost(user), plain, "plain requests of one key stay on one host");
      assert.equal(await upgradeHost(user), plain, `${user}: the upgrade went elsewhere`);
      assert.equal(await upgradeHost(user), plain);
    }
    assert.ok(hosts.size > 1, "the keys spread over more than one host");
  });
});
