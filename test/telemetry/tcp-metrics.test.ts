// Istio TCP metrics end to end: nc through an outbound TCP listener (client sidecar, reporter
// source) and an inbound one (server sidecar, reporter destination) to an echo upstream; both
// /stats/prometheus scrapes carry istio_tcp_connections_opened/closed_total and
// istio_tcp_sent/received_bytes_total with Istio's labels; the control plane's metrics store
// scrapes both and its graph (what the dashboard draws) has the TCP edges with their bytes.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { parsePrometheusText, type Sample } from "../../src/control-plane/telemetry/prometheus-parse.ts";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { closeServer, listen, run } from "../protocols/harness.ts";
import { fetchText, scrape } from "./two-hop.ts";
import { startCollector } from "./collector.ts";
import { waitFor } from "../support/wait.ts";

const DB = { host: "db.default.svc.cluster.local", name: "db", namespace: "default", port: 5432 };

function find(text: string, name: string, labels: Record<string, string>): Sample[] {
  const out: Sample[] = [];
  for (const f of parsePrometheusText(text).values()) for (const s of f.samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) out.push(s);
  return out;
}

function node(workload: string, app: string): Record<string, unknown> {
  return { id: `sidecar~${workload}-0.default`, kind: "sidecar", workload, namespace: "default", labels: { app, version: "v1" }, serviceAccount: app, trustDomain: "cluster.local", ip: "127.0.0.1" };
}

describe("Istio TCP metrics", () => {
  let echo: Server;
  let server: Sidecar;
  let client: Sidecar;
  let clientPort = 0;

  before(async () => {
    // Echo: answers "echo:<what it got>" once the client half-closes.
    echo = createServer({ allowHalfOpen: true }, (s: Socket) => {
      const chunks: Buffer[] = [];
      s.on("data", (b: Buffer) => chunks.push(b));
      s.on("end", () => s.end(`echo:${Buffer.concat(chunks).toString()}`));
      s.on("error", () => undefined);
    });
    const echoPort = await listen(echo);
    const conn = { lb: { policy: "ROUND_ROBIN" }, connectionPool: {}, discovery: "eds", protocol: "tcp" };
    server = await Sidecar.start(
      {
        version: "1",
        node: node("db-v1", "db"),
        listeners: [{ name: "inbound|5432", direction: "inbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster: "inbound|5432||", weight: 100 }] } }],
        routes: [],
        clusters: [{ name: "inbound|5432||", direction: "inbound", service: DB, ...conn }],
        endpoints: { "inbound|5432||": [{ address: "127.0.0.1", port: echoPort, weight: 1, labels: {}, healthy: true }] },
        telemetry: { metricsPort: 0 },
      },
      { random: seededRandom(1) },
    );
    const cluster = `outbound|5432||${DB.host}`;
    client = await Sidecar.start(
      {
        version: "1",
        node: node("app-v1", "app"),
        listeners: [{ name: `outbound_tcp|5432|${DB.host}`, direction: "outbound", address: "127.0.0.1", port: 0, protocol: "tcp", tcpRoute: { clusters: [{ cluster, weight: 100 }] } }],
        routes: [],
        clusters: [{ name: cluster, direction: "outbound", service: DB, ...conn }],
        endpoints: { [cluster]: [{ address: "127.0.0.1", port: server.ports()["inbound|5432"], weight: 1, labels: { app: "db", version: "v1" }, healthy: true, workload: "db-v1-0" }] },
        telemetry: { metricsPort: 0 },
      },
      { random: seededRandom(2) },
    );
    clientPort = client.ports()[`outbound_tcp|5432|${DB.host}`]!;
  });

  after(async () => {
    await client.close(100);
    await server.close(100);
    await closeServer(echo);
  });

  it("nc through both sidecars: opened, closed and bytes both ways, labelled per side", async () => {
    for (const msg of ["hello", "tcp metrics"]) {
      const r = await run("nc", ["-N", "127.0.0.1", String(clientPort)], msg);
      assert.equal(r.stdout, `echo:${msg}`);
    }
    const sent = "hello".length + "tcp metrics".length;
    const got = sent + 2 * "echo:".length;
    // Closing is seen a moment after nc exits: poll the scrape until both closes are counted.
    const text = await waitFor(async () => {
      const t = await scrape(client);
      return find(t, "istio_tcp_connections_closed_total", {})[0]?.value === 2 ? t : null;
    }, { what: "the client sidecar to count both connections closed" });
    const src = { reporter: "source", source_workload: "app-v1", source_app: "app", destination_workload: "db-v1-0", destination_service: DB.host, destination_service_name: "db", destination_app: "db", request_protocol: "tcp", connection_security_policy: "unknown" };
    assert.equal(find(text, "istio_tcp_connections_opened_total", src)[0]?.value, 2);
    assert.equal(find(text, "istio_tcp_connections_closed_total", src)[0]?.value, 2);
    assert.equal(find(text, "istio_tcp_received_bytes_total", src)[0]?.value, sent);
    assert.equal(find(text, "istio_tcp_sent_bytes_total", src)[0]?.value, got);
    assert.equal(find(text, "istio_tcp_sent_bytes_total", {}).length, 1);
    assert.equal(find(text, "istio_tcp_sent_bytes_total", src)[0]?.labels.response_code, undefined);

    const stext = await waitFor(async () => {
      const t = await scrape(server);
      return find(t, "istio_tcp_connections_closed_total", {})[0]?.value === 2 ? t : null;
    }, { what: "the server sidecar to count both connections closed" });
    const dst = { reporter: "destination", source_workload: "unknown", destination_workload: "db-v1", destination_app: "db", destination_service: DB.host, request_protocol: "tcp", connection_security_policy: "none" };
    assert.equal(find(stext, "istio_tcp_connections_opened_total", dst)[0]?.value, 2);
    assert.equal(find(stext, "istio_tcp_connections_closed_total", dst)[0]?.value, 2);
    assert.equal(find(stext, "istio_tcp_received_bytes_total", dst)[0]?.value, sent);
    assert.equal(find(stext, "istio_tcp_sent_bytes_total", dst)[0]?.value, got);
  });

  it("the control plane's graph has TCP edges with connections and bytes", async () => {
    const cp = await startCollector({ scrapeIntervalMs: 60_000 });
    try {
      cp.service.addTarget("app-v1-0", `http://127.0.0.1:${client.telemetry?.metricsPort}/stats/prometheus`);
      cp.service.addTarget("db-v1-0", `http://127.0.0.1:${server.telemetry?.metricsPort}/stats/prometheus`);
      await cp.service.metrics.scrapeOnce();
      const closed = async (s: Sidecar): Promise<number> => find(await scrape(s), "istio_tcp_connections_closed_total", {})[0]?.value ?? 0;
      const [c0, s0] = [await closed(client), await closed(server)];
      const msg = "graph".repeat(200);
      for (let i = 0; i < 3; i++) assert.equal((await run("nc", ["-N", "127.0.0.1", String(clientPort)], msg)).stdout, `echo:${msg}`);
      await waitFor(async () => ((await closed(client)) === c0 + 3 && (await closed(server)) === s0 + 3 ? true : null), { what: "both sidecars to count the three connections closed" });
      await cp.service.metrics.scrapeOnce();
      const g = JSON.parse((await fetchText(`${cp.url}/api/v1/telemetry/graph?window=5m`)).body) as { edges: { source: string; target: string; protocol: string; mtls: boolean; rps: number; tcp?: { connections: number; cps: number; sentBps: number; receivedBps: number } }[] };
      const svc = `service:${DB.host}`;
      const call = g.edges.find((e) => e.source === "version:default/app/v1" && e.target === svc);
      const serve = g.edges.find((e) => e.source === svc && e.target === "version:default/db/v1");
      for (const e of [call, serve]) {
        assert.equal(e?.protocol, "tcp");
        assert.equal(e?.mtls, false);
        assert.equal(e?.rps, 0);
        assert.equal(e?.tcp?.connections, 3);
        assert.ok((e?.tcp?.receivedBps ?? 0) > 0 && (e?.tcp?.sentBps ?? 0) > (e?.tcp?.receivedBps ?? 0), JSON.stringify(e));
      }
    } finally {
      await cp.close();
    }
  });
});
