// Idle timeouts on both sides run on the proxy's Clock (one coarse sweep per listener and per
// endpoint pool instead of socket timers that Node re-arms on every read and write), so a
// FakeClock drives them here.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { forward, proxyConfig, route, send, sleep, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

/** A keep-alive client connection: `get()` sends one request and resolves with the response text. */
function client(port: number): Promise<{ socket: Socket; get(): Promise<string>; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      let waiter: ((s: string) => void) | null = null;
      let buf = "";
      socket.on("data", (d: Buffer) => {
        buf += d.toString("latin1");
        const end = buf.indexOf("\r\n\r\n");
        const len = /content-length: (\d+)/i.exec(buf);
        if (end >= 0 && len && buf.length >= end + 4 + Number(len[1]) && waiter) {
          const w = waiter;
          waiter = null;
          const text = buf;
          buf = "";
          w(text);
        }
      });
      const closed = new Promise<void>((r) => socket.on("close", () => r()));
      socket.on("error", () => {});
      const get = (): Promise<string> =>
        new Promise((r) => {
          waiter = r;
          socket.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
        });
      resolve({ socket, get, closed });
    });
  });
}

describe("idle timeouts (FakeClock)", () => {
  let up: Upstream;
  before(async () => {
    up = await startUpstream("a");
  });
  after(() => up.close());

  it("closes a downstream connection idle for downstreamIdleTimeoutMs, not before, and activity restarts the count", async () => {
    const clock = new FakeClock();
    const cfg = proxyConfig({ virtualHosts: [{ domains: ["svc"], routes: [route("r", {}, forward("c"))] }], clusters: [{ name: "c", endpoints: [{ port: up.port }] }] });
    const p: RunningProxy = await startProxy(cfg, { clock, limits: { downstreamIdleTimeoutMs: 1000 } });
    try {
      const c = await client(p.port);
      let closed = false;
      void c.closed.then(() => (closed = true));
      assert.match(await c.get(), /^HTTP\/1\.1 200/);
      clock.advance(800);
      await sleep(30);
      assert.equal(closed, false, "closed before the idle timeout");
      assert.match(await c.get(), /^HTTP\/1\.1 200/, "still usable");
      clock.advance(800); // 800 ms since the last activity
      await sleep(30);
      assert.equal(closed, false, "the second request restarted the idle count");
      clock.advance(1500);
      await Promise.race([c.closed, sleep(2000)]);
      assert.equal(closed, true, "idle connection not closed");
    } finally {
      await p.close();
    }
  });

  it("closes pooled upstream connections idle for the cluster's idleTimeoutMs", async () => {
    const clock = new FakeClock();
    const cfg = proxyConfig({
      virtualHosts: [{ domains: ["svc"], routes: [route("r", {}, forward("c"))] }],
      clusters: [{ name: "c", endpoints: [{ port: up.port }], connectionPool: { idleTimeoutMs: 1000 } }],
    });
    const p = await startProxy(cfg, { clock });
    try {
      const before = up.connections;
      assert.equal((await send(p.port)).status, 200);
      clock.advance(600);
      assert.equal((await send(p.port)).status, 200);
      assert.equal(up.connections - before, 1, "the idle connection was reused within the timeout");
      const cluster = p.sidecar.runtime.clusters.get("c");
      const host = cluster?.hostSet.hosts[0];
      assert.ok(cluster !== undefined && host !== undefined);
      assert.equal(cluster.poolFor(host)?.idleCount, 1);
      clock.advance(600); // 600 ms idle: kept
      assert.equal(cluster.poolFor(host)?.idleCount, 1);
      clock.advance(1000); // past the timeout (and its granule)
      assert.equal(cluster.poolFor(host)?.idleCount, 0, "idle connection still pooled");
      assert.equal((await send(p.port)).status, 200);
      assert.equal(up.connections - before, 2, "a new connection after the idle one was closed");
    } finally {
      await p.close();
    }
  });
});
