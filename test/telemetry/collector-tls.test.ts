// Spans to collectors over OTLP/gRPC and over TLS: a sidecar exports to a grpc-js TraceService
// (plaintext, then TLS) and to an https server taking Zipkin v2 JSON and OTLP/HTTP protobuf, all
// decoded with the OTLP definitions; certificates come from the openssl CLI (a CA and a server
// certificate for collector.internal). Without the CA the handshake fails and the spans are
// dropped and counted, so TLS is really verified.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { seededRandom } from "../../src/core/random.ts";
import type { TracingConfig } from "../../src/model/proxy-config.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { makePki, type Pki } from "../protocols/pki.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape } from "./two-hop.ts";

const dir = fileURLToPath(new URL("../../src/proxy/telemetry/otlp/proto/", import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(dir, target);
root.loadSync(["opentelemetry/proto/collector/trace/v1/trace_service.proto", "opentelemetry/proto/collector/logs/v1/logs_service.proto", "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"]);
const Req = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
/** OTLP services: the Export method's path and request/response types. */
const SERVICES = {
  trace: ["/opentelemetry.proto.collector.trace.v1.TraceService/Export", "opentelemetry.proto.collector.trace.v1.ExportTrace"],
  logs: ["/opentelemetry.proto.collector.logs.v1.LogsService/Export", "opentelemetry.proto.collector.logs.v1.ExportLogs"],
  metrics: ["/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", "opentelemetry.proto.collector.metrics.v1.ExportMetrics"],
} as const;

interface Decoded {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: { name: string; kind: string; traceId: string }[] }[] }[];
}
const spanNames = (d: Decoded[]): string[] => d.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans.map((x) => `${x.kind} ${x.name}`))));

async function startGrpc(tls: { cert: string; key: string } | null, service: keyof typeof SERVICES = "trace"): Promise<{ port: number; got: Decoded[]; metadata: grpc.Metadata[]; close(): void }> {
  const server = new grpc.Server();
  const got: Decoded[] = [];
  const metadata: grpc.Metadata[] = [];
  const [path, prefix] = SERVICES[service];
  const Req = root.lookupType(`${prefix}ServiceRequest`);
  const Res = root.lookupType(`${prefix}ServiceResponse`);
  const def: grpc.ServiceDefinition = {
    Export: {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: unknown) => Buffer.from(Req.encode(v as protobuf.Message).finish()),
      requestDeserialize: (b: Buffer) => Req.toObject(Req.decode(b), { longs: String, enums: String, bytes: String }),
      responseSerialize: (v: unknown) => Buffer.from(Res.encode(Res.fromObject(v as Record<string, unknown>)).finish()),
      responseDeserialize: (b: Buffer) => Res.decode(b),
    },
  };
  server.addService(def, {
    Export: (call: grpc.ServerUnaryCall<Decoded, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      got.push(call.request);
      metadata.push(call.metadata);
      cb(null, {});
    },
  });
  const creds = tls === null ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }]);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (e, p) => (e ? reject(e) : resolve(p))));
  return { port, got, metadata, close: () => server.forceShutdown() };
}

describe("trace export over OTLP/gRPC and TLS", () => {
  let app: Upstream;
  let pki: Pki;
  let https: Server;
  let httpsPort: number;
  const posts: { path: string; body: unknown }[] = [];

  before(async () => {
    app = await startUpstream("reviews");
    pki = await makePki({ collector: ["collector.internal"] });
    const leaf = pki.leaf("collector");
    https = createServer({ cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        posts.push({ path: req.url ?? "", body: req.url === "/v1/traces" ? Req.toObject(Req.decode(raw), { enums: String, bytes: String }) : JSON.parse(raw.toString()) });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => https.listen(0, "127.0.0.1", r));
    httpsPort = (https.address() as AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((r) => https?.close(() => r()));
    https?.closeAllConnections();
    pki?.cleanup();
    await app?.close();
  });

  /** One sidecar exporting every span with `tracing`; sends one request, flushes, returns its metrics text. */
  async function oneRequest(tracing: Omit<TracingConfig, "samplingPercentage" | "format"> & { format?: TracingConfig["format"] }): Promise<string> {
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, tracing: { format: "otlp", samplingPercentage: 100, ...tracing } }), { random: seededRandom(7) });
    try {
      const r = await send(s.ports().outbound as number, { host: "reviews:9080", path: "/r" });
      assert.equal(r.status, 200);
      await s.telemetry?.flush();
      return await scrape(s);
    } finally {
      await s.close(100);
    }
  }

  it("OTLP/gRPC, plaintext: TraceService/Export with the provider's headers as metadata", async () => {
    const c = await startGrpc(null);
    try {
      await oneRequest({ endpoint: `http://127.0.0.1:${c.port}`, grpc: true, encoding: "protobuf", headers: [{ name: "x-token", value: "t1" }] });
      assert.deepEqual(spanNames(c.got), ["SPAN_KIND_CLIENT reviews.default.svc.cluster.local:9080/*"]);
      assert.equal(c.got[0]?.resourceSpans[0]?.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue, "productpage.default");
      assert.deepEqual(c.metadata[0]?.get("x-token"), ["t1"]);
    } finally {
      c.close();
    }
  });

  it("OTLP/gRPC over TLS with the CA file and SNI; without the CA the spans are dropped and counted", async () => {
    const c = await startGrpc(pki.leaf("collector"));
    try {
      await oneRequest({ endpoint: `https://127.0.0.1:${c.port}`, grpc: true, tls: { caCertificates: pki.ca, sni: "collector.internal" } });
      assert.deepEqual(spanNames(c.got), ["SPAN_KIND_CLIENT reviews.default.svc.cluster.local:9080/*"]);
      const text = await oneRequest({ endpoint: `https://127.0.0.1:${c.port}`, grpc: true, tls: { sni: "collector.internal" } });
      assert.equal(c.got.length, 1, "an unverified collector got nothing");
      assert.match(text, /^amime_tracing_spans_dropped_total 1$/m);
      assert.match(text, /^amime_tracing_export_failures_total [1-9]/m);
    } finally {
      c.close();
    }
  });

  it("OTLP logs (envoyOtelAls) and OTLP/gRPC metrics over TLS with the CA file", async () => {
    const logs = await startGrpc(pki.leaf("collector"), "logs");
    const metrics = await startGrpc(pki.leaf("collector"), "metrics");
    const tls = { caCertificates: pki.ca, sni: "collector.internal" };
    const s = await Sidecar.start(
      clientConfig(app.port, {
        metricsPort: 0,
        accessLog: { format: "text", path: "", otel: { target: `127.0.0.1:${logs.port}`, logName: "tls-log", tls } },
        metricsExport: [{ kind: "otlp", protocol: "grpc", target: `127.0.0.1:${metrics.port}`, intervalMs: 60_000, tls }],
      }),
      { random: seededRandom(8) },
    );
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/logged" });
      await s.telemetry?.flush();
      const body = JSON.stringify(logs.got);
      assert.match(body, /GET \/logged HTTP\/1\.1/);
      assert.match(JSON.stringify(metrics.got), /istio_requests_total/);
    } finally {
      await s.close(100);
      logs.close();
      metrics.close();
    }
  });

  it("Zipkin v2 JSON and OTLP/HTTP protobuf over https with the CA file", async () => {
    await oneRequest({ format: "zipkin", endpoint: `https://127.0.0.1:${httpsPort}/api/v2/spans`, tls: { caCertificates: pki.ca, sni: "collector.internal" } });
    await oneRequest({ endpoint: `https://127.0.0.1:${httpsPort}/v1/traces`, encoding: "protobuf", tls: { caCertificates: pki.ca, sni: "collector.internal" } });
    assert.deepEqual(
      posts.map((p) => p.path),
      ["/api/v2/spans", "/v1/traces"],
    );
    assert.equal((posts[0]?.body as { kind: string }[])[0]?.kind, "CLIENT");
    assert.deepEqual(spanNames([posts[1]?.body as Decoded]), ["SPAN_KIND_CLIENT reviews.default.svc.cluster.local:9080/*"]);
    const refused = await oneRequest({ format: "zipkin", endpoint: `https://127.0.0.1:${httpsPort}/api/v2/spans`, tls: { sni: "collector.internal" } });
    assert.equal(posts.length, 2);
    assert.match(refused, /^amime_tracing_spans_dropped_total 1$/m);
  });
});
