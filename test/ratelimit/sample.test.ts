// samples/ratelimit under `amime up` beside bookinfo and samples/redis: the Service `ratelimit`
// (8080 http, 8081 gRPC, as Istio's sample) gives every sidecar the cluster the task's EnvoyFilter
// names, every proxy is SYNCED, and the service answers through the mesh — over HTTP (/json) and
// over gRPC (Envoy's protocol, a @grpc/grpc-js client going through its own sidecar) — with its
// counters in Redis, itself reached through the ratelimit sidecar's TCP listener.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { ProxyStatus } from "../../src/model/wire.ts";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, get, randomPortBase, ROOT, UpRun } from "../e2e/up-harness.ts";

const RLS_CLUSTER = "outbound|8081||ratelimit.default.svc.cluster.local";
const PRODUCTPAGE = JSON.stringify({ domain: "ratelimit", descriptors: [{ entries: [{ key: "PATH", value: "/productpage" }] }] });

describe("samples/ratelimit in the local mesh", { timeout: 150_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const json = async <T,>(path: string): Promise<T> => JSON.parse((await get(`${state.controlPlane}${path}`, run.auth())).body) as T;

  before(async () => {
    run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "-f", join(ROOT, "samples", "ratelimit"), "-f", join(ROOT, "samples", "redis"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(60_000);
  });
  after(() => run.cleanup());

  it("every proxy is connected and SYNCED", async () => {
    const expected = state.instances.length + 1;
    let last: ProxyStatus[] = [];
    const synced = async (): Promise<boolean> => {
      last = await json<ProxyStatus[]>("/api/v1/proxies");
      return last.length === expected && last.every((p) => p.connected && p.state === "SYNCED");
    };
    assert.ok(await eventually(synced, 20_000), JSON.stringify(last.map((p) => [p.node, p.state, p.error ?? ""])));
  });

  it("sidecars have the task's cluster, HTTP/2 upstream for the grpc-port", async () => {
    const inst = state.instances.find((i) => i.workload === "productpage-v1")!;
    const config = await json<ProxyConfig>(`/api/v1/proxies/${encodeURIComponent(`sidecar~${inst.name}.default`)}/config`);
    const cluster = config.clusters.find((c) => c.name === RLS_CLUSTER);
    assert.ok(cluster, config.clusters.map((c) => c.name).join(", "));
    assert.equal(cluster.protocol, "http2");
  });

  it("answers over HTTP through the mesh: /productpage 1 per minute, counted in Redis", () => {
    // Three requests in one curl, so they fall in one window (windowed() checks it).
    const args = ["-s", "-m", "10", "-w", "\\n%{http_code}\\n", "-XPOST", "http://ratelimit:8080/json", "-d", PRODUCTPAGE];
    const r = run.amime(["exec", "curl", "--", "curl", ...args, "--next", ...args, "--next", ...args]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const answers = [0, 1, 2].map((i) => ({ body: JSON.parse(lines[i * 2]!) as { overallCode: string; statuses: { durationUntilReset: string }[] }, status: lines[i * 2 + 1] }));
    const expected = windowed(answers.map((a) => parseInt(a.body.statuses[0]!.durationUntilReset, 10)), 1);
    assert.deepEqual(answers.map((a) => a.body.overallCode), expected, r.stdout);
    assert.deepEqual(answers.map((a) => a.status), expected.map((c) => (c === "OK" ? "200" : "429")));
    const keys = run.amime(["exec", "curl", "--", "sh", "-c", 'redis-cli -h "$REDIS_SERVICE_HOST" -p "$REDIS_SERVICE_PORT" --scan --pattern "ratelimit_PATH_/productpage_*"']);
    assert.match(keys.stdout, /^ratelimit_PATH_\/productpage_\d+$/m, keys.stderr);
  });

  it("answers Envoy's gRPC protocol through the mesh: PATH=api 2 per minute", () => {
    const r = run.amime(["exec", "curl", "--", "node", join(ROOT, "test", "ratelimit", "rls-call.ts"), "ratelimit:8081", "3", "ratelimit", "PATH=api"]);
    assert.equal(r.status, 0, r.stderr);
    const answers = JSON.parse(r.stdout) as { overall_code: string; statuses: { duration_until_reset: { seconds: number } }[] }[];
    assert.deepEqual(answers.map((a) => a.overall_code), windowed(answers.map((a) => a.statuses[0]!.duration_until_reset.seconds), 2), r.stdout);
  });
});

/**
 * What fixed windows answer to calls made one after the other, given each call's time to reset:
 * a reset that grows means a new window began between two calls (rare: the calls take
 * milliseconds, the window a minute), which starts the count again. The counter is fresh at first.
 */
function windowed(untilReset: number[], limit: number): string[] {
  let count = 0;
  return untilReset.map((s, i) => {
    if (i > 0 && s > untilReset[i - 1]!) count = 0;
    count++;
    return count <= limit ? "OK" : "OVER_LIMIT";
  });
}
