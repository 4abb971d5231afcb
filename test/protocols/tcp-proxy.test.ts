// Plain TCP proxying through the sidecar: netcat-openbsd as the client, TCP echo servers as the
// upstreams. Weighted clusters, half-close, maxConnections refusal, idle timeout (on a FakeClock),
// byte counters.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { waitFor, within } from "../support/wait.ts";
import { closeServer, config, dial, listen, readAll, readUntil, run } from "./harness.ts";

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
    const stats = sidecar.runtime.clusters.get("limited")!.stats;
    const held = await dial(port);
    held.write("held");
    // The first connection holds the cluster's one connection before the second arrives.
    await waitFor(() => stats.upstream_cx_active === 1, { what: "the first connection to take the cluster's one connection" });
    const r = await run("nc", ["-N", "127.0.0.1", String(port)], "second");
    assert.equal(r.stdout, "");
    assert.equal(stats.upstream_cx_overflow, 1);
    const done = readAll(held);
    held.end();
    assert.equal((await done).data.toString(), "A:held");
  });

  it("closes an idle connection after the idle timeout, not before, and traffic restarts the count (FakeClock)", async () => {
    // The idle timer runs on the proxy's Clock: it fires inside advance(), and closing is
    // synchronous there, so the cluster's active count says at once whether it fired.
    const echo = createServer((s: Socket) => {
      s.on("error", () => undefined);
      s.pipe(s);
    });
    const echoPort = await listen(echo);
    const clock = new FakeClock();
    const s2 = await Sidecar.start(
      config(
        [{ name: "t", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "echo", weight: 100 }], idleTimeoutMs: 150 } }],
        [{ name: "echo", endpoints: [{ port: echoPort }] }],
      ),
      { clock },
    );
    try {
      const stats = s2.runtime.clusters.get("echo")!.stats;
      const s = await dial(s2.ports().t!);
      const closed = readAll(s, 10_000);
      const echoed = (text: string): Promise<Buffer> => {
        const got = readUntil(s, (all) => all.toString().endsWith(text));
        s.write(text);
        return got;
      };
      await echoed("ping"); // relayed both ways: the upstream is connected, the idle count runs from now
      clock.advance(149);
      assert.equal(stats.upstream_cx_active, 1, "closed before the idle timeout");
      await echoed("again"); // traffic at 149 ms
      clock.advance(149); // 298 ms since the start, 149 ms since the last byte
      assert.equal(stats.upstream_cx_active, 1, "traffic did not restart the idle count");
      clock.advance(1);
      assert.equal(stats.upstream_cx_active, 0, "not closed at the idle timeout");
      assert.equal((await within(closed, { what: "the client to see the idle connection closed" })).closed, true);
    } finally {
      await s2.close(100);
      await closeServer(echo);
    }
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
