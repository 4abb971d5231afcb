// The global rate-limit service (`amime ratelimit-service`): Envoy's rate-limit protocol over
// gRPC, the reference service's config.yaml and fixed windows, counters in memory or Redis. Its
// own stage, outside the request path of any proxy: sidecars call it as an upstream.
export { loadRateLimitConfig, RateLimitConfigError, type RateLimitConfig } from "./config.ts";
export { RateLimiter, type StoreFailureMode } from "./decide.ts";
export { loadRlsPackage, protoDir, protoOptions, RLS_PROTO } from "./grpc-server.ts";
export { startRateLimitService, type RunningRateLimitService } from "./service.ts";
