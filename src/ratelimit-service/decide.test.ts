import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../testing/fake-clock.ts";
import { loadRateLimitConfig } from "./config.ts";
import { BadRequestError, RateLimiter, type StoreFailureMode } from "./decide.ts";
import { MemoryStore } from "./memory-store.ts";
import { StoreUnavailableError, type CounterStore } from "./store.ts";

const config = loadRateLimitConfig([
  {
    file: "c.yaml",
    text: `domain: ratelimit
descriptors:
  - key: PATH
    value: /productpage
    rate_limit: {unit: minute, requests_per_unit: 1}
  - key: PATH
    rate_limit: {unit: minute, requests_per_unit: 100, name: any-path}
  - key: shadow
    shadow_mode: true
    rate_limit: {unit: second, requests_per_unit: 1}
  - key: vip
    rate_limit: {unlimited: true}
  - key: tight
    rate_limit: {unit: second, requests_per_unit: 1, replaces: [{name: any-path}]}
`,
  },
]);

// 2026-01-01T00:00:00Z is a minute boundary: wall time = base + fake time.
function limiter(store?: CounterStore, failureMode: StoreFailureMode = "error") {
  const clock = new FakeClock(0, Date.UTC(2026, 0, 1));
  return { clock, rl: new RateLimiter({ config, store: store ?? new MemoryStore(clock), clock, failureMode }) };
}
const one = (key: string, value: string) => ({ domain: "ratelimit", hitsAddend: 0, descriptors: [{ entries: [{ key, value }] }] });

describe("ShouldRateLimit decisions", () => {
  it("1 per minute: the first passes with the limit, the second is OVER_LIMIT until the window ends", async () => {
    const { clock, rl } = limiter();
    clock.advance(15_000);
    assert.deepEqual(await rl.shouldRateLimit(one("PATH", "/productpage")), {
      overallCode: "OK",
      statuses: [{ code: "OK", currentLimit: { name: "", requestsPerUnit: 1, unit: "MINUTE" }, limitRemaining: 0, durationUntilReset: 45 }],
    });
    assert.deepEqual(await rl.shouldRateLimit(one("PATH", "/productpage")), {
      overallCode: "OVER_LIMIT",
      statuses: [{ code: "OVER_LIMIT", currentLimit: { name: "", requestsPerUnit: 1, unit: "MINUTE" }, limitRemaining: 0, durationUntilReset: 45 }],
    });
    clock.advance(44_999);
    assert.equal((await rl.shouldRateLimit(one("PATH", "/productpage"))).overallCode, "OVER_LIMIT");
    clock.advance(1);
    assert.equal((await rl.shouldRateLimit(one("PATH", "/productpage"))).overallCode, "OK");
  });

  it("counts each descriptor value apart and reports what remains", async () => {
    const { rl } = limiter();
    for (let i = 1; i <= 3; i++) assert.equal((await rl.shouldRateLimit(one("PATH", "/a"))).statuses[0]!.limitRemaining, 100 - i);
    assert.equal((await rl.shouldRateLimit(one("PATH", "/b"))).statuses[0]!.limitRemaining, 99);
  });

  it("hits_addend counts several hits at once (request-wide and per descriptor)", async () => {
    const { rl } = limiter();
    assert.equal((await rl.shouldRateLimit({ ...one("PATH", "/a"), hitsAddend: 100 })).overallCode, "OK");
    assert.equal((await rl.shouldRateLimit({ domain: "ratelimit", hitsAddend: 0, descriptors: [{ entries: [{ key: "PATH", value: "/b" }], hitsAddend: 101 }] })).overallCode, "OVER_LIMIT");
  });

  it("OVER_LIMIT overall when any descriptor is over; each status says which", async () => {
    const { rl } = limiter();
    await rl.shouldRateLimit(one("PATH", "/productpage"));
    const d = await rl.shouldRateLimit({ domain: "ratelimit", hitsAddend: 0, descriptors: [{ entries: [{ key: "PATH", value: "/x" }] }, { entries: [{ key: "PATH", value: "/productpage" }] }, { entries: [{ key: "nothing", value: "x" }] }] });
    assert.equal(d.overallCode, "OVER_LIMIT");
    assert.deepEqual(
      d.statuses.map((s) => s.code),
      ["OK", "OVER_LIMIT", "OK"],
    );
    assert.deepEqual(d.statuses[2], { code: "OK", currentLimit: undefined, limitRemaining: 0, durationUntilReset: undefined });
  });

  it("shadow mode counts but answers OK; unlimited answers OK with uint32 max remaining", async () => {
    const { rl } = limiter();
    await rl.shouldRateLimit(one("shadow", "x"));
    const s = await rl.shouldRateLimit(one("shadow", "x"));
    assert.equal(s.overallCode, "OK");
    assert.equal(s.statuses[0]!.limitRemaining, 0);
    assert.deepEqual((await rl.shouldRateLimit(one("vip", "x"))).statuses[0], { code: "OK", currentLimit: undefined, limitRemaining: 4294967295, durationUntilReset: undefined });
  });

  it("a limit named in another matched limit's replaces is not checked", async () => {
    const { rl } = limiter();
    const d = await rl.shouldRateLimit({ domain: "ratelimit", hitsAddend: 0, descriptors: [{ entries: [{ key: "PATH", value: "/x" }] }, { entries: [{ key: "tight", value: "1" }] }] });
    assert.equal(d.statuses[0]!.currentLimit, undefined);
    assert.equal(d.statuses[1]!.currentLimit!.requestsPerUnit, 1);
  });

  it("refuses an empty domain or descriptor list as the reference does", async () => {
    const { rl } = limiter();
    await assert.rejects(rl.shouldRateLimit({ domain: "", hitsAddend: 0, descriptors: [{ entries: [] }] }), new BadRequestError("rate limit domain must not be empty"));
    await assert.rejects(rl.shouldRateLimit({ domain: "ratelimit", hitsAddend: 0, descriptors: [] }), new BadRequestError("rate limit descriptor list must not be empty"));
  });

  describe("counter store down", () => {
    const down: CounterStore = { increment: () => Promise.reject(new StoreUnavailableError("redis is reconnecting")), close: () => Promise.resolve() };
    it("error (default): the call fails, the caller's failure_mode_deny decides", async () => {
      await assert.rejects(limiter(down, "error").rl.shouldRateLimit(one("PATH", "/x")), StoreUnavailableError);
    });
    it("allow: OK with the limit", async () => {
      const d = await limiter(down, "allow").rl.shouldRateLimit(one("PATH", "/x"));
      assert.deepEqual(d.statuses[0], { code: "OK", currentLimit: { name: "any-path", requestsPerUnit: 100, unit: "MINUTE" }, limitRemaining: 100, durationUntilReset: 60 });
    });
    it("deny: OVER_LIMIT", async () => {
      assert.equal((await limiter(down, "deny").rl.shouldRateLimit(one("PATH", "/x"))).overallCode, "OVER_LIMIT");
    });
    it("a request without any limit never touches the store", async () => {
      assert.equal((await limiter(down, "error").rl.shouldRateLimit(one("nothing", "x"))).overallCode, "OK");
    });
  });

  it("the memory store forgets counters of past windows", async () => {
    const clock = new FakeClock(0, Date.UTC(2026, 0, 1));
    const store = new MemoryStore(clock);
    const rl = new RateLimiter({ config, store, clock, failureMode: "error" });
    await rl.shouldRateLimit(one("PATH", "/a"));
    await rl.shouldRateLimit(one("PATH", "/b"));
    assert.equal(store.size, 2);
    clock.advance(60_000);
    await rl.shouldRateLimit(one("PATH", "/c"));
    assert.equal(store.size, 1);
  });
});
