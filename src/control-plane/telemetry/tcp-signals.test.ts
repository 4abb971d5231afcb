import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../testing/fake-clock.ts";
import { buildGraph } from "./graph.ts";
import { MetricsStore } from "./metrics-store.ts";
import { tcpDeltas, tcpSignals, type TcpPoint } from "./tcp-signals.ts";

const BASE = {
  source_workload: "app-v1", source_workload_namespace: "default", source_app: "app", source_version: "v1",
  destination_service: "redis.default.svc.cluster.local", destination_service_namespace: "default",
  destination_workload: "redis-v1", destination_workload_namespace: "default", destination_app: "redis", destination_version: "v1",
  request_protocol: "tcp",
};

/** A /stats/prometheus text with the three TCP counters per label set. */
function scrape(rows: [Record<string, string>, number, number, number][]): string {
  const lines: string[] = [];
  const fam = (name: string, i: 1 | 2 | 3): void => {
    lines.push(`# TYPE ${name} counter`);
    for (const r of rows) lines.push(`${name}{${Object.entries(r[0]).map(([k, v]) => `${k}="${v}"`).join(",")}} ${String(r[i])}`);
  };
  fam("istio_tcp_connections_opened_total", 1);
  fam("istio_tcp_sent_bytes_total", 2);
  fam("istio_tcp_received_bytes_total", 3);
  return lines.join("\n") + "\n";
}

describe("TCP signals", () => {
  it("turns two scrapes into connections and bytes per second, counting a reset from zero", () => {
    const p = (opened: number, sent: number, received: number): Map<string, TcpPoint> => new Map([["k", { labels: BASE, opened, sent, received }]]);
    assert.deepEqual(tcpSignals(tcpDeltas(p(2, 100, 50), p(12, 2100, 1050), 10)), { connections: 10, cps: 1, sentBps: 200, receivedBps: 100 });
    assert.deepEqual(tcpSignals(tcpDeltas(p(20, 9000, 9000), p(3, 300, 30), 10)), { connections: 3, cps: 0.3, sentBps: 30, receivedBps: 3 });
    assert.deepEqual(tcpDeltas(p(2, 100, 50), p(2, 100, 50), 10), [], "no change, no delta");
    assert.deepEqual(tcpSignals([]), { connections: 0, cps: 0, sentBps: 0, receivedBps: 0 });
  });

  it("the store keeps TCP counters and the graph draws TCP edges with mTLS from the server's report", () => {
    const clock = new FakeClock();
    const store = new MetricsStore({ clock, targets: () => [] });
    const client = { ...BASE, reporter: "source", connection_security_policy: "unknown" };
    const server = { ...BASE, reporter: "destination", connection_security_policy: "mutual_tls" };
    store.ingest("a", 0, scrape([[client, 0, 0, 0]]));
    store.ingest("b", 0, scrape([[server, 0, 0, 0]]));
    store.ingest("a", 10_000, scrape([[client, 5, 4000, 1000]]));
    store.ingest("b", 10_000, scrape([[server, 5, 4000, 1000]]));
    assert.deepEqual(store.window(60_000), [], "TCP series are not requests");
    const g = buildGraph(store.window(60_000), 60_000, store.tcpWindow(60_000));
    assert.deepEqual(g.nodes.map((n) => n.id), ["service:redis.default.svc.cluster.local", "version:default/app/v1", "version:default/redis/v1"]);
    assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.protocol, e.mtls, e.rps, e.tcp]), [
      ["version:default/app/v1", "service:redis.default.svc.cluster.local", "tcp", true, 0, { connections: 5, cps: 0.5, sentBps: 400, receivedBps: 100 }],
      ["service:redis.default.svc.cluster.local", "version:default/redis/v1", "tcp", true, 0, { connections: 5, cps: 0.5, sentBps: 400, receivedBps: 100 }],
    ]);
  });

  it("without mutual TLS the TCP edge has no padlock", () => {
    const clock = new FakeClock();
    const store = new MetricsStore({ clock, targets: () => [] });
    const server = { ...BASE, reporter: "destination", connection_security_policy: "none", source_workload: "unknown", source_app: "unknown", source_version: "unknown", source_workload_namespace: "unknown" };
    store.ingest("b", 0, scrape([[server, 1, 10, 10]]));
    store.ingest("b", 5000, scrape([[server, 2, 20, 20]]));
    const g = buildGraph([], 60_000, store.tcpWindow(60_000));
    assert.deepEqual(g.edges.map((e) => [e.source, e.target, e.mtls, e.tcp?.cps]), [
      ["unknown", "service:redis.default.svc.cluster.local", false, 0.2],
      ["service:redis.default.svc.cluster.local", "version:default/redis/v1", false, 0.2],
    ]);
  });
});
