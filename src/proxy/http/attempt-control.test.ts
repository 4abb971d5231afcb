// The attempt state machine (route timeout, per-try timeout, retry decision, backoff, previous
// hosts, the request's end) on a fake clock and fake sockets. It is driven through its public
// behaviour — an HTTP/1.1 request into a listener, upstream sockets the test answers, the response
// and the request record out — so these tests hold whatever class carries the logic. Expected
// values are Envoy's/Istio's: 504 "upstream request timeout" with UT, 503 UF "…connection failure",
// retry backoff 25 ms base (first retry waits 0-24 ms), Istio's default policy (2 retries on
// connect-failure, refused-stream, unavailable, cancelled, 503).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_RETRY_POLICY, type ForwardAction, type RetryPolicy } from "../../model/proxy-config.ts";
import { forwardingProxy, statusOf, type FakeHttpProxy } from "../../testing/fake-proxy.ts";
import { flush, type FakeSocket } from "../../testing/fake-socket.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";
const GET = "GET /reviews/0 HTTP/1.1\r\nhost: reviews:9080\r\n\r\n";
const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
const UNAVAILABLE = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";

function proxy(action: Partial<ForwardAction>, retry: Partial<RetryPolicy> = {}): FakeHttpProxy {
  return forwardingProxy(CLUSTER, { ...action, retry: { ...DEFAULT_RETRY_POLICY, ...retry } }, ["10.1.0.1", "10.1.0.2", "10.1.0.3"]);
}

async function request(p: FakeHttpProxy, text = GET): Promise<FakeSocket> {
  const c = p.connect();
  c.receive(text);
  await flush();
  return c;
}

/** Fire the pending backoff timer (the first retry waits 0-24 ms). */
function afterBackoff(p: FakeHttpProxy): void {
  const d = p.clock.pendingDelays();
  assert.ok(d.length > 0 && d[0]! < 25, `a backoff timer under 25 ms is armed (${d.join(", ")})`);
  p.clock.advance(d[0]!);
}

function stats(p: FakeHttpProxy) {
  return p.listener.ctx.proxy.runtime.clusters.get(CLUSTER)!.stats;
}

describe("attempts: route timeout", () => {
  it("504 UT at the route timeout, upstream reset, no retry of a route timeout", async () => {
    const p = proxy({ timeoutMs: 3_000 });
    const c = await request(p);
    const up = p.dialer.socket();
    up.establish();
    p.clock.advance(2_999);
    assert.equal(statusOf(c.writtenText()), 0);
    p.clock.advance(1);
    assert.equal(statusOf(c.writtenText()), 504);
    assert.match(c.writtenText(), /upstream request timeout$/);
    assert.equal(up.destroyed, true);
    assert.equal(p.requests[0]?.flags, "UT");
    assert.equal(stats(p).upstream_rq_timeout, 1);
    assert.equal(p.dialer.sockets.length, 1);
  });

  it("a response in time cancels the route timer", async () => {
    const p = proxy({ timeoutMs: 3_000 });
    const c = await request(p);
    p.dialer.socket().establish();
    p.dialer.socket().receive(OK);
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 200);
    p.clock.advance(10_000);
    assert.equal(statusOf(c.writtenText(), 1), 0, "no second (timeout) response");
    assert.equal(stats(p).upstream_rq_timeout, 0);
  });

  it("the route timeout covers retries: it fires during the backoff and ends the request", async () => {
    const p = proxy({ timeoutMs: 1_000 });
    const c = await request(p);
    p.clock.advance(990);
    p.dialer.socket().fail("ECONNREFUSED");
    await flush();
    assert.equal(p.dialer.sockets.length, 1, "the retry waits for its backoff");
    p.clock.advance(10);
    assert.equal(statusOf(c.writtenText()), 504);
    p.clock.advance(1_000);
    assert.equal(p.dialer.sockets.length, 1, "no attempt after the request ended");
  });
});

describe("attempts: per-try timeout and retries", () => {
  it("per-try timeout with retryOn 5xx: the next attempt goes to another host and its answer wins", async () => {
    const p = proxy({}, { attempts: 2, perTryTimeoutMs: 500, retryOn: ["5xx"], retriableStatusCodes: [] });
    const c = await request(p);
    const first = p.dialer.socket();
    first.establish();
    p.clock.advance(500);
    assert.equal(first.destroyed, true);
    assert.equal(stats(p).upstream_rq_per_try_timeout, 1);
    afterBackoff(p);
    const second = p.dialer.socket();
    assert.notEqual(second, first);
    assert.notEqual(second.dialOptions?.host, first.dialOptions?.host, "previous host avoided");
    second.establish();
    second.receive(OK);
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 200);
    assert.equal(p.requests[0]?.attempts, 2);
    assert.equal(stats(p).upstream_rq_retry, 1);
  });

  it("per-try timeout not in retryOn (Istio's default policy): 504 UT after the first try", async () => {
    const p = proxy({}, { perTryTimeoutMs: 500 });
    const c = await request(p);
    p.dialer.socket().establish();
    p.clock.advance(500);
    assert.equal(statusOf(c.writtenText()), 504);
    assert.equal(p.requests[0]?.flags, "UT");
    assert.equal(p.dialer.sockets.length, 1);
  });

  it("Istio's default policy retries a 503: the second answer goes back", async () => {
    const p = proxy({});
    const c = await request(p);
    p.dialer.socket(0).establish();
    p.dialer.socket(0).receive(UNAVAILABLE);
    await flush();
    assert.equal(statusOf(c.writtenText()), 0, "the 503 is not sent downstream");
    afterBackoff(p);
    p.dialer.socket(1).establish();
    p.dialer.socket(1).receive(OK);
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 200);
    assert.equal(p.requests[0]?.attempts, 2);
  });

  it("attempts 2: three tries, then the last upstream 503 goes back (retry limit reached)", async () => {
    const p = proxy({});
    const c = await request(p);
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        const d = p.clock.pendingDelays();
        assert.ok(d.length > 0 && d[0]! < 25 * 2 ** (i - 1), `retry ${i} backs off under ${25 * 2 ** (i - 1)} ms (${d.join(", ")})`);
        p.clock.advance(d[0]!);
      }
      p.dialer.socket(i).establish();
      p.dialer.socket(i).receive(UNAVAILABLE);
    }
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 503);
    assert.equal(p.dialer.sockets.length, 3);
    assert.equal(new Set(p.dialer.sockets.map((s) => s.dialOptions?.host)).size, 3, "each try on another host");
    assert.equal(p.requests[0]?.attempts, 3);
    assert.equal(stats(p).upstream_rq_retry, 2);
  });

  it("connect failures on every try: 503 UF 'connection failure' after 2 retries", async () => {
    const p = proxy({});
    const c = await request(p);
    for (let i = 0; i < 3; i++) {
      if (i > 0) p.clock.advance(p.clock.pendingDelays()[0]!);
      p.dialer.socket(i).fail("ECONNREFUSED");
      await flush();
    }
    assert.equal(statusOf(c.writtenText()), 503);
    assert.match(c.writtenText(), /upstream connect error or disconnect\/reset before headers\. reset reason: connection failure$/);
    assert.match(p.requests[0]?.flags ?? "", /UF/);
    assert.equal(stats(p).upstream_cx_connect_fail, 3);
  });

  it("a connect timeout (Istio's 10 s) is a connect failure and retried", async () => {
    const p = proxy({});
    const c = await request(p);
    p.clock.advance(10_000);
    await flush();
    afterBackoff(p);
    p.dialer.socket(1).establish();
    p.dialer.socket(1).receive(OK);
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 200);
    assert.equal(stats(p).upstream_cx_connect_fail, 1);
  });

  it("no retry once the response has started: a reset mid-body ends the downstream connection", async () => {
    const p = proxy({});
    const c = await request(p);
    const up = p.dialer.socket();
    up.establish();
    up.receive("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
    up.fail();
    await flush();
    assert.equal(p.dialer.sockets.length, 1);
    assert.equal(c.destroyed, true, "the client sees the connection cut, not a second response");
  });
});

describe("attempts: downstream gone", () => {
  it("the client leaving resets the upstream attempt and cancels the timers (DC)", async () => {
    const p = proxy({ timeoutMs: 3_000 });
    const c = await request(p);
    const up = p.dialer.socket();
    up.establish();
    c.destroy();
    await flush();
    assert.equal(up.destroyed, true);
    assert.match(p.requests[0]?.flags ?? "", /DC/);
    p.clock.advance(3_000);
    assert.equal(stats(p).upstream_rq_timeout, 0);
  });
});
