// Plain TCP proxying through the sidecar: netcat-openbsd as the client, TCP echo servers as the
// upstreams. Weighted clusters, half-close, maxConnections refusal, idle timeout, byte counters.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, config, dial, listen, readAll, run } from "./harness.ts";

/** Echo server: answers `<tag>:<bytes>` once the client half-closes, then closes. */
function echoServer(tag: string): Server {
  return createServer({ allowHalfOpen: true }, (s: Socket) => {
    const chunks: Buffer[] = [];
    s.on("data", (b: Buffer) => chunks.push(b));
    s.on("end", () => s.end(`${tag}:${Buffer.concat(chunks).toString()}`));
    s.on("error", () => undefined);
  });
}

describe("TCP proxy (nc client, echo upstreams)", () => {
  const a = echoServer("A");
  const b = echoServer("B");
  let portA = 0;
  let portB = 0;
  let sidecar: Sidecar;

  before(async () => {
    portA = await listen(a);
    portB = await listen(b);
    sidecar = await Sidecar.start(config(
      [
        { name: "tcp-a", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "a", weight: 100 }] } },
        { name: "tcp-split", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "a", weight: 50 }, { cluster: "b", weight: 50 }] } },
        { name: "tcp-limited", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "limited", weight: 100 }] } },
        { name: "tcp-idle", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "b", weight: 100 }], idleTimeoutMs: 150 } },
      ],
      [
        { name: "a", endpoints: [{ port: portA }] },
        { name: "b", endpoints: [{ port: portB }] },
        { name: "limited", endpoints: [{ port: portA }], connectionPool: { maxConnections: 1 } },
      ],
    ));
  });

  after(async () => {
    await sidecar.close(100);
    await closeServer(a);
    await closeServer(b);
  });

  it("relays bytes both ways and keeps the reply after the client's half-close (nc -N)", async () => {
    const r = await run("nc", ["-N", "127.0.0.1", String(sidecar.ports()["tcp-a"])], "hello mesh");
    assert.equal(r.stdout, "A:hello mesh");
    const stats = sidecar.runtime.clusters.get("a")!.stats;
    assert.equal(stats.upstream_cx_tx_bytes_total, "hello mesh".length);
    assert.equal(stats.upstream_cx_rx_bytes_total, "A:hello mesh".length);
  });

  it("splits connections between weighted clusters", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 24 && seen.size < 2; i++) {
      const r = await run("nc", ["-N", "127.0.0.1", String(sidecar.ports()["tcp-split"])], "x");
      seen.add(r.stdout);
    }
    assert.deepEqual([...seen].sort(), ["A:x", "B:x"]);
  });

  it("refuses a connection beyond maxConnections (closed without reply, upstream_cx_overflow)", async () => {
    const port = sidecar.ports()["tcp-limited"]!;
    const held = await dial(port);
    held.write("held");
    // Let the first connection reach the upstream before the second arrives.
    await new Promise((r) => setTimeout(r, 50));
    const r = await run("nc", ["-N", "127.0.0.1", String(port)], "second");
    assert.equal(r.stdout, "");
    const stats = sidecar.runtime.clusters.get("limited")!.stats;
    assert.equal(stats.upstream_cx_overflow, 1);
    const done = readAll(held);
    held.end();
    assert.equal((await done).data.toString(), "A:held");
  });

  it("closes an idle connection after the idle timeout", async () => {
    const s = await dial(sidecar.ports()["tcp-idle"]!);
    const started = Date.now();
    const { closed } = await readAll(s, 3000);
    assert.equal(closed, true);
    assert.ok(Date.now() - started >= 100, "not before the timeout");
  });

  it("closes the client when the upstream refuses (connect failure counted)", async () => {
    const dead = createServer();
    const port = await listen(dead);
    await closeServer(dead);
    const s2 = await Sidecar.start(config(
      [{ name: "t", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "dead", weight: 100 }] } }],
      [{ name: "dead", endpoints: [{ port }] }],
    ));
    try {
      const r = await run("nc", ["-N", "127.0.0.1", String(s2.ports().t)], "x");
      assert.equal(r.stdout, "");
      assert.equal(s2.runtime.clusters.get("dead")!.stats.upstream_cx_connect_fail, 1);
    } finally {
      await s2.close(100);
    }
  });
});
