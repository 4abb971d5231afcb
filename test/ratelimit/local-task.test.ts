// Istio's local rate-limit task, unchanged, in `amime up` with bookinfo: `amime apply -f` the
// task's EnvoyFilter (step snip_local_rate_limit_2: 4 tokens per 60 s on productpage's inbound
// listener, x-local-rate-limit on the 429s) → productpage's sidecar lists local_ratelimit before
// router → 4 requests pass, the 5th is 429 local_rate_limited with the header, the counters are on
// the sidecar's /stats, and the other services are not limited. Then the task's per-route variant
// (step snip_local_rate_limit_3) replaces it and limits the same way through the route's bucket.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, get, randomPortBase, ROOT, UpRun } from "../e2e/up-harness.ts";

const TASK = join(ROOT, "test", "fixtures", "istio", "istio.io-tasks", "policy-enforcement", "rate-limit.yaml");
/** The task's local EnvoyFilter document, as the task gives it. */
const LOCAL = readFileSync(TASK, "utf8").split(/\n---\n/).find((d) => d.includes("snip_local_rate_limit_2"))!;
/** Its alternative (same name): a filter without a bucket, the bucket on the routes of vhost inbound|http|9080. */
const PER_ROUTE = readFileSync(TASK, "utf8").split(/\n---\n/).find((d) => d.includes("snip_local_rate_limit_3"))!;

describe("Istio's local rate-limit task in amime up", { timeout: 150_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const json = async <T,>(path: string): Promise<T> => JSON.parse((await get(`${state.controlPlane}${path}`, run.auth())).body) as T;
  const curl = (url: string, n: number): string[] => {
    const one = ["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code} %header{x-local-rate-limit}\\n", url];
    const args = [...one];
    for (let i = 1; i < n; i++) args.push("--next", ...one);
    const r = run.amime(["exec", "curl", "--", "curl", ...args]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split("\n").map((l) => l.trimEnd());
  };

  before(async () => {
    run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(60_000);
  });
  after(() => run.cleanup());

  it("amime apply takes the task's EnvoyFilter without a warning; productpage's inbound listener lists local_ratelimit before router with the task's bucket", async () => {
    const file = join(run.cwd, "local-rate-limit.yaml");
    writeFileSync(file, LOCAL);
    const applied = run.amime(["apply", "-f", file]);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    assert.doesNotMatch(applied.stdout + applied.stderr, /AMM1013/);
    const inst = state.instances.find((i) => i.workload === "productpage-v1")!;
    const id = encodeURIComponent(`sidecar~${inst.name}.default`);
    let filters: string[] = [];
    const pushed = async (): Promise<boolean> => {
      const config = await json<ProxyConfig>(`/api/v1/proxies/${id}/config`);
      const inbound = config.listeners.find((l) => l.direction === "inbound" && l.protocol === "http");
      filters = inbound?.httpFilters?.map((f) => f.name) ?? [];
      const proxies = await json<{ node: string; connected: boolean; state: string; ackedVersion?: string | null }[]>("/api/v1/proxies");
      return filters.includes("local_ratelimit") && proxies.every((p) => !p.connected || p.state === "SYNCED");
    };
    assert.ok(await eventually(pushed, 20_000), filters.join(", "));
    assert.deepEqual(filters.slice(-2), ["local_ratelimit", "router"]);
  });

  it("the 5th request within the minute to productpage is 429 with x-local-rate-limit: true", () => {
    // Five requests in one curl: milliseconds apart, well inside the 60 s fill interval.
    assert.deepEqual(curl("http://productpage:9080/productpage", 5), ["200", "200", "200", "200", "429 true"]);
    const r = run.amime(["exec", "curl", "--", "curl", "-s", "-m", "10", "-i", "http://productpage:9080/api/v1/products"]);
    assert.match(r.stdout, /^HTTP\/1\.1 429/);
    assert.match(r.stdout, /^x-envoy-ratelimited: true\r?$/m);
    assert.match(r.stdout, /\r?\n\r?\nlocal_rate_limited$/);
  });

  it("the other services are not limited", () => {
    assert.deepEqual(curl("http://reviews:9080/reviews/0", 6), Array(6).fill("200"));
    assert.deepEqual(curl("http://details:9080/details/0", 6), Array(6).fill("200"));
  });

  it("productpage's sidecar counts on /stats: 6 enabled, 4 ok, 2 rate_limited and enforced", async () => {
    const inst = state.instances.find((i) => i.workload === "productpage-v1")!;
    const body = (await get(`http://127.0.0.1:${inst.adminPort}/stats`)).body;
    const stats = Object.fromEntries(body.trim().split("\n").map((l) => [l.slice(0, l.lastIndexOf(":")), Number(l.slice(l.lastIndexOf(":") + 1))]));
    assert.deepEqual(["enabled", "ok", "rate_limited", "enforced"].map((k) => stats[`http_local_rate_limiter.http_local_rate_limit.${k}`]), [6, 4, 2, 2], body);
  });

  it("the task's per-route variant replaces it: the bucket on productpage's inbound route limits the same", async () => {
    const inst = state.instances.find((i) => i.workload === "productpage-v1")!;
    const id = encodeURIComponent(`sidecar~${inst.name}.default`);
    const file = join(run.cwd, "local-rate-limit-route.yaml");
    writeFileSync(file, PER_ROUTE);
    const applied = run.amime(["apply", "-f", file]);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    let routes: string[] = [];
    const pushed = async (): Promise<boolean> => {
      const config = await json<ProxyConfig>(`/api/v1/proxies/${id}/config`);
      routes = config.routes.find((r) => r.name === "inbound")?.virtualHosts.flatMap((v) => v.routes).filter((r) => r.filterConfig?.local_ratelimit !== undefined).map((r) => r.name) ?? [];
      const proxies = await json<{ connected: boolean; state: string }[]>("/api/v1/proxies");
      return routes.length > 0 && proxies.every((p) => !p.connected || p.state === "SYNCED");
    };
    assert.ok(await eventually(pushed, 20_000), routes.join(", "));
    assert.deepEqual(routes, ["inbound|9080||"]);
    // A changed config (the bucket now on the route) starts a full bucket (docs/rate-limiting.md).
    assert.deepEqual(curl("http://productpage:9080/productpage", 5), ["200", "200", "200", "200", "429 true"]);
  });
});
