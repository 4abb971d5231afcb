// EndpointPool on a fake clock and fake sockets: reuse, the idle timeout, the cluster's connection
// and pending limits (queue, overflow), connect failures and drain — no network.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CONNECTION_POOL, type ConnectionPoolConfig } from "../../model/proxy-config.ts";
import { FakeClock } from "../../testing/fake-clock.ts";
import { FakeDialer, flush } from "../../testing/fake-socket.ts";
import { makeHost } from "./balance/host-set.ts";
import { ClusterStats } from "./cluster-stats.ts";
import { EndpointPool } from "./endpoint-pool.ts";
import type { UpstreamConnection, UpstreamErrorKind, UpstreamSink } from "./upstream-connection.ts";

class Sink implements UpstreamSink {
  readonly events: string[] = [];
  conn: UpstreamConnection | null = null;
  onUpstreamReady(conn: UpstreamConnection): void {
    this.conn = conn;
    this.events.push("ready");
  }
  onUpstreamHead(): void {}
  onUpstreamData(): void {}
  onUpstreamEnd(): void {
    this.events.push("end");
  }
  onUpstreamError(kind: UpstreamErrorKind): void {
    this.events.push(`error ${kind}`);
  }
  onUpstreamDrain(): void {}
  onUpstreamReadDone(): void {}
}

function pool(cfg: Partial<ConnectionPoolConfig> = {}): { pool: EndpointPool; clock: FakeClock; dialer: FakeDialer; stats: ClusterStats } {
  const clock = new FakeClock();
  const dialer = new FakeDialer();
  const stats = new ClusterStats();
  const host = makeHost({ address: "10.1.0.5", port: 9080, weight: 1, labels: {}, healthy: true });
  const p = new EndpointPool(host, { poolConfig: { ...DEFAULT_CONNECTION_POOL, ...cfg }, stats, clock, dial: dialer.dial });
  return { pool: p, clock, dialer, stats };
}

/** Run one GET to completion on `conn` (already bound to a sink). */
function exchange(conn: UpstreamConnection, dialer: FakeDialer, socketIndex: number): void {
  conn.beginRequest("GET");
  conn.write(Buffer.from("GET / HTTP/1.1\r\nhost: reviews\r\n\r\n"));
  conn.endRequest();
  dialer.socket(socketIndex).receive("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
}

/** Acquire a new connection, connect it and finish one exchange: it is idle in the pool after. */
function warm(p: ReturnType<typeof pool>): UpstreamConnection {
  const sink = new Sink();
  const c = p.pool.acquire(sink);
  assert.ok(typeof c === "object");
  const i = p.dialer.sockets.length - 1;
  p.dialer.socket(i).establish();
  exchange(c, p.dialer, i);
  return c;
}

/** Acquire two connections for `sinks` and connect both (sockets 0 and 1): active, not yet idle. */
function connectTwo(p: ReturnType<typeof pool>, sinks: [Sink, Sink] = [new Sink(), new Sink()]): [UpstreamConnection, UpstreamConnection] {
  const a = p.pool.acquire(sinks[0]) as UpstreamConnection;
  const b = p.pool.acquire(sinks[1]) as UpstreamConnection;
  p.dialer.socket(0).establish();
  p.dialer.socket(1).establish();
  return [a, b];
}

describe("EndpointPool: reuse", () => {
  it("a new connection is pending until connected, then counted active", () => {
    const p = pool();
    const sink = new Sink();
    const c = p.pool.acquire(sink);
    assert.ok(typeof c === "object");
    assert.equal(p.stats.upstream_cx_total, 1);
    assert.equal(p.stats.upstream_cx_active, 1);
    assert.equal(p.stats.upstream_rq_pending_active, 1);
    p.dialer.socket().establish();
    assert.equal(p.stats.upstream_rq_pending_active, 0);
    assert.deepEqual(sink.events, ["ready"]);
  });

  it("idle connections are reused last-in-first-out, without dialing", () => {
    const p = pool();
    const [a, b] = connectTwo(p);
    exchange(a, p.dialer, 0);
    exchange(b, p.dialer, 1);
    assert.equal(p.pool.idleCount, 2);
    assert.equal(p.pool.acquire(new Sink()), b, "the most recently used first");
    assert.equal(p.pool.acquire(new Sink()), a);
    assert.equal(p.dialer.sockets.length, 2);
    assert.equal(p.stats.upstream_cx_total, 2);
  });

  it("a closed idle connection is skipped", async () => {
    const p = pool();
    warm(p);
    p.dialer.socket(0).fail();
    await flush();
    assert.equal(p.pool.idleCount, 0);
    const c = p.pool.acquire(new Sink());
    assert.ok(typeof c === "object");
    assert.equal(p.dialer.sockets.length, 2, "a fresh connection is dialed");
  });
});

describe("EndpointPool: idle timeout", () => {
  it("an idle connection closes at idleTimeout, not before; the timer stops with the last socket", async () => {
    const p = pool({ idleTimeoutMs: 60_000 });
    warm(p);
    p.clock.advance(59_999);
    assert.equal(p.dialer.socket(0).destroyed, false);
    p.clock.advance(1);
    assert.equal(p.dialer.socket(0).destroyed, true);
    await flush();
    assert.equal(p.stats.upstream_cx_active, 0);
    assert.equal(p.clock.pending(), 0, "no timer outlives the pool's last socket");
  });

  it("one timer per pool: each connection closes after its own idle time", () => {
    const p = pool({ idleTimeoutMs: 60_000 });
    const [a, b] = connectTwo(p);
    exchange(a, p.dialer, 0);
    p.clock.advance(30_000);
    exchange(b, p.dialer, 1);
    assert.equal(p.clock.pending(), 1);
    p.clock.advance(30_000); // a: 60 s idle, b: 30 s
    assert.equal(p.dialer.socket(0).destroyed, true);
    assert.equal(p.dialer.socket(1).destroyed, false);
    p.clock.advance(29_999);
    assert.equal(p.dialer.socket(1).destroyed, false);
    p.clock.advance(1);
    assert.equal(p.dialer.socket(1).destroyed, true);
  });

  it("reuse restarts a connection's idle time", () => {
    const p = pool({ idleTimeoutMs: 60_000 });
    const c = warm(p);
    p.clock.advance(50_000);
    assert.equal(p.pool.acquire(new Sink()), c);
    exchange(c, p.dialer, 0);
    p.clock.advance(50_000); // 100 s since the first release, 50 s since the second
    assert.equal(p.dialer.socket(0).destroyed, false);
    p.clock.advance(60_000);
    assert.equal(p.dialer.socket(0).destroyed, true);
  });

  it("idleTimeout 0: idle connections stay", () => {
    const p = pool({ idleTimeoutMs: 0 });
    warm(p);
    assert.equal(p.clock.pending(), 0);
  });
});

describe("EndpointPool: limits", () => {
  it("maxConnections reached: the request waits (upstream_cx_overflow) and gets the next released connection", async () => {
    const p = pool({ maxConnections: 1 });
    const first = new Sink();
    const c = p.pool.acquire(first) as UpstreamConnection;
    p.dialer.socket(0).establish();
    const second = new Sink();
    assert.equal(p.pool.acquire(second), "queued");
    assert.equal(p.stats.upstream_cx_overflow, 1);
    assert.equal(p.stats.upstream_rq_pending_active, 1);
    exchange(c, p.dialer, 0);
    assert.deepEqual(second.events, [], "handed over on the next tick, not inside the previous exchange");
    await flush();
    assert.deepEqual(second.events, ["ready"]);
    assert.equal(second.conn, c);
    assert.equal(p.stats.upstream_rq_pending_active, 0);
    assert.equal(p.dialer.sockets.length, 1);
  });

  it("maxPendingRequests reached: overflow at once (UO, upstream_rq_pending_overflow)", () => {
    const p = pool({ maxConnections: 1, maxPendingRequests: 1 });
    p.pool.acquire(new Sink());
    p.dialer.socket(0).establish();
    assert.equal(p.pool.acquire(new Sink()), "queued");
    assert.equal(p.pool.acquire(new Sink()), "overflow");
    assert.equal(p.stats.upstream_rq_pending_overflow, 1);
  });

  it("a host with no connection gets one even when the cluster's limit is held by other hosts", () => {
    const p = pool({ maxConnections: 1 });
    p.stats.upstream_cx_active = 1; // another host of the cluster holds the only slot
    const c = p.pool.acquire(new Sink());
    assert.ok(typeof c === "object");
    assert.equal(p.stats.upstream_cx_overflow, 1);
  });

  it("a waiter that gives up leaves the queue", () => {
    const p = pool({ maxConnections: 1 });
    p.pool.acquire(new Sink());
    const w = new Sink();
    assert.equal(p.pool.acquire(w), "queued");
    p.pool.cancelWait(w);
    assert.equal(p.stats.upstream_rq_pending_active, 1, "only the connecting request is pending");
  });

  it("a connect failure counts upstream_cx_connect_fail and opens a connection for the next waiter", async () => {
    const p = pool({ maxConnections: 1 });
    const first = new Sink();
    p.pool.acquire(first);
    const w = new Sink();
    assert.equal(p.pool.acquire(w), "queued");
    p.dialer.socket(0).fail("ECONNREFUSED");
    await flush();
    assert.deepEqual(first.events, ["error connect-failure"]);
    assert.equal(p.stats.upstream_cx_connect_fail, 1);
    assert.equal(p.dialer.sockets.length, 2, "the waiter's connection is dialed");
    p.dialer.socket(1).establish();
    assert.deepEqual(w.events, ["ready"]);
    assert.equal(p.stats.upstream_rq_pending_active, 0);
    assert.equal(p.stats.upstream_cx_active, 1);
  });

  it("a connect timeout (10 s) frees its slot like a refusal", async () => {
    const p = pool({ maxConnections: 1 });
    const first = new Sink();
    p.pool.acquire(first);
    p.clock.advance(10_000);
    await flush();
    assert.deepEqual(first.events, ["error connect-failure"]);
    assert.equal(p.stats.upstream_cx_connect_fail, 1);
    assert.equal(p.stats.upstream_cx_active, 0);
    assert.equal(p.stats.upstream_rq_pending_active, 0);
  });
});

describe("EndpointPool: drain", () => {
  it("idle connections close at once, busy ones when their exchange ends", () => {
    const p = pool();
    const busySink = new Sink();
    const [idle, busy] = connectTwo(p, [new Sink(), busySink]);
    exchange(idle, p.dialer, 0);
    p.pool.drain();
    assert.equal(p.dialer.socket(0).destroyed, true);
    assert.equal(p.dialer.socket(1).destroyed, false);
    exchange(busy, p.dialer, 1);
    assert.deepEqual(busySink.events, ["ready", "end"], "the response in flight completes");
    assert.equal(p.dialer.socket(1).destroyed, true);
    assert.equal(p.clock.pending(), 0);
  });
});
