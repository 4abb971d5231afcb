// Access logs as OTLP logs (Istio's envoyOtelAls): a real sidecar sends LogRecords by OTLP/gRPC
// LogsService/Export to a grpc-js server that decodes them with the OTLP protobuf definitions;
// the body is the access log line, the labels are attributes, the resource names the log and the
// proxy. A collector answering UNAVAILABLE gets the batch again after a backoff.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { seededRandom } from "../../src/core/random.ts";
import { Sidecar } from "../../src/proxy/sidecar.ts";
import { send, startUpstream, type Upstream } from "../proxy/sidecar-harness.ts";
import { clientConfig, scrape } from "./two-hop.ts";

const dir = fileURLToPath(new URL("../../src/proxy/telemetry/otlp/proto/", import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(dir, target);
root.loadSync("opentelemetry/proto/collector/logs/v1/logs_service.proto");
const Req = root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest");
const Res = root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse");

interface KV {
  key: string;
  value: Record<string, unknown>;
}
interface Decoded {
  resourceLogs: { resource: { attributes: KV[] }; scopeLogs: { scope: { name: string }; logRecords: { timeUnixNano: string; severityNumber: string; body: { stringValue: string }; attributes?: KV[] }[] }[] }[];
}

async function startLogsServer(failFirst: number): Promise<{ port: number; got: Decoded[]; calls: number; until(n: number): Promise<void>; close(): Promise<void> }> {
  const server = new grpc.Server();
  const state = { got: [] as Decoded[], calls: 0, waiters: [] as { n: number; r: () => void }[] };
  const def: grpc.ServiceDefinition = {
    Export: {
      path: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
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
      state.calls++;
      const settle = (): void => {
        for (const w of state.waiters.filter((x) => state.calls >= x.n)) {
          state.waiters.splice(state.waiters.indexOf(w), 1);
          w.r();
        }
      };
      if (failFirst > 0) {
        failFirst--;
        cb({ code: grpc.status.UNAVAILABLE, details: "try later" });
      } else {
        state.got.push(call.request);
        cb(null, {});
      }
      settle();
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    port,
    got: state.got,
    get calls() {
      return state.calls;
    },
    until: (n) => (state.calls >= n ? Promise.resolve() : new Promise((r) => state.waiters.push({ n, r }))),
    close: () => new Promise((r) => server.tryShutdown(() => r())),
  };
}

describe("access logs as OTLP logs over gRPC (envoyOtelAls)", () => {
  let app: Upstream;
  before(async () => {
    app = await startUpstream("reviews", (req, res) => {
      res.statusCode = req.url === "/teapot" ? 418 : 200;
      res.end("ok");
    });
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
