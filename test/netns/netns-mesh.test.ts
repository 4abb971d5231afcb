// `amime up --runtime netns` end to end, as root: bookinfo, a Redis (TCP) and a gRPC service, each
// instance in its own network namespace with its traffic captured by iptables. Apps get no proxy
// variables; `amime exec` runs inside a pod; Istio's routing samples give the local runtime's
// results; a pod cannot get around its sidecar (tried); Ctrl-C leaves no namespace, link, route
// or /etc/netns file behind. Skipped when not root (CI runs as root).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, get, postYaml, randomPortBase, ROOT, survivors, UpRun, type HttpResult } from "../e2e/up-harness.ts";
import { netnsLeftovers, notRoot } from "./netns-harness.ts";

const NETWORKING = join(ROOT, "test", "fixtures", "istio", "samples", "bookinfo", "networking");
const GRPC = join(ROOT, "test", "e2e", "fixtures", "grpc");
const yaml = (name: string): string => readFileSync(join(NETWORKING, name), "utf8");

describe("amime up --runtime netns", { skip: notRoot(), timeout: 170_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const page = (user?: string): Promise<HttpResult> => get(`${state.ingress}/productpage`, user ? { cookie: `session=${user}` } : {});
  const applyText = async (text: string): Promise<void> => {
    const r = await postYaml(`${state.controlPlane}/api/v1/apply`, text, run.auth());
    assert.equal(r.status, 200, r.body);
  };
  const synced = async (): Promise<boolean> => {
    const status = JSON.parse((await get(`${state.controlPlane}/api/v1/status`, run.auth())).body) as { version: string };
    const proxies = (JSON.parse((await get(`${state.controlPlane}/api/v1/proxies`, run.auth())).body) as { connected: boolean; state: string; sentVersion: string | null }[]).filter((p) => p.connected);
    return proxies.some((p) => p.sentVersion === status.version) && proxies.every((p) => p.state === "SYNCED");
  };
  const inCurl = (script: string): { status: number | null; stdout: string; stderr: string } => run.amime(["exec", "curl", "--", "sh", "-c", script]);

  before(async () => {
    run = new UpRun(["--runtime", "netns", "-f", join(ROOT, "samples", "bookinfo"), "-f", join(ROOT, "samples", "redis"), "-f", GRPC, "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(90_000);
  });
  after(async () => {
    run.cleanup();
    // Whatever a failed test left: the state file is gone with cleanup(), so use the run id.
    if (state?.network) spawnSync(join(ROOT, "node_modules", ".bin", "node"), [join(ROOT, "bin", "amime.js"), "down"], { cwd: run.cwd });
  });

  it("every instance is ready in its own pod, with its own IP", () => {
    assert.equal(state.runtime, "netns");
    const ips = state.instances.map((i) => i.ip);
    assert.equal(new Set(ips).size, state.instances.length);
    for (const i of state.instances) {
      assert.match(i.ip ?? "", /^10\.\d+\.1\.\d+$/);
      assert.ok(spawnSync("ip", ["netns", "exec", i.netns ?? "", "true"]).status === 0, `${i.netns} exists`);
    }
    assert.match(run.output, /10\/10 instances ready/);
  });

  it("bookinfo works with no proxy variables: the ingress page, and curl by service name from a pod", async () => {
    const r = await page();
    assert.equal(r.status, 200, r.body.slice(0, 300));
    assert.doesNotMatch(r.body, /Error fetching product (details|reviews)/i);
    const productpage = state.instances.find((i) => i.workload === "productpage-v1")!;
    const env = readFileSync(`/proc/${childOf(productpage.pid!)}/environ`, "utf8").split("\0");
    assert.deepEqual(env.filter((e) => /^(https?_proxy|no_proxy|all_proxy|node_use_env_proxy)=/i.test(e)), []);
    assert.ok(env.includes("HOST=0.0.0.0"));
    // Kubernetes' variables: a TCP service's VIP (its redirects route it), an HTTP service's name
    // (an allocated VIP is not among its route domains).
    assert.ok(env.some((e) => /^REDIS_SERVICE_HOST=10\.\d+\.1(2[89]|[3-9]\d|\d{3})\.\d+$/.test(e)), env.filter((e) => e.includes("SERVICE")).join(" "));
    assert.ok(env.includes("REDIS_SERVICE_PORT=6379"));
    assert.ok(env.includes("REVIEWS_SERVICE_HOST=reviews"));
    // The proxy variables themselves (grep -ci proxy also counted npm's npm_config_noproxy, which
    // `npm test` exports and which is npm's own setting, not a proxy for the app).
    const c = inCurl("env | grep -ciE '^(https?|no|all)_proxy=|^node_use_env_proxy='; curl -s -m 10 http://productpage:9080/api/v1/products");
    assert.equal(c.status, 0, c.stderr);
    assert.match(c.stdout, /^0\n/);
    assert.match(c.stdout, /Comedy of Errors/);
  });

  it("a request through the ingress is traced across the pods' sidecars to the control plane's collector", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    assert.equal((await get(`${state.ingress}/productpage`, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` })).status, 200);
    let services: string[] = [];
    const traced = async (): Promise<boolean> => {
      const t = await get(`${state.controlPlane}/api/v2/trace/${traceId}`, run.auth());
      if (t.status !== 200) return false;
      services = [...new Set((JSON.parse(t.body) as { localEndpoint?: { serviceName?: string } }[]).map((s) => s.localEndpoint?.serviceName ?? ""))].sort();
      return ["details", "productpage", "reviews"].every((n) => services.some((s) => s.startsWith(n)));
    };
    assert.ok(await eventually(traced, 15_000), services.join(","));
  });

  it("redis-cli reaches the Redis workload by name through the mesh (per-VIP:port redirect to its sidecar)", () => {
    const r = inCurl("redis-cli -h redis -p 6379 ping && getent hosts redis");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^PONG\n10\.\d+\.1(2[89]|[3-9]\d|\d{3})\.\d+\s+redis redis\.default/);
  });

  it("a @grpc/grpc-js client reaches greeter:50051 by name with no proxy variables; the call is in its sidecar's metrics", async () => {
    const r = run.amime(["exec", "client", "--", "node", join(GRPC, "greet.ts"), "greeter:50051", "mesh", "missing"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").map((l) => JSON.parse(l) as unknown), [{ message: "hello mesh from greeter-0" }, { code: 5, details: "no such name" }]);
    const client = state.instances.find((i) => i.name === "client-0")!;
    const stats = await (await fetch(`http://${client.ip}:15000/stats/prometheus`)).text();
    assert.match(stats, /istio_requests_total\{[^}]*destination_service="greeter\.default\.svc\.cluster\.local"[^}]*request_protocol="grpc"[^}]*\} [1-9]/);
  });

  it("routing samples as in the local runtime: test-v2 (jason → v2), abort, delay, 90/10", { timeout: 90_000 }, async () => {
    await applyText(yaml("virtual-service-all-v1.yaml"));
    await applyText(yaml("virtual-service-reviews-test-v2.yaml"));
    assert.ok(await eventually(synced, 10_000));
    assert.ok(await eventually(async () => reviewsVersion((await page("jason")).body) === "v2", 10_000));
    for (let i = 0; i < 5; i++) assert.equal(reviewsVersion((await page()).body), "v1");
    await applyText(yaml("virtual-service-ratings-test-abort.yaml"));
    assert.ok(await eventually(synced, 10_000));
    assert.match((await page("jason")).body, /Ratings service is currently unavailable/);
    await applyText(yaml("virtual-service-ratings-test-delay.yaml"));
    assert.ok(await eventually(synced, 10_000));
    assert.match((await get(`${state.ingress}/productpage`, { cookie: "session=jason" }, 20_000)).body, /Sorry, product reviews are currently unavailable for this book/);
    await applyText(yaml("virtual-service-reviews-90-10.yaml"));
    assert.ok(await eventually(synced, 10_000));
    const counts = { v1: 0, v2: 0, v3: 0, none: 0 };
    for (let i = 0; i < 200; i++) counts[reviewsVersion((await page()).body)]++;
    // The sidecar's own random draws: Binomial(200, 0.1) falls outside [3, 43] with probability
    // 6.6 × 10⁻⁷ (exact sum; the 3σ band [8, 33] it replaces failed 1 run in 495). It catches
    // weights dropped or swapped (50/50 passes with probability 10⁻¹⁶); see test/e2e/bookinfo.test.ts.
    assert.equal(counts.none + counts.v3, 0, JSON.stringify(counts));
    assert.ok(counts.v2 >= 3 && counts.v2 <= 43, JSON.stringify(counts));
  });

  it("a pod cannot get around its sidecar: direct pod IPs are captured, policy still applies, rules and UID cannot be changed", async () => {
    const redis = state.instances.find((i) => i.workload === "redis")!;
    const ratings = state.instances.find((i) => i.workload === "ratings-v1")!;
    // Raw TCP straight to the Redis pod lands in the caller's own sidecar (15001), never in redis.
    const raw = inCurl(`redis-cli -h ${redis.ip} -p 6379 ping`);
    assert.doesNotMatch(raw.stdout, /PONG/);
    // HTTP straight to a pod IP goes through both sidecars: a DENY policy on ratings holds.
    await applyText("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-ratings}\nspec:\n  selector: {matchLabels: {app: ratings}}\n  action: DENY\n  rules: [{}]\n");
    assert.ok(await eventually(synced, 10_000));
    assert.ok(await eventually(async () => inCurl(`curl -s -m 5 -o /dev/null -w '%{http_code}' http://${ratings.ip}:9080/ratings/0`).stdout === "403", 10_000));
    assert.equal(inCurl("curl -s -m 5 -o /dev/null -w '%{http_code}' http://ratings:9080/ratings/0").stdout, "403");
    // Any other port of a pod is refused outright, even to a process that is not captured.
    const other = inCurl(`curl -s -m 5 -o /dev/null -w '%{http_code}' http://${ratings.ip}:15000/stats`);
    assert.notEqual(other.stdout, "200");
    // No IPv6 in a pod: a link-local fe80:: address is no way around the IPv4 rules.
    assert.equal(inCurl("cat /proc/sys/net/ipv6/conf/all/disable_ipv6").stdout.trim(), "1");
    // The app has no capabilities: it can neither flush the rules nor become the proxy's UID.
    assert.notEqual(inCurl("iptables -t nat -F").status, 0);
    assert.notEqual(inCurl("setpriv --reuid=1337 --regid=1337 --clear-groups true").status, 0);
    assert.match(spawnSync("ip", ["netns", "exec", redis.netns!, "iptables", "-t", "nat", "-S", "AMIME_OUTPUT"], { encoding: "utf8" }).stdout, /--uid-owner 1337 -j RETURN/);
  });

  it("Ctrl-C stops everything and removes every namespace, link, route and /etc/netns file", async () => {
    const s = run.state();
    assert.equal(await run.stop("SIGINT"), 0, run.output);
    assert.deepEqual(survivors(run.groups), []);
    assert.deepEqual(await netnsLeftovers(s.network!.runId, s.network!.subnet), []);
    assert.equal(existsSync(join(run.cwd, ".amime", "up.json")), false);
  });
});

/** Which reviews version rendered the page (as test/e2e/bookinfo.test.ts reads it). */
function reviewsVersion(page: string): "v1" | "v2" | "v3" | "none" {
  if (!/Book Reviews/i.test(page) || /Error fetching product reviews|reviews are currently unavailable/i.test(page)) return "none";
  if (/color="red"|color:\s*red|stars-red/i.test(page)) return "v3";
  if (/color="black"|color:\s*black|stars-black/i.test(page)) return "v2";
  return "v1";
}

/** The app itself under its guard (the guard's only child). */
function childOf(pid: number): number {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
  assert.ok(kids.length >= 1);
  return kids[0]!;
}
