// Downstream connections on fake sockets and a fake clock: the listener's idle sweep (a connection
// with no request in flight closes after downstreamIdleTimeoutMs; precision one sweep granule,
// 1/8 of the timeout), keep-alive, pipelining order — no network.
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { forward, route, routeConfig, vhost } from "../router/fixtures.ts";
import { FakeHttpProxy, statusOf } from "../../testing/fake-proxy.ts";
import { flush, type FakeSocket } from "../../testing/fake-socket.ts";
import { emptyConfig, testCluster, testEndpoint } from "../../testing/proxy-context.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";
const IDLE = 8_000;
const GRANULE = IDLE / 8;

function proxy(): FakeHttpProxy {
  const rc = {
    ...routeConfig([
      vhost("reviews", ["reviews"], [route("fwd", { uri: { prefix: "/fwd" } }, forward([CLUSTER])), route("direct", {}, { kind: "direct", status: 200, body: "hi" })]),
    ]),
    name: "outbound",
  };
  const cfg = emptyConfig({
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 15001, protocol: "http", routeConfigName: "outbound" }],
    routes: [rc],
    clusters: [testCluster(CLUSTER)],
    endpoints: { [CLUSTER]: [testEndpoint("10.1.0.5")] },
  });
  return new FakeHttpProxy(cfg, { limits: { downstreamIdleTimeoutMs: IDLE } });
}

const GET = "GET / HTTP/1.1\r\nhost: reviews\r\n\r\n";

/** Bytes from the client, then let the streams deliver them. */
async function send(c: FakeSocket, text: string): Promise<void> {
  c.receive(text);
  await flush();
}

describe("DownstreamConnection: idle timeout", () => {
  it("a connection that never sends a byte is closed at the idle timeout", async () => {
    const p = proxy();
    const c = p.connect();
    p.clock.advance(IDLE - 1);
    assert.equal(c.destroyed, false);
    p.clock.advance(1);
    await flush();
    assert.equal(c.destroyed, true);
  });

  it("after a response, closed once idle for the timeout (within a granule), not before", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, GET);
    assert.equal(statusOf(c.writtenText()), 200);
    p.clock.advance(IDLE - 1);
    assert.equal(c.writableEnded, false);
    p.clock.advance(2 * GRANULE);
    assert.equal(c.writableEnded, true, "closed (FIN) after idle time + sweep granules");
  });

  it("each request restarts the idle count", async () => {
    const p = proxy();
    const c = p.connect();
    for (let i = 0; i < 4; i++) {
      await send(c, GET);
      p.clock.advance(IDLE - GRANULE);
    }
    assert.equal(c.writableEnded, false, `${4 * (IDLE - GRANULE)} ms open, never ${IDLE} ms idle`);
    assert.equal(statusOf(c.writtenText(), 3), 200, "four responses on one connection");
    p.clock.advance(IDLE + GRANULE);
    assert.equal(c.writableEnded, true);
  });

  it("a request in flight is not idle, however long its upstream takes (route timeouts bound it)", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, "GET /fwd HTTP/1.1\r\nhost: reviews\r\n\r\n");
    const up = p.dialer.socket();
    up.establish();
    p.clock.advance(3 * IDLE);
    assert.equal(c.writableEnded, false);
    up.receive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    await flush(); // the relayed response is written when the turn ends
    assert.equal(statusOf(c.writtenText()), 200);
    p.clock.advance(IDLE + 2 * GRANULE);
    assert.equal(c.writableEnded, true);
  });

  it("the sweep stops when the listener has no connection left", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, GET);
    c.destroy();
    await flush();
    p.clock.advance(IDLE * 2);
    assert.equal(p.clock.pending(), 0);
  });
});

describe("DownstreamConnection: pipelining", () => {
  it("two requests in one read: answered in order", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, `GET /fwd HTTP/1.1\r\nhost: reviews\r\n\r\n${GET}`);
    const up = p.dialer.socket();
    up.establish();
    assert.equal(statusOf(c.writtenText()), 0, "the second (direct) response waits for the first");
    up.receive("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
    assert.equal(statusOf(c.writtenText(), 0), 201);
    assert.equal(statusOf(c.writtenText(), 1), 200);
  });

  it("requests answered at once (direct responses) in one read: each answered, then the next parsed from the same read", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, `${GET}${GET}${GET}GET /fwd HTTP/1.1\r\nhost: reviews\r\n\r\n`);
    for (let i = 0; i < 3; i++) assert.equal(statusOf(c.writtenText(), i), 200, `direct response ${i}`);
    const up = p.dialer.socket();
    up.establish();
    up.receive("HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
    await flush();
    assert.equal(statusOf(c.writtenText(), 3), 201);
  });
});

describe("DownstreamConnection: writes at the end of the turn", () => {
  it("with other requests in flight, the upstream request heads and the responses go out when the turn ends, each complete", async () => {
    const p = proxy();
    const [a, b] = [p.connect(), p.connect()];
    a.receive("GET /fwd/a HTTP/1.1\r\nhost: reviews\r\n\r\n");
    b.receive("GET /fwd/b HTTP/1.1\r\nhost: reviews\r\n\r\n");
    await flush();
    const [upA, upB] = [p.dialer.socket(0), p.dialer.socket(1)];
    upA.establish();
    upB.establish();
    assert.equal(upA.writtenText(), "", "held while another request is in flight");
    await flush();
    assert.match(upA.writtenText(), /^GET \/fwd\/a HTTP\/1\.1\r\n[^]*\r\n\r\n$/);
    assert.match(upB.writtenText(), /^GET \/fwd\/b HTTP\/1\.1\r\n[^]*\r\n\r\n$/);
    upA.receive("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na");
    upB.receive("HTTP/1.1 201 Created\r\ncontent-length: 1\r\n\r\nb");
    assert.equal(a.writtenText(), "", "the response waits for the turn's end too");
    await flush();
    assert.equal(statusOf(a.writtenText()), 200);
    assert.equal(statusOf(b.writtenText()), 201);
    assert.match(a.writtenText(), /\r\n\r\na$/);
    assert.match(b.writtenText(), /\r\n\r\nb$/);
  });

  it("a response held for the turn's end goes out before the connection ends when the client's FIN arrives in that turn", async () => {
    const p = proxy();
    const [a, b] = [p.connect(), p.connect()];
    a.receive("GET /fwd/a HTTP/1.1\r\nhost: reviews\r\n\r\n");
    b.receive("GET /fwd/b HTTP/1.1\r\nhost: reviews\r\n\r\n");
    await flush();
    const [upA, upB] = [p.dialer.socket(0), p.dialer.socket(1)];
    upA.establish();
    upB.establish();
    await flush();
    upA.receive("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na");
    assert.equal(a.writtenText(), "", "held: request b is still in flight");
    const ended = once(a, "end");
    a.receiveEnd();
    await ended; // a microtask after 'end': still before the turn's end
    assert.equal(statusOf(a.writtenText()), 200, "written when the FIN arrived");
  });

  it("a request alone is written at once (nothing would join it)", async () => {
    const p = proxy();
    const c = p.connect();
    await send(c, "GET /fwd HTTP/1.1\r\nhost: reviews\r\n\r\n");
    const up = p.dialer.socket();
    up.establish();
    assert.match(up.writtenText(), /^GET \/fwd HTTP\/1\.1\r\n/);
    up.receive("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    assert.equal(statusOf(c.writtenText()), 200);
  });
});
