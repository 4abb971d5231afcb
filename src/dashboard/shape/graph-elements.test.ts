import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Graph, GraphEdge } from "../../control-plane/telemetry/graph.ts";
import { COLOURS, edgeWidth, fmtBytesRate, graphElements, healthOf, layeredLayout, namespacesOf } from "./graph-elements.ts";
import { dotCount } from "./traffic-dots.ts";

const sig = { requests: 10, errors: 0, p50: 5, p90: 9, p95: 10, p99: 12 };
const edge = (source: string, target: string, rps: number, errorRate = 0, mtls = true): GraphEdge => ({ source, target, protocol: "http", mtls, ...sig, rps, errorRate });

function bookinfo(reviewsRps: [number, number, number], ratingsErrors = 0): Graph {
  const [v1, v2, v3] = reviewsRps;
  const svc = (n: string) => ({ id: `service:${n}.default.svc.cluster.local`, kind: "service" as const, namespace: "default", name: `${n}.default.svc.cluster.local`, rps: 1, errorRate: 0 });
  const ver = (app: string, v: string, ns = "default") => ({ id: `version:${ns}/${app}/${v}`, kind: "version" as const, namespace: ns, name: app, version: v, rps: 1, errorRate: 0 });
  return {
    windowMs: 60_000,
    nodes: [svc("productpage"), svc("reviews"), svc("ratings"), ver("productpage", "v1"), ver("reviews", "v1"), ver("reviews", "v2"), ver("reviews", "v3"), ver("ratings", "v1"), ver("istio-ingressgateway", "unknown", "istio-system")],
    edges: [
      edge("version:istio-system/istio-ingressgateway/unknown", "service:productpage.default.svc.cluster.local", v1 + v2 + v3),
      edge("service:productpage.default.svc.cluster.local", "version:default/productpage/v1", v1 + v2 + v3),
      edge("version:default/productpage/v1", "service:reviews.default.svc.cluster.local", v1 + v2 + v3),
      edge("service:reviews.default.svc.cluster.local", "version:default/reviews/v1", v1),
      edge("service:reviews.default.svc.cluster.local", "version:default/reviews/v2", v2),
      edge("service:reviews.default.svc.cluster.local", "version:default/reviews/v3", v3),
      edge("version:default/reviews/v2", "service:ratings.default.svc.cluster.local", v2, ratingsErrors),
      edge("version:default/reviews/v3", "service:ratings.default.svc.cluster.local", v3, ratingsErrors),
      edge("service:ratings.default.svc.cluster.local", "version:default/ratings/v1", v2 + v3, ratingsErrors),
    ],
  };
}

describe("graph elements", () => {
  it("health follows Kiali's tolerances: any 5xx degrades, 10 % fails, no traffic is idle", () => {
    assert.equal(healthOf(0, 0), "none");
    assert.equal(healthOf(5, 0), "healthy");
    assert.equal(healthOf(5, 0.001), "degraded");
    assert.equal(healthOf(5, 0.0999), "degraded");
    assert.equal(healthOf(5, 0.1), "failing");
  });

  it("boxes each app's versions and colours edges by error rate", () => {
    const els = graphElements(bookinfo([1, 1, 1], 0.5));
    const reviews = els.nodes.filter((n) => n.data.parent === "app:default/reviews").map((n) => n.data.version);
    assert.deepEqual(reviews, ["v1", "v2", "v3"]);
    const app = els.nodes.find((n) => n.data.id === "app:default/reviews");
    assert.equal(app?.data.kind, "app");
    const toRatings = els.edges.find((e) => e.data.source === "version:default/reviews/v2");
    assert.equal(toRatings?.data.colour, COLOURS.failing);
    assert.equal(els.edges.find((e) => e.data.target === "version:default/reviews/v1")?.data.colour, COLOURS.healthy);
    assert.match(els.edges[0]!.data.label, /^mTLS · 3\.00 rps · p95 10\.0ms$/);
  });

  it("keeps every position when only the rates change (a stable layout)", () => {
    const pos = (g: Graph) => Object.fromEntries(graphElements(g).nodes.filter((n) => n.position).map((n) => [n.data.id, n.position]));
    const a = pos(bookinfo([1, 1, 1]));
    const b = pos(bookinfo([9, 0.1, 0.1], 0.3));
    assert.deepEqual(b, a);
    // Callers left of callees.
    assert.ok(a["version:default/productpage/v1"]!.x < a["service:reviews.default.svc.cluster.local"]!.x);
    assert.ok(a["service:reviews.default.svc.cluster.local"]!.x < a["version:default/reviews/v2"]!.x);
    assert.ok(a["version:default/reviews/v2"]!.x < a["version:default/ratings/v1"]!.x);
  });

  it("the layout does not depend on the order nodes and edges come in, and survives a cycle", () => {
    const edges = [{ source: "a", target: "b" }, { source: "b", target: "c" }, { source: "c", target: "a" }, { source: "x", target: "a" }];
    const one = layeredLayout(["a", "b", "c", "x"], edges);
    const two = layeredLayout(["x", "c", "b", "a"], [...edges].reverse());
    assert.deepEqual([...one].sort(), [...two].sort());
    assert.deepEqual(one.get("x"), { x: 0, y: 0 });
  });

  it("the namespace filter keeps a namespace's nodes and their callers", () => {
    const g = bookinfo([1, 1, 1]);
    assert.deepEqual(namespacesOf(g), ["default", "istio-system"]);
    const only = graphElements(g, "istio-system");
    assert.deepEqual(only.edges.map((e) => e.data.target), ["service:productpage.default.svc.cluster.local"]);
    assert.equal(graphElements(g, "default").edges.length, 9);
  });

  it("edge width grows with the rate", () => {
    assert.equal(edgeWidth(0), 1);
    assert.ok(edgeWidth(1) < edgeWidth(10) && edgeWidth(10) < edgeWidth(1000));
  });

  it("a TCP edge shows connections/s and bytes/s, a padlock from mTLS, dots from bytes even with no new connections", () => {
    const zero = { requests: 0, rps: 0, errors: 0, errorRate: 0, p50: null, p90: null, p95: null, p99: null };
    const tcp = (cps: number, sentBps: number, receivedBps: number, mtls: boolean): GraphEdge => ({ source: "version:default/app/v1", target: "service:redis.default.svc.cluster.local", protocol: "tcp", mtls, ...zero, tcp: { connections: cps * 60, cps, sentBps, receivedBps } });
    const g = (e: GraphEdge): Graph => ({ windowMs: 60_000, nodes: [], edges: [e] });
    const busy = graphElements(g(tcp(0.5, 3072, 1024, true))).edges[0]!.data;
    assert.equal(busy.protocol, "tcp");
    assert.equal(busy.cps, 0.5);
    assert.equal(busy.bps, 4096);
    assert.equal(busy.p95, null);
    assert.equal(busy.label, "mTLS · 0.50 conn/s · 4.00 KiB/s");
    assert.equal(busy.health, "healthy");
    assert.equal(busy.dotRate, 4);
    // One long-lived connection moving bytes: no new connections, still dots.
    const long = graphElements(g(tcp(0, 100, 412, false))).edges[0]!.data;
    assert.equal(long.label, "0.00 conn/s · 512 B/s");
    assert.equal(dotCount(long.dotRate), 2);
    assert.ok(long.width < busy.width);
    const idle = graphElements(g(tcp(0, 0, 0, false))).edges[0]!.data;
    assert.equal(idle.health, "none");
    assert.equal(dotCount(idle.dotRate), 0);
    // HTTP edges carry no TCP figures.
    const http = graphElements(bookinfo([1, 1, 1])).edges[0]!.data;
    assert.equal(http.cps, null);
    assert.equal(http.dotRate, http.rps);
    assert.equal(fmtBytesRate(3 * 1024 * 1024), "3.00 MiB/s");
  });
});
