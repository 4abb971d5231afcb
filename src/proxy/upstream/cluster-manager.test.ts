// ClusterManager across config pushes, on a fake clock and fake sockets: what a push keeps (hosts
// and their counters, warm connections, the balancer when its config did not change) and what it
// drains (pools of hosts that left, clusters that left, every pool on a transport change).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRandom } from "../../core/random.ts";
import type { Cluster, Endpoint, ProxyConfig } from "../../model/proxy-config.ts";
import { FakeClock } from "../../testing/fake-clock.ts";
import { FakeDialer } from "../../testing/fake-socket.ts";
import { emptyConfig, testCluster, testEndpoint } from "../../testing/proxy-context.ts";
import type { Host } from "./balance/balancer.ts";
import { ClusterManager, type ClusterState, type ClusterView } from "./cluster-manager.ts";
import { pickConnectionHost } from "./host-choice.ts";
import type { UpstreamConnection, UpstreamSink } from "./upstream-connection.ts";

const REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
const RATINGS = "outbound|9080||ratings.default.svc.cluster.local";

const sink: UpstreamSink = {
  onUpstreamReady: () => {},
  onUpstreamHead: () => {},
  onUpstreamData: () => {},
  onUpstreamEnd: () => {},
  onUpstreamError: () => {},
  onUpstreamDrain: () => {},
  onUpstreamReadDone: () => {},
};

function config(clusters: Cluster[], endpoints: Record<string, Endpoint[]>): ProxyConfig {
  return emptyConfig({ clusters, endpoints });
}

const twoHosts = { [REVIEWS]: [testEndpoint("10.1.0.1"), testEndpoint("10.1.0.2")], [RATINGS]: [testEndpoint("10.2.0.1")] };

/** A connection to `host` of `c` (a host, or its index in the host set) that finished one exchange: idle in its pool. */
function warmConnection(c: ClusterState, host: Host | number, dialer: FakeDialer): { conn: UpstreamConnection; socket: ReturnType<FakeDialer["socket"]> } {
  const h = typeof host === "number" ? c.hostSet.hosts[host]! : host;
  const conn = c.pool(h).acquire(sink) as UpstreamConnection;
  const socket = dialer.socket();
  socket.establish();
  conn.beginRequest("GET");
  conn.endRequest();
  socket.receive("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  assert.equal(conn.isIdle, true);
  return { conn, socket };
}

function setup() {
  const clock = new FakeClock();
  const dialer = new FakeDialer();
  const random = seededRandom(7);
  const m1 = new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS)], twoHosts), random, clock, undefined, dialer.dial);
  return { clock, dialer, random, m1 };
}

describe("ClusterManager across pushes", () => {
  it("a cluster that stays keeps its state: hosts and their counters, pools with warm connections, stats", () => {
    const { clock, dialer, random, m1 } = setup();
    const reviews = m1.get(REVIEWS)!;
    const { conn } = warmConnection(reviews, 0, dialer);
    reviews.hostSet.hosts[0]!.activeRequests = 3;
    reviews.stats.upstream_rq_total = 42;
    const m2 = new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS)], twoHosts), random, clock, m1);
    const after = m2.get(REVIEWS)!;
    assert.equal(after, reviews, "the same ClusterState");
    assert.equal(after.hostSet.hosts[0]!.activeRequests, 3);
    assert.equal(after.stats.upstream_rq_total, 42);
    assert.equal(after.pool(after.hostSet.hosts[0]!).acquire(sink), conn, "the warm connection is reused");
    assert.equal(dialer.sockets.length, 1);
  });

  it("new clusters of a later push dial through the same Dialer", () => {
    const { clock, dialer, random, m1 } = setup();
    const DETAILS = "outbound|9080||details.default.svc.cluster.local";
    const m2 = new ClusterManager(config([testCluster(REVIEWS), testCluster(DETAILS)], { ...twoHosts, [DETAILS]: [testEndpoint("10.3.0.1")] }), random, clock, m1);
    const d = m2.get(DETAILS)!;
    d.pool(d.hostSet.hosts[0]!).acquire(sink);
    assert.equal(dialer.socket().dialOptions?.host, "10.3.0.1");
  });

  it("an endpoint that left the cluster: its pool drains (idle connection closed), the others stay", () => {
    const { clock, dialer, random, m1 } = setup();
    const reviews = m1.get(REVIEWS)!;
    const a = warmConnection(reviews, 0, dialer);
    const b = warmConnection(reviews, 1, dialer);
    new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS)], { ...twoHosts, [REVIEWS]: [testEndpoint("10.1.0.1")] }), random, clock, m1);
    assert.equal(a.socket.destroyed, false);
    assert.equal(b.socket.destroyed, true);
    assert.equal(reviews.hostSet.hosts.length, 1);
  });

  it("a cluster that left the config: removed, its pools drained and its timers stopped", () => {
    const { clock, dialer, random, m1 } = setup();
    const ratings = m1.get(RATINGS)!;
    const od = { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, splitExternalLocalOriginErrors: false, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 };
    const m1b = new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS, {}, { outlierDetection: od })], twoHosts), random, clock, m1);
    assert.ok(clock.pending() > 0, "outlier detection's interval timer runs");
    const w = warmConnection(ratings, 0, dialer);
    const m2 = new ClusterManager(config([testCluster(REVIEWS)], twoHosts), random, clock, m1b);
    assert.equal(m2.get(RATINGS), undefined);
    assert.equal(ratings.isRemoved, true);
    assert.equal(w.socket.destroyed, true);
    assert.equal(clock.pending(), 0, "neither the outlier interval nor the pool idle timer is left");
  });

  it("the balancer is rebuilt only when the lb config changes", () => {
    const { clock, random, m1 } = setup();
    const before = m1.get(REVIEWS)!.balancer;
    const m2 = new ClusterManager(config([testCluster(REVIEWS, { maxConnections: 10 }), testCluster(RATINGS)], twoHosts), random, clock, m1);
    assert.equal(m2.get(REVIEWS)!.balancer, before, "a pool limit change keeps it");
    const m3 = new ClusterManager(config([testCluster(REVIEWS, {}, { lb: { policy: "ROUND_ROBIN" } }), testCluster(RATINGS)], twoHosts), random, clock, m2);
    assert.notEqual(m3.get(REVIEWS)!.balancer, before);
  });

  it("pool limits apply to existing pools at once (read live)", () => {
    const { clock, dialer, random, m1 } = setup();
    const reviews = m1.get(REVIEWS)!;
    const host = reviews.hostSet.hosts[0]!;
    reviews.pool(host).acquire(sink);
    dialer.socket().establish();
    new ClusterManager(config([testCluster(REVIEWS, { maxConnections: 1, maxPendingRequests: 0 }), testCluster(RATINGS)], twoHosts), random, clock, m1);
    assert.equal(reviews.pool(host).acquire(sink), "overflow");
  });

  it("a TLS change drains every pool: the next request dials anew", () => {
    const { clock, dialer, random, m1 } = setup();
    const reviews = m1.get(REVIEWS)!;
    const w = warmConnection(reviews, 0, dialer);
    const tls = { mode: "SIMPLE" as const, subjectAltNames: [], insecureSkipVerify: false };
    new ClusterManager(config([testCluster(REVIEWS, {}, { tls }), testCluster(RATINGS)], twoHosts), random, clock, m1);
    assert.equal(w.socket.destroyed, true);
    const next = reviews.pool(reviews.hostSet.hosts[0]!).acquire(sink);
    assert.notEqual(next, w.conn);
    assert.equal(dialer.sockets.length, 2);
  });

  it("auto mTLS: each host's pool originates TLS only toward a tlsMode=istio endpoint; a host that gains the label gets a new pool", () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer();
    const random = seededRandom(7);
    const tls = { mode: "ISTIO_MUTUAL" as const, subjectAltNames: [], insecureSkipVerify: false };
    const mesh = testEndpoint("10.1.0.1", 9080, { "security.istio.io/tlsMode": "istio" });
    const m1 = new ClusterManager(config([testCluster(REVIEWS, {}, { tls, autoMtls: true })], { [REVIEWS]: [mesh, testEndpoint("10.1.0.2")] }), random, clock, undefined, dialer.dial);
    const reviews = m1.get(REVIEWS)!;
    const [withSidecar, without] = reviews.hostSet.hosts as [Host, Host];
    assert.equal(reviews.pool(withSidecar).tls, tls);
    assert.equal(reviews.pool(without).tls, undefined);
    const w = warmConnection(reviews, without, dialer);
    new ClusterManager(config([testCluster(REVIEWS, {}, { tls, autoMtls: true })], { [REVIEWS]: [mesh, testEndpoint("10.1.0.2", 9080, { "security.istio.io/tlsMode": "istio" })] }), random, clock, m1);
    const after = reviews.hostSet.hosts[1]!;
    assert.equal(reviews.pool(after).tls, tls);
    assert.equal(w.socket.destroyed, true);
  });

  it("PASSTHROUGH: one host per original destination, kept across calls", () => {
    const clock = new FakeClock();
    const m = new ClusterManager(config([testCluster("PassthroughCluster", {}, { discovery: "original_dst", lb: { policy: "PASSTHROUGH" } })], {}), seededRandom(7), clock);
    const c = m.get("PassthroughCluster")!;
    const h = pickConnectionHost(c, { address: "10.9.0.1", port: 8080 }, undefined)!;
    assert.equal(pickConnectionHost(c, { address: "10.9.0.1", port: 8080 }, undefined), h);
    assert.notEqual(pickConnectionHost(c, { address: "10.9.0.1", port: 8081 }, undefined), h);
    assert.equal(h.address, "10.9.0.1");
  });

  it("PASSTHROUGH: at most 1024 idle destinations are remembered; a forgotten one's pool drains", () => {
    const clock = new FakeClock();
    const dialer = new FakeDialer();
    const m = new ClusterManager(config([testCluster("PassthroughCluster", {}, { discovery: "original_dst", lb: { policy: "PASSTHROUGH" } })], {}), seededRandom(7), clock, undefined, dialer.dial);
    const c = m.get("PassthroughCluster")!;
    const first = pickConnectionHost(c, { address: "10.9.0.0", port: 80 }, undefined)!;
    const { socket } = warmConnection(c, first, dialer);
    for (let i = 1; i < 1024; i++) pickConnectionHost(c, { address: `10.9.${i >> 8}.${i & 255}`, port: 80 }, undefined);
    assert.notEqual(c.poolFor(first), undefined, "still remembered: its pool stays");
    assert.equal(socket.destroyed, false);
    pickConnectionHost(c, { address: "10.10.0.1", port: 80 }, undefined);
    assert.equal(c.poolFor(first), undefined);
    assert.equal(socket.destroyed, true);
    assert.notEqual(pickConnectionHost(c, { address: "10.9.0.0", port: 80 }, undefined), first, "a new host for a forgotten destination");
  });

  it("close(): every cluster's pools drain", () => {
    const { dialer, m1 } = setup();
    const a = warmConnection(m1.get(REVIEWS)!, 0, dialer);
    const b = warmConnection(m1.get(RATINGS)!, 0, dialer);
    m1.close();
    assert.equal(a.socket.destroyed, true);
    assert.equal(b.socket.destroyed, true);
  });
});

describe("ClusterManager: state on first use", () => {
  const OD = { consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, splitExternalLocalOriginErrors: false, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10, minHealthPercent: 0 };

  it("a cluster no request has used has no state; the views show it at rest: zero counters, its endpoints as hosts", () => {
    const clock = new FakeClock();
    const m = new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS, {}, { outlierDetection: OD })], twoHosts), seededRandom(7), clock);
    assert.equal(m.withState, 0);
    assert.equal(clock.pending(), 0, "no outlier interval before first use");
    const views = [...m.views()];
    assert.deepEqual(views.map((v) => v.name), [REVIEWS, RATINGS], "in the config's order");
    const [reviews, ratings] = views as [ClusterView, ClusterView];
    assert.equal(reviews.stats.upstream_rq_total, 0);
    assert.deepEqual(reviews.hostSet.hosts.map((h) => h.address), ["10.1.0.1", "10.1.0.2"]);
    assert.equal(reviews.hostSet.healthyCount(), 2);
    assert.equal(reviews.poolFor(reviews.hostSet.hosts[0]!), undefined);
    assert.equal(reviews.outlier, null);
    assert.equal(ratings.outlier?.stats.ejections_active, 0, "outlier detection configured: its counters at zero");
    assert.equal(m.withState, 0, "viewing makes no state");
  });

  it("first use makes the state; the views then show it", () => {
    const clock = new FakeClock();
    const m = new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS, {}, { outlierDetection: OD })], twoHosts), seededRandom(7), clock);
    const ratings = m.get(RATINGS)!;
    assert.equal(m.get(RATINGS), ratings, "made once");
    assert.equal(m.withState, 1);
    assert.ok(clock.pending() > 0, "outlier detection's interval timer runs from first use");
    ratings.stats.upstream_rq_total = 3;
    assert.equal([...m.views()][1], ratings);
    assert.equal(m.get("outbound|9080||nope.default.svc.cluster.local"), undefined);
    assert.equal(m.withState, 1);
  });

  it("a request that started before a push and uses a cluster first after it gets the new config's state", () => {
    const clock = new FakeClock();
    const random = seededRandom(7);
    const m1 = new ClusterManager(config([testCluster(REVIEWS), testCluster(RATINGS)], twoHosts), random, clock);
    const m2 = new ClusterManager(config([testCluster(REVIEWS, { maxConnections: 10 })], twoHosts), random, clock, m1);
    const m3 = new ClusterManager(config([testCluster(REVIEWS, { maxConnections: 20 })], twoHosts), random, clock, m2);
    const old = m1.get(REVIEWS)!;
    assert.equal(old, m3.get(REVIEWS), "one state for the cluster, whichever config a request started on");
    assert.equal(old.poolConfig.maxConnections, 20);
    assert.equal(m2.get(REVIEWS), old);
    const gone = m1.get(RATINGS)!;
    assert.equal(gone.isRemoved, true, "a cluster the push removed is made removed");
    assert.equal(m3.get(RATINGS), undefined);
  });

  it("clusters with active health checks get their state at once (their hosts are checked from the start)", () => {
    const clock = new FakeClock();
    const healthCheck = { kind: "tcp" as const, intervalMs: 5000, timeoutMs: 1000, unhealthyThreshold: 2, healthyThreshold: 1 };
    const m = new ClusterManager(config([testCluster(REVIEWS, {}, { healthCheck }), testCluster(RATINGS)], twoHosts), seededRandom(7), clock, undefined, new FakeDialer().dial);
    assert.equal(m.withState, 1);
    assert.notEqual([...m.views()][0]!.healthChecker, null);
    m.close();
  });
});
