// Where Envoy's rate-limit protocol is described: the vendored .proto files (proto/, Envoy's field
// numbers) and the options every side loads them with — the service (grpc-server.ts), its tests'
// clients and the sidecar's `ratelimit` filter. Imports nothing heavy, so the sidecar can name the
// files without loading gRPC. The directory is found on first use: reading `import.meta` at load
// would load Node's `initialize_import_meta` into every sidecar, rate limit or not (issue 15).
import { fileURLToPath } from "node:url";

export const RLS_PROTO = "envoy/service/ratelimit/v3/rls.proto";

/** The directory of the vendored .proto files. */
export function protoDir(): string {
  return fileURLToPath(new URL("./proto/", import.meta.url));
}

/** Options both the service and its clients (tests, the proxy's filter) load the protocol with. */
export function protoOptions(): { keepCase: boolean; longs: NumberConstructor; enums: StringConstructor; defaults: boolean; oneofs: boolean; includeDirs: string[] } {
  return { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [protoDir()] };
}
