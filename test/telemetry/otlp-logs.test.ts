// Access logs as OTLP logs (Istio's envoyOtelAls): a real sidecar sends LogRecords by OTLP/gRPC
// LogsService/Export to a grpc-js server that decodes them with the OTLP protobuf definitions;
// the body is the access log line, the labels are attributes, the resource names the log and the
// proxy. A collector answering UNAVAILABLE gets the batch again after a backoff.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { send, type Upstream } from "../proxy/sidecar-harness.ts";
import { startOtlpGrpcServer } from "./otlp-grpc-server.ts";
import { clientConfig, scrape, startStatusApp } from "./two-hop.ts";

interface KV {
  key: string;
  value: Record<string, unknown>;
}
interface Decoded {
  resourceLogs: { resource: { attributes: KV[] }; scopeLogs: { scope: { name: string }; logRecords: { timeUnixNano: string; severityNumber: string; body: { stringValue: string }; attributes?: KV[] }[] }[] }[];
}

const startLogsServer = (failFirst: number): ReturnType<typeof startOtlpGrpcServer<Decoded>> => startOtlpGrpcServer<Decoded>("logs", failFirst);

describe("access logs as OTLP logs over gRPC (envoyOtelAls)", () => {
  let app: Upstream;
  before(async () => {
    app = await startStatusApp();
  });
  after(() => app.close());

  it("exports each request as a LogRecord: the line as body, labels as attributes, the log and proxy as resource", async () => {
    const rx = await startLogsServer(0);
    const otel = { target: `127.0.0.1:${rx.port}`, logName: "otel_envoy_accesslog", attributes: { status: "%RESPONSE_CODE%", ua: "%REQ(USER-AGENT)%", route: "%REQ(:METHOD)% %REQ(:PATH)%" } };
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, accessLog: { format: "text", path: "", textFormat: "%REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE%\n", otel } }), { random: seededRandom(21) });
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/teapot", headers: { "user-agent": "ua-otel" } });
      await s.telemetry?.flush();
      await rx.until(1);
      const rl = rx.got[0]?.resourceLogs[0];
      const res = Object.fromEntries((rl?.resource.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
      assert.deepEqual(res, { log_name: "otel_envoy_accesslog", node_name: "sidecar~productpage-v1-0.default", cluster_name: "productpage.default" });
      assert.equal(rl?.scopeLogs[0]?.scope.name, "amime-proxy");
      const rec = rl?.scopeLogs[0]?.logRecords[0];
      assert.equal(rec?.body.stringValue, "GET /teapot 418");
      assert.equal(rec?.severityNumber, "SEVERITY_NUMBER_INFO");
      assert.match(rec?.timeUnixNano ?? "", /^\d{19}$/);
      const attrs = Object.fromEntries((rec?.attributes ?? []).map((a) => [a.key, a.value]));
      assert.deepEqual(attrs, { status: { intValue: "418" }, ua: { stringValue: "ua-otel" }, route: { stringValue: "GET /teapot" } });
      assert.match(await scrape(s), /^amime_access_log_written_total 1$/m);
    } finally {
      await s.close(100);
      await rx.close();
    }
  });

  it("retries a batch the collector answers UNAVAILABLE to, and counts it", async () => {
    const rx = await startLogsServer(1);
    const s = await Sidecar.start(clientConfig(app.port, { metricsPort: 0, accessLog: { format: "text", path: "", otel: { target: `127.0.0.1:${rx.port}`, logName: "l" } } }), { random: seededRandom(22) });
    try {
      await send(s.ports().outbound as number, { host: "reviews:9080", path: "/fine" });
      await s.telemetry?.flush();
      await rx.until(2);
      assert.equal(rx.got.length, 1);
      assert.match(rx.got[0]?.resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.body.stringValue ?? "", /^\[.*\] "GET \/fine HTTP\/1\.1" 200 /);
      const text = await scrape(s);
      assert.match(text, /^amime_access_log_export_retries_total 1$/m);
      assert.match(text, /^amime_access_log_written_total 1$/m);
      assert.match(text, /^amime_access_log_dropped_total 0$/m);
    } finally {
      await s.close(100);
      await rx.close();
    }
  });
});
