// gRPC load for bench/protocols.ts, with @grpc/grpc-js on both sides (generic service, raw bytes).
//   node bench/load/grpc.ts server                 → prints {"port":N}, serves /bench.Echo/Echo
//   node bench/load/grpc.ts client --port P [--authority A] [--seconds S] [--concurrency C]
//                                                  → closed-loop unary calls; prints JSON counts and latency
import * as grpc from "@grpc/grpc-js";
import { benchArgs } from "../lib/args.ts";

const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const SERVICE = {
  echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
};

const { values, positionals } = benchArgs({
  allowPositionals: true,
  options: { port: { type: "string" }, authority: { type: "string" }, seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "16" } },
});

if (positionals[0] === "server") {
  const server = new grpc.Server();
  server.addService(SERVICE, { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) => {
    if (e) throw e;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  process.on("SIGTERM", () => server.forceShutdown());
} else {
  const Client = grpc.makeGenericClientConstructor(SERVICE, "Echo");
  const opts = values.authority ? { "grpc.default_authority": values.authority } : {};
  const client = new Client(`127.0.0.1:${values.port}`, grpc.credentials.createInsecure(), opts) as unknown as grpc.Client & { echo: (b: Buffer, cb: (e: grpc.ServiceError | null) => void) => void };
  const until = Date.now() + Number(values.seconds) * 1000;
  const lat: number[] = [];
  let errors = 0;
  const payload = Buffer.from("hello from the bench client");
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      const t0 = performance.now();
      await new Promise<void>((resolve) =>
        client.echo(payload, (e) => {
          if (e) errors++;
          else lat.push(performance.now() - t0);
          resolve();
        }),
      );
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
  const secs = (Date.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  process.stdout.write(`${JSON.stringify({ calls: lat.length, errors, rps: lat.length / secs, p50_ms: q(0.5), p99_ms: q(0.99) })}\n`);
  client.close();
}
