// HTTP/2 downstream requests (a real node:http2 client over fake sockets) forwarded to HTTP/1.1
// upstreams on fake sockets, on a fake clock: the same attempt state machine as HTTP/1.1 (route
// timeout, retries, per-try timeout), the HTTP/2 pipeline's fault layer, and a client's stream
// reset. Driven through public behaviour only (frames in, frames out), so the tests hold whatever
// classes carry the logic.
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import type { Duplex } from "node:stream";
import { afterEach, describe, it } from "node:test";
import { DEFAULT_RETRY_POLICY, type FaultPolicy, type ForwardAction, type RetryPolicy } from "../../model/proxy-config.ts";
import { forwardingProxy, type FakeHttpProxy } from "../../testing/fake-proxy.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";
const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
const UNAVAILABLE = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n";

function proxy(action: Partial<ForwardAction>, retry: Partial<RetryPolicy> = {}): FakeHttpProxy {
  return forwardingProxy(CLUSTER, { ...action, retry: { ...DEFAULT_RETRY_POLICY, ...retry } }, ["10.1.0.1", "10.1.0.2", "10.1.0.3"]);
}

interface Reply {
  status: number;
  body: string;
}

let clients: ClientHttp2Session[] = [];
afterEach(() => {
  for (const c of clients) c.destroy();
  clients = [];
});

/** An HTTP/2 GET through the proxy; resolves with the response, or the stream's reset code. */
function h2get(p: FakeHttpProxy): { reply: Promise<Reply>; cancel(): void } {
  const sock = p.connectPair();
  const client = connect("http://reviews:9080", { createConnection: () => sock as unknown as Duplex });
  clients.push(client);
  client.on("error", () => {});
  const st = client.request({ ":path": "/reviews/0", ":authority": "reviews:9080" }, { endStream: true });
  st.on("error", () => {});
  const reply = new Promise<Reply>((resolve) => {
    let status = 0;
    let body = "";
    st.on("response", (h: IncomingHttpHeaders) => (status = Number(h[":status"])));
    st.setEncoding("utf8");
    st.on("data", (d: string) => (body += d));
    st.on("close", () => resolve({ status, body }));
  });
  return { reply, cancel: () => st.close() };
}

describe("HTTP/2 downstream: attempts on fake time and sockets", () => {
  it("route timeout: 504 'upstream request timeout', UT, upstream reset", async () => {
    const p = proxy({ timeoutMs: 3_000 });
    const r = h2get(p);
    const up = await p.dialer.dialed(0);
    up.establish();
    p.clock.advance(2_999);
    assert.equal(up.destroyed, false);
    p.clock.advance(1);
    assert.deepEqual(await r.reply, { status: 504, body: "upstream request timeout" });
    assert.equal(up.destroyed, true);
    assert.equal(p.requests[0]?.flags, "UT");
  });

  it("Istio's default policy retries a 503 on another host; the 200 goes back", async () => {
    const p = proxy({});
    const r = h2get(p);
    const first = await p.dialer.dialed(0);
    first.establish();
    first.receive(UNAVAILABLE);
    const d = p.clock.pendingDelays();
    assert.ok(d.length === 1 && d[0]! < 25, `one backoff timer under 25 ms (${d.join(", ")})`);
    p.clock.advance(d[0]!);
    const second = await p.dialer.dialed(1);
    assert.notEqual(second.dialOptions?.host, first.dialOptions?.host);
    second.establish();
    second.receive(OK);
    assert.deepEqual(await r.reply, { status: 200, body: "ok" });
    assert.equal(p.requests[0]?.attempts, 2);
  });

  it("per-try timeout with retryOn 5xx: a second attempt, then 504 UT when it times out too and retries are spent", async () => {
    const p = proxy({}, { attempts: 1, perTryTimeoutMs: 500, retryOn: ["5xx"], retriableStatusCodes: [] });
    const r = h2get(p);
    (await p.dialer.dialed(0)).establish();
    p.clock.advance(500);
    p.clock.advance(p.clock.pendingDelays()[0]!);
    (await p.dialer.dialed(1)).establish();
    p.clock.advance(500);
    assert.deepEqual(await r.reply, { status: 504, body: "upstream request timeout" });
    assert.equal(p.listener.ctx.proxy.runtime.clusters.get(CLUSTER)!.stats.upstream_rq_per_try_timeout, 2);
  });

  it("the client resetting its stream resets the upstream attempt (DC) and stops the route timer", async () => {
    const p = proxy({ timeoutMs: 3_000 });
    const r = h2get(p);
    const up = await p.dialer.dialed(0);
    up.establish();
    r.cancel();
    await r.reply;
    if (!up.destroyed) await once(up, "close");
    assert.match(p.requests[0]?.flags ?? "", /DC/);
    p.clock.advance(3_000);
    assert.equal(p.listener.ctx.proxy.runtime.clusters.get(CLUSTER)!.stats.upstream_rq_timeout, 0);
  });
});

describe("HTTP/2 downstream: fault injection on fake time", () => {
  const fault = (f: FaultPolicy): Partial<ForwardAction> => ({ fault: f });

  it("a 7 s delay (Bookinfo ratings-test-delay): nothing is dialed before 7 s, then the request goes on (DI)", async () => {
    const p = proxy(fault({ delay: { fixedDelayMs: 7_000, percentage: 100 } }));
    const r = h2get(p);
    await new Promise<void>((resolve) => {
      const check = (): void => (p.clock.pendingDelays().includes(7_000) ? resolve() : void setImmediate(check));
      check();
    });
    p.clock.advance(6_999);
    assert.equal(p.dialer.sockets.length, 0);
    p.clock.advance(1);
    const up = await p.dialer.dialed(0);
    up.establish();
    up.receive(OK);
    assert.deepEqual(await r.reply, { status: 200, body: "ok" });
    assert.equal(p.requests[0]?.flags, "DI");
  });

  it("an abort (Bookinfo ratings-test-abort): 500 'fault filter abort', FI, nothing dialed", async () => {
    const p = proxy(fault({ abort: { httpStatus: 500, percentage: 100 } }));
    assert.deepEqual(await h2get(p).reply, { status: 500, body: "fault filter abort" });
    assert.equal(p.requests[0]?.flags, "FI");
    assert.equal(p.dialer.sockets.length, 0);
  });
});
