// Amime's RateLimit kind in `amime up` with bookinfo and samples/ratelimit (which carries
// ratelimit-kind.yaml): the sample's local rule — 5 GET /api/ calls a minute per x-user value in
// productpage's sidecar — gives alice 5 × 200 then 429, while bob and requests without x-user pass;
// then `amime apply` of a global RateLimit (2 per minute per x-user on /productpage, counted by
// the sample's real `amime ratelimit-service` under the reserved domain amime-ratelimit with the
// limit carried on the descriptor) gives carol 2 × 200 then 429, dave still 200. `amime explain`
// from another workload names the rule a request falls under at productpage's inbound listener.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ProxyConfig } from "../../src/model/proxy-config.ts";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, get, randomPortBase, ROOT, UpRun } from "../e2e/up-harness.ts";

/** Fixed windows of a minute: start a burst only when it cannot straddle a window's end. */
async function awayFromMinuteEnd(): Promise<void> {
  const s = new Date().getUTCSeconds();
  if (s < 50) return;
  await new Promise((r) => setTimeout(r, (61 - s) * 1000));
}

const GLOBAL = `apiVersion: amime.dev/v1alpha1
kind: RateLimit
metadata: {name: pages-global, namespace: default}
spec:
  service: productpage.default.svc.cluster.local
  rules:
  - match: {uri: {prefix: /productpage}}
    limit: {requests: 2, per: minute}
    key: {header: x-user}
    scope: global
`;

describe("the RateLimit kind in amime up", { timeout: 180_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const json = async <T,>(path: string): Promise<T> => JSON.parse((await get(`${state.controlPlane}${path}`, run.auth())).body) as T;
  /** n requests in one curl; each line `<status> <x-ratelimit-limit>`. */
  const curl = (url: string, n: number, user?: string): string[] => {
    const one = ["-s", "-m", "10", "-o", "/dev/null", ...(user === undefined ? [] : ["-H", `x-user: ${user}`]), "-w", "%{http_code} %header{x-ratelimit-limit}\\n", url];
    const args = [...one];
    for (let i = 1; i < n; i++) args.push("--next", ...one);
    const r = run.amime(["exec", "curl", "--", "curl", ...args]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split("\n").map((l) => l.trimEnd());
  };
  const productpageConfig = async (): Promise<ProxyConfig> => {
    const inst = state.instances.find((i) => i.workload === "productpage-v1")!;
    return json<ProxyConfig>(`/api/v1/proxies/${encodeURIComponent(`sidecar~${inst.name}.default`)}/config`);
  };
  const pushed = (test: (filters: { name: string; config?: unknown }[]) => boolean) => async (): Promise<boolean> => {
    const inbound = (await productpageConfig()).listeners.find((l) => l.direction === "inbound" && l.protocol === "http");
    const proxies = await json<{ connected: boolean; state: string }[]>("/api/v1/proxies");
    return test(inbound?.httpFilters ?? []) && proxies.every((p) => !p.connected || p.state === "SYNCED");
  };

  before(async () => {
    run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "-f", join(ROOT, "samples", "ratelimit"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(90_000);
  });
  after(() => run.cleanup());

  it("the sample's local rule: productpage's inbound listener runs local_ratelimit and ratelimit before router; alice 5 × 200 then 429, bob and no x-user pass", async () => {
    let names: string[] = [];
    assert.ok(await eventually(pushed((f) => (names = f.map((x) => x.name)).includes("local_ratelimit")), 30_000), names.join(", "));
    assert.deepEqual(names.slice(-3), ["local_ratelimit", "ratelimit", "router"]);
    // x-ratelimit-limit on the responses that pass too (Envoy's DRAFT_VERSION_03 headers).
    assert.deepEqual(curl("http://productpage:9080/api/v1/products", 6, "alice"), [...Array(5).fill("200 5"), "429 5"]);
    assert.deepEqual(curl("http://productpage:9080/api/v1/products", 1, "bob"), ["200 5"]);
    assert.deepEqual(curl("http://productpage:9080/api/v1/products", 7), Array(7).fill("200"));
    const r = run.amime(["exec", "curl", "--", "curl", "-s", "-m", "10", "-i", "-H", "x-user: alice", "http://productpage:9080/api/v1/products"]);
    assert.match(r.stdout, /^HTTP\/1\.1 429/);
    assert.match(r.stdout, /^x-envoy-ratelimited: true\r?$/m);
    const inst = state.instances.find((i) => i.workload === "productpage-v1")!;
    const stats = (await get(`http://127.0.0.1:${inst.adminPort}/stats`)).body;
    assert.match(stats, /^amime_ratelimit\.http_local_rate_limit\.rate_limited: 2$/m, stats);
  });

  it("amime explain from a client shows the RateLimit rule the request falls under at productpage's inbound listener", () => {
    const client = state.instances.find((i) => i.workload.startsWith("reviews"))!.workload;
    const r = run.amime(["explain", client, "-H", "x-user: alice", "http://productpage:9080/api/v1/products"]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^Rate limits at the destination sidecar~productpage-v1[^\n]*:$/m, r.stdout);
    assert.match(r.stdout, /^ {2}RateLimit rule default\/productpage-per-user\/api-per-user \(local\): 5 per 1m, key x-user="alice"$/m, r.stdout);
    const none = run.amime(["explain", client, "http://productpage:9080/productpage"]);
    assert.match(none.stdout, /^ {2}no RateLimit rule applies to this request$/m, none.stdout);
  });

  it("a global RateLimit applied: the sample's amime ratelimit-service counts 2 per minute per x-user on /productpage", async () => {
    const file = join(run.cwd, "pages-global.yaml");
    writeFileSync(file, GLOBAL);
    const applied = run.amime(["apply", "-f", file]);
    assert.equal(applied.status, 0, applied.stdout + applied.stderr);
    const twoRules = (f: { name: string; config?: unknown }[]): boolean => f.some((x) => x.name === "ratelimit" && ((x.config as { rateLimits?: unknown[] }).rateLimits?.length ?? 0) === 2);
    assert.ok(await eventually(pushed(twoRules), 30_000), "the applied rule reaches productpage's ratelimit filter");
    await awayFromMinuteEnd();
    assert.deepEqual(curl("http://productpage:9080/productpage", 3, "carol").map((l) => l.split(" ")[0]), ["200", "200", "429"]);
    assert.deepEqual(curl("http://productpage:9080/productpage", 1, "dave").map((l) => l.split(" ")[0]), ["200"]);
    const passed = run.amime(["exec", "curl", "--", "curl", "-s", "-m", "10", "-o", "/dev/null", "-D", "-", "-H", "x-user: erin", "http://productpage:9080/productpage"]);
    assert.match(passed.stdout, /^HTTP\/1\.1 200/, passed.stdout);
    assert.match(passed.stdout, /^x-ratelimit-remaining: 1\r?$/m, passed.stdout);
    const r = run.amime(["exec", "curl", "--", "curl", "-s", "-m", "10", "-o", "/dev/null", "-D", "-", "-H", "x-user: carol", "http://productpage:9080/productpage"]);
    assert.match(r.stdout, /^HTTP\/1\.1 429/, r.stdout + r.stderr);
    assert.match(r.stdout, /^x-envoy-ratelimited: true\r?$/m);
    assert.match(r.stdout, /^x-ratelimit-limit: 2, 2;w=60/m);
  });
});
