// Amime with rate limiting on the path, beside the plain `amime` row (opt-in: --targets
// amime,amime-local-rl,amime-global-rl):
// - amime-local-rl: the `local_ratelimit` filter on the listener with a bucket never emptied
//   (the bound: CPU per request within 5 % of `amime`);
// - amime-global-rl: the `ratelimit` filter, a generic_key descriptor on every request, calling an
//   `amime ratelimit-service` (memory store, a limit never reached) over HTTP/2 through the
//   proxy's cluster: the p99 the RLS round trip adds (compare `added p99` with `amime`). The
//   service runs on the load generator's CPU; its CPU is not counted in the proxy's. The call's
//   timeout is 1 s, not Envoy's 20 ms, so a slow answer is measured rather than skipped.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, pinned, stopProcess, waitForPort } from "../lib/spawn.ts";
import { benchProxyConfig, startAmime } from "./amime.ts";
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

interface BenchConfig {
  listeners: { httpFilters?: unknown[] }[];
  routes: { virtualHosts: { routes: { rateLimits?: unknown }[] }[] }[];
  clusters: unknown[];
  endpoints: Record<string, unknown[]>;
}

export const amimeLocalRlTarget: TargetFactory = {
  name: "amime-local-rl",
  unavailable: () => null,
  start: (ctx) =>
    startAmime("amime-local-rl", ctx, ctx.root, (port) => {
      const c = benchProxyConfig(port, ctx.upstreamPort) as BenchConfig;
      const bucket = { maxTokens: 1_000_000_000, tokensPerFill: 1_000_000_000, fillIntervalMs: 1000 };
      c.listeners[0]!.httpFilters = [
        { name: "cors" },
        { name: "fault" },
        { name: "local_ratelimit", config: { statPrefix: "bench", tokenBucket: bucket, enabledPerMillion: 1_000_000, enforcedPerMillion: 1_000_000, responseHeadersToAdd: [], status: 429, xRateLimitHeaders: false } },
        { name: "router" },
      ];
      return c;
    }),
};

const RLS_CLUSTER = "outbound|8081||ratelimit.default.svc.cluster.local";

export const amimeGlobalRlTarget: TargetFactory = {
  name: "amime-global-rl",
  unavailable: () => null,
  async start(ctx: StartContext): Promise<RunningTarget> {
    const grpcPort = await freePort();
    const httpPort = await freePort();
    const file = join(ctx.workDir, "ratelimit-config.yaml");
    writeFileSync(file, "domain: bench\ndescriptors:\n  - key: generic_key\n    value: bench\n    rate_limit: { unit: second, requests_per_unit: 1000000000 }\n");
    const node = join(ctx.root, "node_modules", ".bin", "node");
    const rls = pinned("1", node, [join(ctx.root, "bin", "amime.js"), "ratelimit-service", "--config", file, "--store", "memory", "--host", "127.0.0.1", "--grpc-port", String(grpcPort), "--http-port", String(httpPort)], { cwd: ctx.root });
    rls.stdout?.resume();
    rls.stderr?.resume();
    try {
      await waitForPort(grpcPort);
    } catch (e) {
      await stopProcess(rls);
      throw new Error(`amime ratelimit-service did not start: ${(e as Error).message}`);
    }
    const proxy = await startAmime("amime-global-rl", ctx, ctx.root, (port) => {
      const c = benchProxyConfig(port, ctx.upstreamPort) as BenchConfig;
      c.listeners[0]!.httpFilters = [
        { name: "cors" },
        { name: "fault" },
        { name: "ratelimit", config: { domain: "bench", stage: 0, failureModeDeny: false, timeoutMs: 1000, rateLimitedAsResourceExhausted: false, xRateLimitHeaders: false, cluster: RLS_CLUSTER } },
        { name: "router" },
      ];
      for (const r of c.routes[0]!.virtualHosts[0]!.routes) r.rateLimits = { route: [{ stage: 0, actions: [{ kind: "generic_key", descriptorKey: "generic_key", descriptorValue: "bench" }] }], virtualHost: [] };
      c.clusters.push({
        name: RLS_CLUSTER,
        direction: "outbound",
        discovery: "eds",
        service: { host: "ratelimit.default.svc.cluster.local", name: "ratelimit", namespace: "default", port: 8081 },
        protocol: "http2",
        lb: { policy: "LEAST_REQUEST" },
        connectionPool: { maxConnections: 4294967295, connectTimeoutMs: 10000, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRequestsPerConnection: 0, maxRetries: 4294967295, idleTimeoutMs: 3600000, maxConnectionDurationMs: 0 },
      });
      c.endpoints[RLS_CLUSTER] = [{ address: "127.0.0.1", port: grpcPort, weight: 1, labels: { app: "ratelimit" }, healthy: true }];
      return c;
    }).catch(async (e: unknown) => {
      await stopProcess(rls);
      throw e;
    });
    return {
      ...proxy,
      stop: async () => {
        await proxy.stop();
        await stopProcess(rls);
      },
    };
  },
};
