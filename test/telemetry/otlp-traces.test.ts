// OTLP/HTTP protobuf trace export end to end: two sidecars send their spans to a separate receiver
// process that decodes them with the OTLP protobuf definitions; the collector headers (a literal
// and one read from the proxy's environment) arrive; a collector answering 503 gets the batch
// again after a backoff, and the retry is counted.
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { after, before, describe, it } from "node:test";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { startReceiver } from "./otlp-receiver-process.ts";
import { scrape, startTwoHop } from "./two-hop.ts";

interface KV {
  key: string;
  value: { stringValue?: string };
}
interface PSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KV[];
  status?: { code?: string };
}
interface PRequest {
  resourceSpans: { resource: { attributes: KV[] }; scopeSpans: { scope: { name: string }; spans: PSpan[] }[] }[];
}

const hex = (b64: string | undefined): string => Buffer.from(b64 ?? "", "base64").toString("hex");

describe("OTLP/HTTP protobuf trace export to a receiver process", () => {
  let app: Upstream;
  before(async () => {
    app = await startUpstream("reviews");
    process.env.AMIME_TEST_OTLP_TOKEN = "token-from-env";
  });
  after(async () => {
    delete process.env.AMIME_TEST_OTLP_TOKEN;
    await app.close();
  });

  it("sends an ExportTraceServiceRequest the official definitions decode, with the provider's headers", async () => {
    const rx = await startReceiver();
    const headers = [{ name: "x-api-key", value: "k1" }, { name: "lightstep-access-token", envName: "AMIME_TEST_OTLP_TOKEN" }, { name: "x-unset", envName: "AMIME_TEST_UNSET_VAR" }];
    const two = await startTwoHop(app.port, { metricsPort: 0, tracing: { endpoint: `http://127.0.0.1:${rx.port}/v1/traces`, format: "otlp", encoding: "protobuf", headers, samplingPercentage: 100 } }, 11);
    try {
      const r = await send(two.clientPort, { host: "reviews:9080", path: "/otlp-proto", headers: { "x-request-id": "rid-otlp" } });
      assert.equal(r.status, 200);
      const tp = String((app.requests.at(-1) as { headers: IncomingMessage["headers"] }).headers.traceparent);
      const traceId = tp.split("-")[1];
      await two.client.telemetry?.flush();
      await two.server.telemetry?.flush();
      await rx.until(2);
      for (const got of rx.received) {
        assert.equal(got.path, "/v1/traces");
        assert.equal(got.error, undefined);
        assert.equal(got.contentType, "application/x-protobuf");
        assert.equal(got.headers?.["x-api-key"], "k1");
        assert.equal(got.headers?.["lightstep-access-token"], "token-from-env");
        assert.equal(got.headers?.["x-unset"], undefined);
      }
      const spans = rx.received.flatMap((g) => (g.body as PRequest).resourceSpans.map((rs) => ({ service: rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue, scope: rs.scopeSpans[0]?.scope.name, span: rs.scopeSpans[0]?.spans[0] as PSpan })));
      const client = spans.find((s) => s.service === "productpage.default");
      const server = spans.find((s) => s.service === "reviews.default");
      assert.ok(client && server, JSON.stringify(spans));
      assert.equal(client.scope, "amime-proxy");
      assert.equal(client.span.kind, "SPAN_KIND_CLIENT");
      assert.equal(server.span.kind, "SPAN_KIND_SERVER");
      assert.equal(hex(client.span.traceId), traceId);
      assert.equal(hex(server.span.traceId), traceId);
      assert.equal(hex(client.span.spanId).length, 16);
      assert.equal(hex(server.span.parentSpanId), hex(client.span.spanId));
      assert.equal(client.span.name, "reviews.default.svc.cluster.local:9080/*");
      assert.match(client.span.startTimeUnixNano, /^\d{19}$/);
      assert.ok(BigInt(client.span.endTimeUnixNano) >= BigInt(client.span.startTimeUnixNano));
      const attr = (s: PSpan, k: string): string | undefined => s.attributes.find((a) => a.key === k)?.value.stringValue;
      assert.equal(attr(client.span, "http.status_code"), "200");
      assert.equal(attr(client.span, "guid:x-request-id"), "rid-otlp");
      assert.equal(two.client.telemetry?.exporter?.batches.sent, 1);
    } finally {
      await two.close();
      await rx.close();
    }
  });

  it("retries a batch the collector answers 503 to, and counts the retry", async () => {
    const rx = await startReceiver(1);
    const two = await startTwoHop(app.port, { metricsPort: 0, tracing: { endpoint: `http://127.0.0.1:${rx.port}/v1/traces`, format: "otlp", encoding: "protobuf", samplingPercentage: 100 } }, 12);
    try {
      await send(two.clientPort, { host: "reviews:9080", path: "/retry" });
      await two.client.telemetry?.flush();
      await rx.until(2);
      assert.equal(rx.received[0]?.refused, true);
      assert.equal(rx.received[1]?.contentType, "application/x-protobuf");
      const ex = two.client.telemetry?.exporter;
      assert.equal(ex?.batches.sent, 1);
      assert.equal(ex?.batches.retries, 1);
      assert.equal(ex?.batches.dropped, 0);
      const text = await scrape(two.client);
      assert.match(text, /^amime_tracing_export_retries_total 1$/m);
      assert.match(text, /^amime_tracing_export_failures_total 1$/m);
    } finally {
      await two.close();
      await rx.close();
    }
  });
});
