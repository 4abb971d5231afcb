// Amime's sidecar, run alone with `amime proxy --config FILE`, routing, counters and x-request-id on.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, pinned, stopProcess, waitForPort } from "../lib/spawn.ts";
import type { RunningTarget, StartContext, TargetFactory } from "./target.ts";

export function benchProxyConfig(listenPort: number, upstreamPort: number): unknown {
  const cluster = "outbound|80||bench.default.svc.cluster.local";
  const forward = (clusterName: string) => ({
    kind: "forward",
    clusters: [{ cluster: clusterName, weight: 100 }],
    timeoutMs: 0,
    retry: { attempts: 2, perTryTimeoutMs: 0, retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"], retriableStatusCodes: [503], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: true },
    mirrors: [],
  });
  const origin = { resource: "bench", ruleIndex: 0, matchIndex: 0 };
  return {
    version: "bench",
    node: { id: "sidecar~bench", kind: "sidecar", workload: "bench", namespace: "default", labels: { app: "bench" }, serviceAccount: "default", trustDomain: "cluster.local", ip: "127.0.0.1" },
    listeners: [{ name: "outbound", direction: "outbound", address: "127.0.0.1", port: listenPort, protocol: "http", routeConfigName: "outbound" }],
    routes: [
      {
        name: "outbound",
        virtualHosts: [
          {
            name: "bench.default.svc.cluster.local:80",
            domains: ["bench", "bench:80", "bench.default.svc.cluster.local", "bench.default.svc.cluster.local:80"],
            routes: [
              // A header rule first, so every request pays for a real (non-trivial) route lookup.
              { name: "canary", match: { headers: [{ name: "x-canary", match: { exact: "yes" }, invert: false }], queryParams: [], ignoreUriCase: false }, action: forward(cluster), origin },
              { name: "default", match: { uri: { prefix: "/" }, headers: [], queryParams: [], ignoreUriCase: false }, action: forward(cluster), origin },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: cluster,
        direction: "outbound",
        discovery: "eds",
        service: { host: "bench.default.svc.cluster.local", name: "bench", namespace: "default", port: 80 },
        protocol: "http1",
        lb: { policy: "LEAST_REQUEST" },
        connectionPool: { maxConnections: 4294967295, connectTimeoutMs: 10000, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRequestsPerConnection: 0, maxRetries: 4294967295, idleTimeoutMs: 3600000, maxConnectionDurationMs: 0 },
      },
    ],
    endpoints: { [cluster]: [{ address: "127.0.0.1", port: upstreamPort, weight: 1, labels: { app: "bench" }, healthy: true }] },
  };
}

export const amimeTarget: TargetFactory = amimeFrom("amime", null);

/**
 * The Amime proxy from the checkout at `dir` (null: this one). `--compare DIR` uses it to run a
 * second Amime (e.g. a git worktree at the commit before a change) in the same run: A/B
 * comparisons on this VM only hold within one run.
 */
export function amimeFrom(name: string, dir: string | null): TargetFactory {
  return {
    name,
    unavailable: () => null,
    start: (ctx: StartContext) => startAmime(name, ctx, dir ?? ctx.root),
  };
}

async function startAmime(name: string, ctx: StartContext, codeRoot: string): Promise<RunningTarget> {
  const port = await freePort();
  const file = join(ctx.workDir, `${name}-proxy.json`);
  writeFileSync(file, JSON.stringify(benchProxyConfig(port, ctx.upstreamPort), null, 2));
  const node = join(ctx.root, "node_modules", ".bin", "node");
  // V8/Node flags for one proxy of an A/B run (e.g. AMIME_BENCH_CMP_NODE_ARGS=--max-semi-space-size=32
  // with --compare .): the flag's effect measured in the same interleaved rounds.
  const envArgs = process.env[name === "amime-cmp" ? "AMIME_BENCH_CMP_NODE_ARGS" : "AMIME_BENCH_NODE_ARGS"]?.split(" ").filter((a) => a !== "") ?? [];
  const child = pinned(ctx.cpu, node, [...(ctx.nodeArgs ?? []), ...envArgs, join(codeRoot, "bin", "amime.js"), "proxy", "--config", file, "--admin-port", "0"], { cwd: codeRoot });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  try {
    await waitForPort(port);
  } catch (e) {
    await stopProcess(child);
    throw new Error(`amime proxy did not start: ${(e as Error).message}\n${stderr.slice(0, 2000)}`);
  }
  const pid = child.pid ?? 0;
  return { name, port, authority: "bench", pids: () => [pid], stop: () => stopProcess(child) };
}
