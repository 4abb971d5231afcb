// HTTP/2 upstream sessions against a real h2c server on port 0, with the idle timeout on a fake
// clock: Envoy's definition (no active stream for idleTimeout), one timer per session.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../core/random.ts";
import { FakeClock } from "../../testing/fake-clock.ts";
import { testCluster, testEndpoint } from "../../testing/proxy-context.ts";
import { ClusterState } from "../upstream/cluster-manager.ts";
import { H2SessionPool, type H2Session } from "./h2-session-pool.ts";

const CLUSTER = "outbound|50051||grpc.default.svc.cluster.local";

describe("H2SessionPool idle timeout (fake clock, real h2c server)", () => {
  let server: Http2Server;
  let port = 0;
  /** Streams the server holds open until the test ends them. */
  const held: (() => void)[] = [];
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === "/hold") held.push(() => res.end("done"));
      else res.end("ok");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  function setup(idleTimeoutMs: number): { clock: FakeClock; pool: H2SessionPool; cluster: ClusterState; session: H2Session } {
    const clock = new FakeClock();
    const cluster = new ClusterState(testCluster(CLUSTER, { idleTimeoutMs }, { protocol: "http2" }), [testEndpoint("127.0.0.1", port)], seededRandom(1), clock);
    const pool = new H2SessionPool(cluster);
    const host = cluster.hostSet.get(`127.0.0.1:${port}`)!;
    return { clock, pool, cluster, session: pool.session(host) };
  }

  async function get(s: H2Session, path: string): Promise<string> {
    const st = s.request({ ":path": path, ":method": "GET", ":authority": "grpc", ":scheme": "http" }, { endStream: true });
    let body = "";
    st.setEncoding("utf8");
    st.on("data", (d: string) => (body += d));
    await once(st, "close");
    return body;
  }

  it("a session without streams closes after idleTimeout, not before", async () => {
    const { clock, session, cluster } = setup(60_000);
    await once(session.session, "connect");
    assert.equal(await get(session, "/"), "ok");
    clock.advance(59_999);
    assert.equal(session.closed, false);
    clock.advance(1);
    assert.equal(session.closed, true, "retired: no new streams");
    await once(session.session, "close");
    assert.equal(cluster.stats.upstream_cx_active, 0);
    assert.equal(clock.pending(), 0);
  });

  it("an open stream keeps the session; the idle time counts from its close", async () => {
    const { clock, session } = setup(60_000);
    await once(session.session, "connect");
    const first = held.length;
    const long = get(session, "/hold");
    while (held.length === first) await new Promise((r) => setImmediate(r));
    clock.advance(120_000);
    assert.equal(session.closed, false, "a stream is active");
    held[first]!();
    assert.equal(await long, "done");
    clock.advance(59_999); // quiet for less than idleTimeout since the stream closed
    assert.equal(session.closed, false);
    clock.advance(60_000);
    assert.equal(session.closed, true);
    await once(session.session, "close");
  });

  it("the pool opens a fresh session once the idle one retired", async () => {
    const { clock, session, pool, cluster } = setup(1_000);
    await once(session.session, "connect");
    clock.advance(1_000);
    assert.equal(session.closed, true);
    const next = pool.session(cluster.hostSet.get(`127.0.0.1:${port}`)!);
    assert.notEqual(next, session);
    await once(next.session, "connect");
    assert.equal(await get(next, "/"), "ok");
    pool.close();
    await once(next.session, "close");
    assert.equal(cluster.stats.upstream_cx_total, 2);
  });
});
