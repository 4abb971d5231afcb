// The last finished request stays reachable (last-request.ts): a quiet proxy's idle collection then
// leaves the request path's hidden classes, and the optimized code that embeds them, in place.
import assert from "node:assert/strict";
import { connect } from "node:http2";
import type { Duplex } from "node:stream";
import { describe, it } from "node:test";
import { DEFAULT_RETRY_POLICY } from "../../model/proxy-config.ts";
import { forward, route, routeConfig, vhost } from "../router/fixtures.ts";
import { FakeHttpProxy, forwardingProxy, statusOf } from "../../testing/fake-proxy.ts";
import { flush } from "../../testing/fake-socket.ts";
import { emptyConfig, testCluster, testEndpoint } from "../../testing/proxy-context.ts";
import { lastAttemptKept, lastH2Request, lastRequest, lastResponseHeadKept } from "./last-request.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";

function proxy(): FakeHttpProxy {
  const routes = [route("fwd", { uri: { prefix: "/fwd" } }, forward([CLUSTER])), route("direct", {}, { kind: "direct", status: 200, body: "hi" })];
  const rc = { ...routeConfig([vhost("reviews", ["reviews"], routes)]), name: "outbound" };
  const cfg = emptyConfig({
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 15001, protocol: "http", routeConfigName: "outbound" }],
    routes: [rc],
    clusters: [testCluster(CLUSTER)],
    endpoints: { [CLUSTER]: [testEndpoint("10.1.0.5")] },
  });
  return new FakeHttpProxy(cfg);
}

describe("keepLastRequest", () => {
  it("holds the exchange that finished last, each request replacing the one before", async () => {
    const p = proxy();
    const c = p.connect();
    c.receive("GET /first HTTP/1.1\r\nhost: reviews\r\n\r\n");
    await flush();
    assert.equal(statusOf(c.writtenText()), 200);
    const first = lastRequest() as { path: string; finished: boolean } | null;
    assert.equal(first?.path, "/first");
    assert.equal(first?.finished, true);
    c.receive("GET /second HTTP/1.1\r\nhost: reviews\r\n\r\n");
    await flush();
    assert.equal((lastRequest() as { path: string } | null)?.path, "/second");
  });

  it("holds the upstream response head relayed last", async () => {
    const p = proxy();
    const c = p.connect();
    c.receive("GET /fwd HTTP/1.1\r\nhost: reviews\r\n\r\n");
    await flush();
    const up = p.dialer.socket();
    up.establish();
    up.receive("HTTP/1.1 203 Non-Authoritative Information\r\ncontent-length: 2\r\n\r\nok");
    await flush();
    assert.equal(statusOf(c.writtenText()), 203);
    assert.equal((lastResponseHeadKept() as { status: number } | null)?.status, 203);
    assert.equal((lastRequest() as { path: string } | null)?.path, "/fwd");
  });
});

describe("keepLastH2Request", () => {
  it("holds the HTTP/2 exchange that finished last, its HTTP/1.1 attempt and the response head", async () => {
    const p = forwardingProxy(CLUSTER, { retry: DEFAULT_RETRY_POLICY }, ["10.1.0.1"]);
    const sock = p.connectPair();
    const client = connect("http://reviews:9080", { createConnection: () => sock as unknown as Duplex });
    client.on("error", () => {});
    try {
      const st = client.request({ ":path": "/h2/last", ":authority": "reviews:9080" }, { endStream: true });
      st.on("error", () => {});
      st.resume();
      const up = await p.dialer.dialed(0);
      up.establish();
      up.receive("HTTP/1.1 206 Partial Content\r\ncontent-length: 2\r\n\r\nok");
      await new Promise((resolve) => st.on("close", resolve));
      const x = lastH2Request() as { path: string; finished: boolean; bodyChunks: unknown[] } | null;
      assert.equal(x?.path, "/h2/last");
      assert.equal(x?.finished, true);
      assert.equal(x?.bodyChunks.length, 0);
      assert.equal((lastResponseHeadKept() as { status: number } | null)?.status, 206);
      assert.equal(lastAttemptKept()?.constructor.name, "H1Attempt");
    } finally {
      client.destroy();
    }
  });
});
