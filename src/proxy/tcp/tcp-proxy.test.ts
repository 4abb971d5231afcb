// TCP proxying on a fake clock and fake sockets: connect timeout, the idle timeout over both
// directions (Envoy's tcp_proxy default 1 h), relay and refusals — no network.
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { describe, it } from "node:test";
import type { Listener } from "../../model/proxy-config.ts";
import { FakeSocket, flush } from "../../testing/fake-socket.ts";
import { emptyConfig, testCluster, testEndpoint, testProxyContext } from "../../testing/proxy-context.ts";
import { proxyTcpConnection } from "./tcp-proxy.ts";
import { TcpListenerStats } from "./tcp-stats.ts";

const CLUSTER = "outbound|6379||redis.default.svc.cluster.local";

function setup(o: { idleTimeoutMs?: number; routeIdleMs?: number; maxConnections?: number } = {}) {
  const listener: Listener = {
    name: "0.0.0.0_6379",
    direction: "outbound",
    address: "127.0.0.1",
    port: 6379,
    protocol: "tcp",
    tcpRoute: { clusters: [{ cluster: CLUSTER, weight: 100 }], ...(o.routeIdleMs !== undefined ? { idleTimeoutMs: o.routeIdleMs } : {}) },
  };
  const pool = { ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : { idleTimeoutMs: 0 }), ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}) };
  const cfg = emptyConfig({ listeners: [listener], clusters: [testCluster(CLUSTER, pool, { protocol: "tcp" })], endpoints: { [CLUSTER]: [testEndpoint("10.1.0.9", 6379)] } });
  const t = testProxyContext(cfg);
  const stats = new TcpListenerStats();
  const down = new FakeSocket();
  let closed = 0;
  const refusal = proxyTcpConnection(down as unknown as Socket, listener, t.ctx, stats, { onClose: () => closed++ });
  const cs = t.ctx.runtime.clusters.get(CLUSTER)!.stats;
  return { ...t, stats, cs, down, refusal, closed: () => closed };
}

describe("tcp proxy on fake sockets", () => {
  it("dials the picked endpoint and relays bytes both ways", async () => {
    const s = setup();
    assert.equal(s.refusal, null);
    const up = s.dialer.socket();
    assert.equal(up.dialOptions?.host, "10.1.0.9");
    assert.equal(up.dialOptions?.port, 6379);
    up.establish();
    s.down.receive("PING\r\n");
    up.receive("+PONG\r\n");
    await flush();
    assert.equal(up.writtenText(), "PING\r\n");
    assert.equal(s.down.writtenText(), "+PONG\r\n");
    assert.equal(s.cs.upstream_cx_tx_bytes_total, 6);
    assert.equal(s.stats.downstream_cx_tx_bytes_total, 7);
  });

  it("connect timeout (Istio's default 10 s): the downstream is closed, a connect failure counted", async () => {
    const s = setup();
    assert.equal(s.clock.pendingHolding(), 0, "the connect timer is unref'd");
    s.clock.advance(9_999);
    assert.equal(s.down.destroyed, false);
    s.clock.advance(1);
    await flush();
    assert.equal(s.down.destroyed, true);
    assert.equal(s.cs.upstream_cx_connect_fail, 1);
    assert.equal(s.cs.upstream_cx_active, 0);
    assert.equal(s.closed(), 1);
    assert.equal(s.clock.pending(), 0);
  });

  it("idle timeout defaults to Envoy's tcp_proxy 1 h when neither route nor pool sets one", async () => {
    const s = setup();
    s.dialer.socket().establish();
    s.clock.advance(3_599_999);
    assert.equal(s.down.destroyed, false);
    s.clock.advance(1);
    await flush();
    assert.equal(s.down.destroyed, true);
    assert.equal(s.stats.downstream_cx_idle_timeout, 1);
  });

  it("bytes in either direction restart the idle count; one timer per connection", async () => {
    const s = setup({ idleTimeoutMs: 60_000 });
    const up = s.dialer.socket();
    up.establish();
    await flush(); // the pipes start flowing
    s.clock.advance(40_000);
    s.down.receive("a"); // client → upstream at 40 s
    s.clock.advance(40_000); // 80 s: the timer fires, finds 40 s of quiet, re-arms for 20 s
    assert.equal(s.down.destroyed, false);
    assert.deepEqual(s.clock.pendingDelays(), [20_000]);
    assert.equal(s.clock.pendingHolding(), 0, "unref'd like the socket timer it replaces: an idle paused socket must not hold the process");
    up.receive("b"); // upstream → client at 80 s
    s.clock.advance(20_000);
    assert.equal(s.down.destroyed, false);
    s.clock.advance(39_999);
    assert.equal(s.down.destroyed, false);
    s.clock.advance(1);
    await flush();
    assert.equal(s.down.destroyed, true);
    assert.equal(s.stats.downstream_cx_idle_timeout, 1);
    assert.equal(s.clock.pending(), 0);
  });

  it("the route's idle timeout wins over the pool's", async () => {
    const s = setup({ idleTimeoutMs: 60_000, routeIdleMs: 5_000 });
    s.dialer.socket().establish();
    s.clock.advance(5_000);
    await flush();
    assert.equal(s.stats.downstream_cx_idle_timeout, 1);
  });

  it("both sides closing ends the session and its timer", async () => {
    const s = setup({ idleTimeoutMs: 60_000 });
    const up = s.dialer.socket();
    up.establish();
    s.down.destroy();
    up.destroy();
    await flush();
    assert.equal(s.closed(), 1);
    assert.equal(s.clock.pending(), 0);
    assert.equal(s.cs.upstream_cx_active, 0);
  });

  it("FIN both ways: each is forwarded, both sockets close and the session ends", async () => {
    const s = setup({ idleTimeoutMs: 60_000 });
    const up = s.dialer.socket();
    up.establish();
    await flush(); // the pipes start flowing
    s.down.receiveEnd(); // the client half-closes
    await flush();
    assert.equal(up.writableEnded, true, "the client's FIN is forwarded upstream");
    assert.equal(s.closed(), 0, "half-closed: the reply can still come");
    up.receive("bye");
    up.receiveEnd();
    await flush();
    assert.equal(s.down.writtenText(), "bye");
    assert.equal(s.down.writableEnded, true, "the upstream's FIN is forwarded to the client");
    assert.equal(s.down.destroyed, true);
    assert.equal(up.destroyed, true);
    assert.equal(s.closed(), 1);
    assert.equal(s.cs.upstream_cx_active, 0);
    assert.equal(s.stats.downstream_cx_active, 0);
    assert.equal(s.clock.pending(), 0);
  });

  it("the client closes first: the upstream is closed too, though nothing reads its late answer and FIN", async () => {
    const s = setup({ idleTimeoutMs: 60_000 });
    const up = s.dialer.socket();
    up.establish();
    await flush();
    s.down.receive("req");
    s.down.receiveEnd();
    s.down.destroy(); // closed after its FIN (an auto listener keeps no half-open downstream)
    await flush();
    // The pipe out of the upstream went with the client's socket: the upstream is paused, so the
    // answer and FIN that arrive now are never read. It must not stay open, counted, until the
    // idle timeout.
    up.receive("late answer");
    up.receiveEnd();
    await flush();
    assert.equal(up.writtenText(), "req");
    assert.equal(up.writableEnded, true, "what the client sent is flushed, then the FIN");
    assert.equal(up.destroyed, true);
    assert.equal(s.closed(), 1);
    assert.equal(s.cs.upstream_cx_active, 0);
    assert.equal(s.stats.downstream_cx_active, 0);
    assert.equal(s.clock.pending(), 0, "the idle timer is cancelled");
  });

  it("the upstream connection is gone while the client's side is open: FIN to the client, then it is closed too", async () => {
    const s = setup({ idleTimeoutMs: 60_000 });
    const up = s.dialer.socket();
    up.establish();
    await flush();
    up.receive("bye");
    up.destroy(); // e.g. a TLS upstream that closes after its close_notify
    await flush();
    // The pipe out of the client went with the upstream socket: the client's socket is paused and
    // would never read the client's FIN.
    assert.equal(s.down.writtenText(), "bye");
    assert.equal(s.down.writableEnded, true, "what the upstream sent is flushed, then the FIN");
    assert.equal(s.down.destroyed, true);
    assert.equal(s.closed(), 1);
    assert.equal(s.cs.upstream_cx_active, 0);
    assert.equal(s.clock.pending(), 0);
  });

  it("maxConnections reached: refused without dialing (UO)", () => {
    const s = setup({ maxConnections: 0 });
    assert.equal(s.refusal, "overflow");
    assert.equal(s.dialer.sockets.length, 0);
    assert.equal(s.stats.downstream_cx_overflow, 1);
  });
});
