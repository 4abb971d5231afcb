// Idle timeouts on both sides run on the proxy's Clock (one coarse sweep per listener and per
// endpoint pool instead of socket timers that Node re-arms on every read and write), so a
// FakeClock drives them here.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../../src/testing/fake-clock.ts";
import { within } from "../support/wait.ts";
import { forward, proxyConfig, route, send, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

/**
 * A keep-alive client connection: `get()` sends one request and resolves with the response text,
 * or rejects if the connection closes first (so "still open" is proved by a response, not by a
 * close that has not arrived yet).
 */
function client(port: number): Promise<{ socket: Socket; get(): Promise<string>; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      let waiter: { resolve: (s: string) => void; reject: (e: Error) => void } | null = null;
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
          w.resolve(text);
        }
      });
      const closed = new Promise<void>((r) =>
        socket.on("close", () => {
          waiter?.reject(new Error("the proxy closed the connection before answering"));
          waiter = null;
          r();
        }),
      );
      socket.on("error", () => {});
      const get = (): Promise<string> =>
        new Promise((resolve, reject) => {
          if (socket.destroyed) {
            reject(new Error("the proxy had closed the connection"));
            return;
          }
          waiter = { resolve, reject };
          socket.write("GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
        });
      resolve({ socket, get, closed });
    });
  });
}

const failWith =
  (why: string) =>
  (e: Error): never =>
    assert.fail(`${why} (${e.message})`);

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
      assert.match(await c.get(), /^HTTP\/1\.1 200/);
      // The idle sweep runs inside advance(): a close it decides has been started by the time
      // advance returns, so a request on the same connection afterwards is answered only if the
      // proxy kept it open.
      clock.advance(800);
      assert.match(await c.get().catch(failWith("closed before the idle timeout")), /^HTTP\/1\.1 200/);
      clock.advance(800); // 1600 ms since the first request, 800 ms since the last activity
      assert.match(await c.get().catch(failWith("the second request did not restart the idle count")), /^HTTP\/1\.1 200/);
      clock.advance(1500);
      await within(c.closed, { what: "the proxy to close the connection idle for 1500 ms (timeout 1000 ms)" });
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
