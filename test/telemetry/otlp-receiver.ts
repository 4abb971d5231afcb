// An OTLP/HTTP receiver run as its own process (node otlp-receiver.ts [failFirst] [port]): it decodes
// each POST to /v1/traces, /v1/logs or /v1/metrics with the OTLP protobuf definitions (application/x-protobuf)
// or as JSON, and prints one JSON line per request on stdout: {path, headers, contentType, body}.
// The first `failFirst` POSTs get 503 (OTLP's "retry later"). It prints `listening PORT` first.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

const dir = fileURLToPath(new URL("../../src/proxy/telemetry/otlp/proto/", import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(dir, target);
root.loadSync(["opentelemetry/proto/collector/trace/v1/trace_service.proto", "opentelemetry/proto/collector/logs/v1/logs_service.proto", "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"]);
const types: Record<string, protobuf.Type> = {
  "/v1/traces": root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
  "/v1/logs": root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"),
  "/v1/metrics": root.lookupType("opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"),
};
let failFirst = Number(process.argv[2] ?? 0);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (failFirst > 0) {
      failFirst--;
      process.stdout.write(`${JSON.stringify({ path: req.url, refused: true })}\n`);
      res.writeHead(503).end();
      return;
    }
    const raw = Buffer.concat(chunks);
    const type = types[req.url ?? ""];
    const contentType = String(req.headers["content-type"]);
    let body: unknown;
    try {
      if (type === undefined) throw new Error(`no OTLP path ${req.url}`);
      body = contentType === "application/x-protobuf" ? type.toObject(type.decode(raw), { longs: String, enums: String, bytes: String }) : JSON.parse(raw.toString());
    } catch (e) {
      res.writeHead(400).end((e as Error).message);
      process.stdout.write(`${JSON.stringify({ path: req.url, error: (e as Error).message })}\n`);
      return;
    }
    process.stdout.write(`${JSON.stringify({ path: req.url, headers: req.headers, contentType, body })}\n`);
    res.writeHead(200, { "content-type": contentType }).end();
  });
});
server.listen(Number(process.argv[3] ?? 0), "127.0.0.1", () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
