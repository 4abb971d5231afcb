// Where Envoy's rate-limit protocol is described: the vendored .proto files (proto/, Envoy's field
// numbers) and the options every side loads them with — the service (grpc-server.ts), its tests'
// clients and the sidecar's `ratelimit` filter. Imports nothing heavy, so the sidecar can name the
// files without loading gRPC.
import { fileURLToPath } from "node:url";

export const PROTO_DIR = fileURLToPath(new URL("./proto/", import.meta.url));
export const RLS_PROTO = "envoy/service/ratelimit/v3/rls.proto";

/** Options both the service and its clients (tests, the proxy's filter) load the protocol with. */
export const PROTO_OPTIONS = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };
