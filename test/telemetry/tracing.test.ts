// Tracing end to end: two sidecars export Zipkin v2 spans to the embedded collector; the hop is one
// trace (CLIENT span at the caller, SERVER span at the callee, parent links by span id), the app
// sees the server span as its parent in traceparent and x-b3-*, an upstream sampling decision is
// honoured, and the collector's query API finds it all. OTLP export is checked for shape.
import assert from "node:assert/strict";
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { startCollector, type Collector } from "./collector.ts";
import { fetchText, scrape, startTwoHop, type TwoHop } from "./two-hop.ts";
import { run } from "../protocols/harness.ts";

interface ZSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind: string;
  localEndpoint: { serviceName: string };
  tags: Record<string, string>;
  duration: number;
}

async function json<T>(url: string): Promise<T> {
  const r = await fetchText(url);
  assert.equal(r.status, 200, `${url}: ${r.body}`);
  return JSON.parse(r.body) as T;
}

describe("tracing through two sidecars into the Zipkin collector", () => {
  let app: Upstream;
  let collector: Collector;
  let mesh: TwoHop;

  before(async () => {
    app = await startUpstream("reviews");
    collector = await startCollector();
    mesh = await startTwoHop(app.port, { metricsPort: 0, tracing: { endpoint: `${collector.url}/api/v2/spans`, format: "zipkin", samplingPercentage: 100 } });
  });

  after(async () => {
    await mesh.close();
    await collector.close();
    await app.close();
  });

  async function flush(): Promise<void> {
    await mesh.client.telemetry?.flush();
    await mesh.server.telemetry?.flush();
  }

  it("records one trace with a CLIENT and a SERVER span and propagates the context to the app", async () => {
    const r = await send(mesh.clientPort, { host: "reviews:9080", path: "/reviews/7", headers: { "x-request-id": "req-abc" } });
    assert.equal(r.status, 200);
    const seen = app.requests.at(-1) as { headers: IncomingMessage["headers"] };
    const tp = String(seen.headers.traceparent);
    assert.match(tp, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, appParent] = tp.split("-") as [string, string, string];
    assert.equal(seen.headers["x-b3-traceid"], traceId);
    assert.equal(seen.headers["x-b3-spanid"], appParent);
    assert.equal(seen.headers["x-b3-sampled"], "1");
    assert.equal(seen.headers["x-request-id"], "req-abc");
    await flush();

    const trace = await json<ZSpan[]>(`${collector.url}/api/v2/trace/${traceId}`);
    assert.equal(trace.length, 2);
    const client = trace.find((s) => s.kind === "CLIENT") as ZSpan;
    const server = trace.find((s) => s.kind === "SERVER") as ZSpan;
    assert.equal(client.parentId, undefined);
    assert.equal(server.parentId, client.id);
    assert.equal(server.id, appParent);
    assert.equal(client.name, "reviews.default.svc.cluster.local:9080/*");
    assert.equal(client.localEndpoint.serviceName, "productpage.default");
    assert.equal(server.localEndpoint.serviceName, "reviews.default");
    assert.equal(client.tags["http.method"], "GET");
    assert.equal(client.tags["http.status_code"], "200");
    assert.equal(client.tags["guid:x-request-id"], "req-abc");
    assert.equal(client.tags.upstream_cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
    assert.equal(server.tags.node_id, "sidecar~reviews-v2-0.default");
    assert.equal(server.tags["istio.canonical_service"], "reviews");
    assert.ok(client.duration >= server.duration);

    assert.deepEqual(await json<string[]>(`${collector.url}/api/v2/services`), ["productpage.default", "reviews.default"]);
    assert.deepEqual(await json<string[]>(`${collector.url}/api/v2/spans?serviceName=reviews.default`), ["reviews.default.svc.cluster.local:9080/*"]);
    const found = await json<ZSpan[][]>(`${collector.url}/api/v2/traces?serviceName=reviews.default&spanName=reviews.default.svc.cluster.local:9080/*&limit=5`);
    assert.ok(found.some((t) => t[0]?.traceId === traceId));
    const none = await json<ZSpan[][]>(`${collector.url}/api/v2/traces?serviceName=reviews.default&minDuration=600000000`);
    assert.equal(none.length, 0);
  });

  it("continues an incoming B3 trace and honours an unsampled decision", async () => {
    const traceId = "463ac35c9f6413ad48485a3953bb6124";
    await send(mesh.clientPort, { host: "reviews:9080", path: "/b3", headers: { "x-b3-traceid": traceId, "x-b3-spanid": "a2fb4a1d1a96d312", "x-b3-sampled": "1" } });
    await flush();
    const trace = await json<ZSpan[]>(`${collector.url}/api/v2/trace/${traceId}`);
    assert.equal(trace.find((s) => s.kind === "CLIENT")?.parentId, "a2fb4a1d1a96d312");

    const before = collector.service.spans.accepted;
    await send(mesh.clientPort, { host: "reviews:9080", path: "/nosample", headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00" } });
    await flush();
    assert.equal(collector.service.spans.accepted, before);
    const seen = app.requests.at(-1) as { headers: IncomingMessage["headers"] };
    assert.match(String(seen.headers.traceparent), /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
    assert.equal(seen.headers["x-b3-sampled"], "0");
  });

  it("an h2c client's request carries the peer identity and the trace context over the HTTP/1.1 hop", async () => {
    const traceId = "5b8efff798038103d269b633813fc60c";
    const before = await scrape(mesh.server);
    const r = await run("curl", ["--silent", "--show-error", "--max-time", "5", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "-H", "Host: reviews:9080", "-H", `traceparent: 00-${traceId}-eee19b7ec3c1b174-01`, `http://127.0.0.1:${mesh.clientPort}/h2c`], "", 8000);
    assert.equal(r.stdout, "2 200", r.stderr);
    const seen = app.requests.at(-1) as { headers: IncomingMessage["headers"] };
    assert.match(String(seen.headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    assert.equal(seen.headers["x-b3-traceid"], traceId);
    assert.equal(seen.headers["x-b3-sampled"], "1");
    assert.equal(seen.headers["x-amime-peer"], undefined);
    await flush();
    const trace = await json<ZSpan[]>(`${collector.url}/api/v2/trace/${traceId}`);
    const client = trace.find((s) => s.kind === "CLIENT") as ZSpan;
    assert.equal(client.parentId, "eee19b7ec3c1b174");
    assert.equal(trace.find((s) => s.kind === "SERVER")?.parentId, client.id);
    // The server sidecar read the client's identity from the x-amime-peer line the client wrote.
    assert.notEqual(before, await scrape(mesh.server));
    assert.match(await scrape(mesh.server), /istio_requests_total\{[^}]*reporter="destination"[^}]*source_workload="productpage-v1"/);
  });

  it("rejects malformed span batches with 400", async () => {
    const post = (body: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const r = request(`${collector.url}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        r.on("error", reject);
        r.end(body);
      });
    assert.equal(await post("not json"), 400);
    assert.equal(await post('[{"traceId":"xyz","id":"0000000000000001"}]'), 400);
    assert.equal(await post('[{"traceId":"0000000000000001","id":"0000000000000002","name":"x"}]'), 202);
  });

  it("exports OTLP/HTTP JSON when asked to", async () => {
    const bodies: unknown[] = [];
    const otlp = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        bodies.push({ path: req.url, body: JSON.parse(Buffer.concat(chunks).toString()) });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => otlp.listen(0, "127.0.0.1", r));
    const port = (otlp.address() as AddressInfo).port;
    const two = await startTwoHop(app.port, { metricsPort: 0, tracing: { endpoint: `http://127.0.0.1:${port}/v1/traces`, format: "otlp", samplingPercentage: 100 } }, 9);
    try {
      await send(two.clientPort, { host: "reviews:9080", path: "/otlp" });
      await two.client.telemetry?.flush();
      assert.equal(bodies.length, 1);
      const b = bodies[0] as { path: string; body: { resourceSpans: { resource: { attributes: { key: string; value: { stringValue: string } }[] }; scopeSpans: { spans: { kind: number; traceId: string; startTimeUnixNano: string }[] }[] }[] } };
      assert.equal(b.path, "/v1/traces");
      const rs = b.body.resourceSpans[0];
      assert.deepEqual(rs?.resource.attributes[0], { key: "service.name", value: { stringValue: "productpage.default" } });
      const span = rs?.scopeSpans[0]?.spans[0];
      assert.equal(span?.kind, 3);
      assert.match(span?.traceId ?? "", /^[0-9a-f]{32}$/);
      assert.match(span?.startTimeUnixNano ?? "", /^\d{19}$/);
    } finally {
      await two.close();
      await new Promise<void>((r) => otlp.close(() => r()));
    }
  });
});
