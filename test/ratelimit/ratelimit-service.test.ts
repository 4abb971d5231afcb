// `amime ratelimit-service` as a real process, called by a real @grpc/grpc-js client over Envoy's
// rate-limit protocol: the task's ConfigMap unchanged, two replicas sharing counters in a real
// redis-server, and redis killed and restarted under them.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { unusedPort } from "../support/ports.ts";
import { waitFor } from "../support/wait.ts";
import { awayFromWindowEnd, RedisServer, RlsClient, startService, type ServiceProcess } from "./harness.ts";

const TASK = "test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml";

describe("amime ratelimit-service, counters in memory, the task's ConfigMap", () => {
  let svc: ServiceProcess;
  let client: RlsClient;
  before(async () => {
    svc = await startService(["--config", TASK, "--store", "memory"]);
    client = new RlsClient(svc.grpcPort);
  });
  after(async () => {
    client.close();
    assert.equal(await svc.stop(), 0);
  });

  // Each test's calls must fall in one minute's window: two calls ms apart straddled a minute's end
  // in about 1 run in 10,000, the three /json calls in 1 in 3,000.
  it("/productpage: 1 per minute, then OVER_LIMIT with the limit and the time to reset", async () => {
    await awayFromWindowEnd(60_000, 2_000);
    const first = await client.shouldRateLimit("ratelimit", [{ PATH: "/productpage" }]);
    assert.equal(first.overall_code, "OK");
    assert.deepEqual(first.statuses[0]!.current_limit, { name: "", requests_per_unit: 1, unit: "MINUTE" });
    const second = await client.shouldRateLimit("ratelimit", [{ PATH: "/productpage" }]);
    assert.equal(second.overall_code, "OVER_LIMIT");
    const s = second.statuses[0]!;
    assert.equal(s.code, "OVER_LIMIT");
    assert.equal(s.limit_remaining, 0);
    assert.ok(s.duration_until_reset!.seconds >= 1 && s.duration_until_reset!.seconds <= 60, JSON.stringify(s));
  });

  it("any other path: 100 per minute, the remaining count going down", async () => {
    await awayFromWindowEnd(60_000, 2_000);
    const a = await client.shouldRateLimit("ratelimit", [{ PATH: "/reviews" }]);
    const b = await client.shouldRateLimit("ratelimit", [{ PATH: "/reviews" }]);
    assert.deepEqual([a.statuses[0]!.limit_remaining, b.statuses[0]!.limit_remaining], [99, 98]);
  });

  it("an unknown domain or descriptor is not limited; an empty domain is refused", async () => {
    const r = await client.shouldRateLimit("other", [{ PATH: "/productpage" }]);
    assert.equal(r.overall_code, "OK");
    assert.deepEqual(r.statuses.map((s) => [s.code, s.current_limit, s.limit_remaining, s.duration_until_reset]), [["OK", null, 0, null]]);
    await assert.rejects(client.shouldRateLimit("", [{ PATH: "/" }]), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /domain must not be empty/.test(e.details));
  });

  it("the HTTP port: /healthcheck, and /json answering 429 over the limit", async () => {
    await awayFromWindowEnd(60_000, 2_000);
    const base = `http://127.0.0.1:${svc.httpPort}`;
    const health = await fetch(`${base}/healthcheck`);
    assert.deepEqual([health.status, await health.text()], [200, "OK"]);
    const body = JSON.stringify({ domain: "ratelimit", descriptors: [{ entries: [{ key: "PATH", value: "api" }] }] });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/json`, { method: "POST", body })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    const bad = await fetch(`${base}/json`, { method: "POST", body: "{" });
    assert.equal(bad.status, 400);
  });
});

describe("amime ratelimit-service, replicas sharing counters in redis-server", () => {
  let redis: RedisServer;
  let dir: string;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let ca: RlsClient;
  let cb: RlsClient;
  before(async () => {
    redis = new RedisServer(await unusedPort());
    await redis.start();
    dir = await mkdtemp(join(tmpdir(), "amime-rls-"));
    // A day window: a window boundary in the middle of the test would only come at midnight UTC.
    const config = join(dir, "config.yaml");
    await writeFile(config, "domain: shared\ndescriptors:\n  - key: user\n    rate_limit: {unit: day, requests_per_unit: 7}\n");
    const store = `redis://127.0.0.1:${redis.port}`;
    a = await startService(["--config", config, "--store", store, "--failure-mode", "error"]);
    b = await startService(["--config", config, "--store", store, "--failure-mode", "allow"]);
    ca = new RlsClient(a.grpcPort);
    cb = new RlsClient(b.grpcPort);
    // Both replicas connected to Redis before counting.
    await waitFor(async () => (await ca.shouldRateLimit("shared", [{ user: "warmup" }])) && (await cb.shouldRateLimit("shared", [{ user: "warmup" }])), { what: "both replicas to answer from redis" });
  });
  after(async () => {
    ca.close();
    cb.close();
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);
    await redis.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it("two replicas let through exactly the limit between them, then both answer OVER_LIMIT", async () => {
    // A day's window (7 per day): not across midnight UTC.
    await awayFromWindowEnd(86_400_000, 10_000);
    const codes: string[] = [];
    const calls = [];
    for (let i = 0; i < 12; i++) calls.push((i % 2 === 0 ? ca : cb).shouldRateLimit("shared", [{ user: "alice" }]));
    for (const r of await Promise.all(calls)) codes.push(r.overall_code);
    assert.equal(codes.filter((c) => c === "OK").length, 7, codes.join(","));
    assert.equal((await ca.shouldRateLimit("shared", [{ user: "alice" }])).overall_code, "OVER_LIMIT");
    assert.equal((await cb.shouldRateLimit("shared", [{ user: "alice" }])).overall_code, "OVER_LIMIT");
    // The reference service's key scheme and expiry: domain_key_value_<window start>, one window.
    const day = Math.floor(Date.now() / 1000 / 86400) * 86400;
    assert.equal(await redis.cli("GET", `shared_user_alice_${day}`), "14");
    const ttl = Number(await redis.cli("TTL", `shared_user_alice_${day}`));
    assert.ok(ttl > 0 && ttl <= 86400, String(ttl));
  });

  it("redis killed: each replica answers per its failure mode and keeps running; redis back: counting resumes", async () => {
    await redis.kill();
    await waitFor(
      () =>
        ca.shouldRateLimit("shared", [{ user: "bob" }]).then(
          () => false,
          (e: grpc.ServiceError) => e.code === grpc.status.UNAVAILABLE,
        ),
      { what: "replica A (failure mode error) to answer UNAVAILABLE" },
    );
    const allowed = await cb.shouldRateLimit("shared", [{ user: "bob" }]);
    const s = allowed.statuses[0]!;
    assert.deepEqual([s.code, s.current_limit, s.limit_remaining], ["OK", { name: "", requests_per_unit: 7, unit: "DAY" }, 7]);
    assert.equal(a.child.exitCode, null);
    assert.equal(b.child.exitCode, null);
    // The service logs the outage when its Redis client reports it, which may come after the answer.
    await waitFor(() => /counter store unavailable/.test(a.stderr()), { what: "replica A to log that its counter store is unavailable" });

    await redis.start();
    // A fresh redis (no persistence): bob's counter starts again at 1 on both replicas.
    const back = await waitFor(() => ca.shouldRateLimit("shared", [{ user: "bob" }]).catch(() => undefined), { what: "replica A to answer again once redis is back" });
    assert.equal(back.statuses[0]!.limit_remaining, 6);
    const fromB = await waitFor(async () => {
      const r = await cb.shouldRateLimit("shared", [{ user: "bob" }]);
      return r.statuses[0]!.limit_remaining < 7 ? r : undefined;
    }, { what: "replica B to count in redis again" });
    assert.equal(fromB.statuses[0]!.limit_remaining, 5);
  });
});
