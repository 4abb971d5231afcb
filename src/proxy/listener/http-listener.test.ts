// HttpListener.close() on fake sockets and a fake clock: idle connections close at once, a busy
// one after its response (which announces Connection: close), and whatever is still open when the
// drain grace time passes is destroyed — the grace time is the proxy's Clock's. On an `auto`
// listener the connections detection sent to TCP proxying count too: close() waits for them and
// destroys them at the grace time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeHttpProxy, forwardingProxy, statusOf } from "../../testing/fake-proxy.ts";
import { flush, type FakeSocket } from "../../testing/fake-socket.ts";
import { emptyConfig, testCluster, testEndpoint } from "../../testing/proxy-context.ts";
import { forward, route, routeConfig, vhost } from "../router/fixtures.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";

function proxy(): FakeHttpProxy {
  return forwardingProxy(CLUSTER, {}, ["10.1.0.1"]);
}

async function send(c: FakeSocket, text: string): Promise<void> {
  c.receive(text);
  await flush();
}

const TCP_CLUSTER = "outbound|6379||redis.default.svc.cluster.local";

/** An `auto` listener whose tcpRoute takes what is neither HTTP/1.1 nor h2c. */
function autoProxy(): FakeHttpProxy {
  const rc = { ...routeConfig([vhost("reviews", ["reviews:9080"], [route("r", {}, forward([CLUSTER]))])]), name: "outbound" };
  return new FakeHttpProxy(
    emptyConfig({
      listeners: [
        { name: "auto", direction: "outbound", address: "127.0.0.1", port: 15001, protocol: "auto", routeConfigName: "outbound", tcpRoute: { clusters: [{ cluster: TCP_CLUSTER, weight: 1 }] } },
      ],
      routes: [rc],
      clusters: [testCluster(CLUSTER), testCluster(TCP_CLUSTER, {}, { protocol: "tcp" })],
      endpoints: { [CLUSTER]: [testEndpoint("10.1.0.1")], [TCP_CLUSTER]: [testEndpoint("10.1.0.9", 6379)] },
    }),
  );
}

/** A client whose opaque first bytes detection sends to TCP proxying, relayed upstream. */
async function tcpProxied(p: FakeHttpProxy): Promise<{ c: FakeSocket; up: FakeSocket }> {
  const c = p.connect();
  await send(c, "\x00\x01hi");
  const up = p.dialer.socket();
  up.establish();
  await flush();
  assert.equal(up.writtenText(), "\x00\x01hi");
  return { c, up };
}

const GET = "GET / HTTP/1.1\r\nhost: reviews:9080\r\n\r\n";

describe("HttpListener.close", () => {
  it("an idle keep-alive connection is closed at once and close() resolves when it is gone", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, GET);
    const up = p.dialer.socket();
    up.establish();
    up.receive("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 200);
    let done = false;
    const closing = p.listener.close(5_000).then(() => (done = true));
    assert.equal(c.writableEnded, true, "FIN sent to the idle connection");
    c.receiveEnd(); // the client answers the proxy's FIN with its own
    await closing;
    assert.equal(done, true);
    assert.equal(p.clock.pendingDelays().includes(5_000), false, "the grace timer is cancelled");
  });

  it("a busy connection finishes its response with Connection: close, then close() resolves", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, GET);
    const up = p.dialer.socket();
    up.establish();
    let done = false;
    const closing = p.listener.close(5_000).then(() => (done = true));
    await flush();
    assert.equal(done, false, "waits for the response in flight");
    up.receive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    assert.match(c.writtenText(), /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n/i);
    c.receiveEnd(); // the client answers the proxy's FIN with its own
    await closing;
    assert.equal(done, true);
  });

  it("what is still open at the grace time (on the proxy's clock) is destroyed", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, GET);
    p.dialer.socket().establish();
    let done = false;
    const closing = p.listener.close(5_000).then(() => (done = true));
    p.clock.advance(4_999);
    await flush();
    assert.equal(done, false);
    assert.equal(c.destroyed, false);
    p.clock.advance(1);
    await closing;
    assert.equal(c.destroyed, true);
  });

  it("auto listener: a TCP-proxied connection holds close() until it ends", async () => {
    const p = autoProxy();
    const { c, up } = await tcpProxied(p);
    let done = false;
    const closing = p.listener.close(5_000).then(() => (done = true));
    await flush();
    assert.equal(done, false, "the TCP-proxied connection is still open");
    c.receiveEnd(); // the client and the upstream close their sides
    up.receiveEnd();
    await closing;
    assert.equal(done, true);
    assert.equal(p.clock.pendingDelays().includes(5_000), false, "the grace timer is cancelled");
  });

  it("auto listener: a TCP-proxied connection still open at the grace time is destroyed, both sides", async () => {
    const p = autoProxy();
    const { c, up } = await tcpProxied(p);
    const closing = p.listener.close(5_000);
    p.clock.advance(4_999);
    await flush();
    assert.equal(c.destroyed, false);
    p.clock.advance(1);
    await closing;
    await flush();
    assert.equal(c.destroyed, true);
    assert.equal(up.destroyed, true);
  });
});
