// A grpc-js server for one OTLP/gRPC service (LogsService or MetricsService) that decodes each
// Export request with the OTLP protobuf definitions, answers UNAVAILABLE to the first `failFirst`
// calls, and lets a test wait for a number of calls.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";

const dir = fileURLToPath(new URL("../../src/proxy/telemetry/otlp/proto/", import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(dir, target);
root.loadSync(["opentelemetry/proto/collector/logs/v1/logs_service.proto", "opentelemetry/proto/collector/metrics/v1/metrics_service.proto"]);

const SERVICES = {
  logs: { path: "/opentelemetry.proto.collector.logs.v1.LogsService/Export", req: "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest", res: "opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse" },
  metrics: { path: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", req: "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest", res: "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse" },
};

export interface OtlpGrpcServer<T> {
  port: number;
  /** Decoded requests the server accepted. */
  got: T[];
  /** Each call's metadata (the provider's headers). */
  metadata: grpc.Metadata[];
  /** Calls so far, refused ones included. */
  readonly calls: number;
  until(calls: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpGrpcServer<T>(signal: keyof typeof SERVICES, failFirst: number): Promise<OtlpGrpcServer<T>> {
  const svc = SERVICES[signal];
  const Req = root.lookupType(svc.req);
  const Res = root.lookupType(svc.res);
  const server = new grpc.Server();
  const state = { got: [] as T[], metadata: [] as grpc.Metadata[], calls: 0, waiters: [] as { n: number; r: () => void }[] };
  const def: grpc.ServiceDefinition = {
    Export: {
      path: svc.path,
      requestStream: false,
      responseStream: false,
      requestSerialize: (v: unknown) => Buffer.from(Req.encode(v as protobuf.Message).finish()),
      requestDeserialize: (b: Buffer) => Req.toObject(Req.decode(b), { longs: String, enums: String, bytes: String }),
      responseSerialize: (v: unknown) => Buffer.from(Res.encode(Res.fromObject(v as Record<string, unknown>)).finish()),
      responseDeserialize: (b: Buffer) => Res.decode(b),
    },
  };
  server.addService(def, {
    Export: (call: grpc.ServerUnaryCall<T, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      state.calls++;
      state.metadata.push(call.metadata);
      if (failFirst > 0) {
        failFirst--;
        cb({ code: grpc.status.UNAVAILABLE, details: "try later" });
      } else {
        state.got.push(call.request);
        cb(null, {});
      }
      for (const w of state.waiters.filter((x) => state.calls >= x.n)) {
        state.waiters.splice(state.waiters.indexOf(w), 1);
        w.r();
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    port,
    got: state.got,
    metadata: state.metadata,
    get calls() {
      return state.calls;
    },
    until: (n) => (state.calls >= n ? Promise.resolve() : new Promise((r) => state.waiters.push({ n, r }))),
    close: () => new Promise((r) => server.tryShutdown(() => r())),
  };
}
