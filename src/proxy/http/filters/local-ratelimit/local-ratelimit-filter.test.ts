import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LocalRateLimitConfig } from "../../../../model/rate-limit.ts";
import { FakeClock } from "../../../../testing/fake-clock.ts";
import { CONTINUE, EXT_AUTHZ_RESPONSE_HEADERS } from "../../../request/context.ts";
import { formatResponseFlags } from "../../../request/response-flags.ts";
import { forward, route } from "../../../router/fixtures.ts";
import { buildChain } from "../registry.ts";
import * as rooms from "../../../rooms/rooms.ts";
import { registerRooms } from "../../../rooms/load.ts";
import { runChain } from "../chain.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { localRateLimitFilter } from "./local-ratelimit-filter.ts";

// The filter is in the lazy chunk a sidecar loads before a config naming it is applied.
registerRooms(rooms);

// Istio's task: 4 tokens, 4 per 60 s, enabled and enforced 100 %, x-local-rate-limit: true.
function taskConfig(over: Partial<LocalRateLimitConfig> = {}): LocalRateLimitConfig {
  return {
    statPrefix: "http_local_rate_limiter",
    tokenBucket: { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60_000 },
    enabledPerMillion: 1_000_000,
    enforcedPerMillion: 1_000_000,
    responseHeadersToAdd: [{ key: "x-local-rate-limit", value: "true", append: false }],
    status: 429,
    xRateLimitHeaders: false,
    ...over,
  };
}

function requests(n: number, config: LocalRateLimitConfig, clock: FakeClock): FakeRequest[] {
  return Array.from({ length: n }, () => {
    const x = new FakeRequest({ clock });
    localRateLimitFilter.onRequest(x, config);
    return x;
  });
}

function counters(x: FakeRequest): Record<string, number> {
  return Object.fromEntries(x.proxy.filterStats.entries());
}

describe("local_ratelimit filter", () => {
  it("the task's bucket: 4 pass, the 5th gets 429 local_rate_limited with x-envoy-ratelimited, the task's header and flag RL", () => {
    const clock = new FakeClock();
    const config = taskConfig();
    const xs = requests(5, config, clock);
    assert.deepEqual(xs.map((x) => x.replies.length), [0, 0, 0, 0, 1]);
    const r = xs[4]!.replies[0]!;
    assert.equal(r.status, 429);
    assert.equal(r.body, "local_rate_limited");
    assert.deepEqual(r.headers, [["x-envoy-ratelimited", "true"], ["x-local-rate-limit", "true"]]);
    assert.equal(formatResponseFlags(r.flags), "RL");
    clock.advance(60_000);
    assert.equal(localRateLimitFilter.onRequest(new FakeRequest({ clock }), config), CONTINUE);
  });

  it("counts as Envoy: <stat_prefix>.http_local_rate_limit.enabled / ok / rate_limited / enforced", () => {
    const clock = new FakeClock();
    const config = taskConfig({ statPrefix: "counted" });
    const x = new FakeRequest({ clock });
    const stats = x.proxy.filterStats;
    for (let i = 0; i < 6; i++) {
      const y = new FakeRequest({ clock });
      (y.proxy as { filterStats: typeof stats }).filterStats = stats;
      localRateLimitFilter.onRequest(y, config);
    }
    assert.deepEqual(counters(x), { "counted.http_local_rate_limit.enabled": 6, "counted.http_local_rate_limit.enforced": 2, "counted.http_local_rate_limit.rate_limited": 2, "counted.http_local_rate_limit.ok": 4 });
  });

  it("filter_enabled 0 % (Envoy's default): nothing is checked; filter_enforced 0 %: limited requests are counted but pass", () => {
    const clock = new FakeClock();
    assert.deepEqual(requests(6, taskConfig({ enabledPerMillion: 0 }), clock).map((x) => x.replies.length), [0, 0, 0, 0, 0, 0]);
    const shadow = requests(6, taskConfig({ enforcedPerMillion: 0, statPrefix: "shadow" }), clock);
    assert.deepEqual(shadow.map((x) => x.replies.length), [0, 0, 0, 0, 0, 0]);
  });

  it("a config without a bucket passes everything (the task's listener-level filter for per-route buckets)", () => {
    const x = new FakeRequest();
    const { tokenBucket: _none, ...noBucket } = taskConfig();
    for (let i = 0; i < 10; i++) assert.equal(localRateLimitFilter.onRequest(x, noBucket), CONTINUE);
  });

  it("x-ratelimit-* headers when enabled: the limit, 0 remaining, seconds to the next fill", () => {
    const clock = new FakeClock();
    const config = taskConfig({ xRateLimitHeaders: true, tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 10_000 } });
    requests(1, config, clock);
    clock.advance(2_500);
    const [x] = requests(1, config, clock);
    assert.deepEqual(x!.replies[0]!.headers, [["x-envoy-ratelimited", "true"], ["x-local-rate-limit", "true"], ["x-ratelimit-limit", "1"], ["x-ratelimit-remaining", "0"], ["x-ratelimit-reset", "8"]]);
  });

  it("a route's override (typed_per_filter_config) has its own bucket; other routes run the listener's", () => {
    const clock = new FakeClock();
    const { tokenBucket: _none, ...listenerLevel } = taskConfig({ enabledPerMillion: 0, enforcedPerMillion: 0 });
    const chain = buildChain([{ name: "local_ratelimit", config: listenerLevel }, { name: "router" }]);
    const limited = route("limited", {}, forward(["c"]));
    limited.filterConfig = { local_ratelimit: taskConfig({ tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 60_000 } }) };
    const open = route("open", {}, forward(["c"]));
    const run = (r: typeof limited): FakeRequest => {
      const x = new FakeRequest({ clock, clusters: ["c"] });
      x.route = r;
      // After the route lookup (slot 0), which this fake request has no table for.
      runChain(x, chain.slice(1));
      return x;
    };
    // The router after the filter answers on its own (no endpoints here): only 429s are the filter's.
    const statuses = [run(limited), run(limited), run(open), run(open)].map((x) => x.replies[0]?.status);
    assert.deepEqual(statuses.map((s) => s === 429), [false, true, false, false], JSON.stringify(statuses));
  });

  it("a push with the same config keeps the bucket (no refill); a changed config starts full", () => {
    const clock = new FakeClock();
    const stats = new FakeRequest({ clock }).proxy.filterStats;
    const run = (config: LocalRateLimitConfig): number => {
      const x = new FakeRequest({ clock });
      (x.proxy as { filterStats: typeof stats }).filterStats = stats;
      localRateLimitFilter.onRequest(x, config);
      return x.replies[0]?.status ?? 200;
    };
    const first = taskConfig({ statPrefix: "pushed" });
    assert.deepEqual([run(first), run(first), run(first), run(first)], [200, 200, 200, 200]);
    // The next push: an equal config, a new object (as every push decodes one).
    const second = JSON.parse(JSON.stringify(first)) as LocalRateLimitConfig;
    assert.deepEqual([run(second), run(second)], [429, 429]);
    // A changed bucket is a new bucket, full.
    const changed = taskConfig({ statPrefix: "pushed", tokenBucket: { maxTokens: 2, tokensPerFill: 2, fillIntervalMs: 60_000 } });
    assert.deepEqual([run(changed), run(changed), run(changed)], [200, 200, 429]);
  });

  it("a bad config is refused when the config is applied (NACK), not on the request path", () => {
    assert.throws(() => buildChain([{ name: "local_ratelimit", config: { ...taskConfig(), tokenBucket: { maxTokens: 0, tokensPerFill: 1, fillIntervalMs: 1000 } } }, { name: "router" }]), /\[0\]\.config: tokenBucket\.maxTokens/);
    assert.throws(() => buildChain([{ name: "local_ratelimit", config: { ...taskConfig(), responseHeadersToAdd: [{ key: "x", value: "a\r\nb" }] } }, { name: "router" }]), /responseHeadersToAdd\[0\]/);
  });
});

describe("local_ratelimit descriptors (Envoy's local descriptors, per-key buckets)", () => {
  // Per client header: 2 per minute for /api (header_value_match + request_headers), default bucket absent.
  function keyed(over: Partial<LocalRateLimitConfig> = {}): LocalRateLimitConfig {
    const { tokenBucket: _none, ...base } = taskConfig();
    return {
      ...base,
      rateLimits: [{ stage: 0, actions: [
        { kind: "header_value_match", descriptorKey: "rule", descriptorValue: "api", expectMatch: true, headers: [{ name: ":path", match: { prefix: "/api" }, invert: false }] },
        { kind: "request_headers", headerName: "x-user", descriptorKey: "user", skipIfAbsent: false },
      ] }],
      descriptors: [{ entries: [{ key: "rule", value: "api" }, { key: "user", value: "" }], tokenBucket: { maxTokens: 2, tokensPerFill: 2, fillIntervalMs: 60_000 } }],
      ...over,
    };
  }
  function send(config: LocalRateLimitConfig, clock: FakeClock, path: string, user?: string): number {
    const x = new FakeRequest({ clock, path, ...(user === undefined ? {} : { headers: { "x-user": user } }) });
    localRateLimitFilter.onRequest(x, config);
    return x.replies[0]?.status ?? 200;
  }

  it("a bucket per header value: alice's third request is limited, bob still passes; other paths and requests without the header are not limited", () => {
    const clock = new FakeClock();
    const c = keyed();
    assert.deepEqual([1, 2, 3].map(() => send(c, clock, "/api/x", "alice")), [200, 200, 429]);
    assert.deepEqual([1, 2, 3].map(() => send(c, clock, "/api/y", "bob")), [200, 200, 429]);
    assert.deepEqual([1, 2, 3].map(() => send(c, clock, "/other", "alice")), [200, 200, 200]);
    assert.deepEqual([1, 2, 3].map(() => send(c, clock, "/api/x")), [200, 200, 200]);
    clock.advance(60_000);
    assert.equal(send(c, clock, "/api/x", "alice"), 200);
  });

  it("per-value buckets are LRU-bounded by maxDynamicDescriptors: the least recently used value starts full again", () => {
    const clock = new FakeClock();
    const c = keyed({ maxDynamicDescriptors: 2 });
    for (const u of ["a", "a", "b", "b"]) send(c, clock, "/api", u);
    assert.equal(send(c, clock, "/api", "a"), 429);
    send(c, clock, "/api", "c"); // evicts b (a was used last)
    assert.equal(send(c, clock, "/api", "a"), 429);
    assert.equal(send(c, clock, "/api", "b"), 200);
  });

  it("a fixed descriptor has one bucket; a request matching no descriptor uses the default bucket", () => {
    const clock = new FakeClock();
    const c = keyed({
      tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 60_000 },
      descriptors: [{ entries: [{ key: "rule", value: "api" }, { key: "user", value: "alice" }], tokenBucket: { maxTokens: 3, tokensPerFill: 3, fillIntervalMs: 60_000 } }],
      xRateLimitHeaders: true,
    });
    assert.deepEqual([1, 2, 3, 4].map(() => send(c, clock, "/api", "alice")), [200, 200, 200, 429]);
    assert.deepEqual([1, 2].map(() => send(c, clock, "/api", "bob")), [200, 429]);
    const x = new FakeRequest({ clock, path: "/api", headers: { "x-user": "alice" } });
    localRateLimitFilter.onRequest(x, c);
    assert.ok(x.replies[0]!.headers!.some(([k, v]) => k === "x-ratelimit-limit" && v === "3"));
  });

  it("without rateLimits in the config, the route's rate_limits build the descriptors", () => {
    const clock = new FakeClock();
    const { rateLimits, ...c } = keyed();
    const x = (): FakeRequest => {
      const y = new FakeRequest({ clock, path: "/api", headers: { "x-user": "carol" } });
      y.route = { ...route("r", {}, forward(["c"])), rateLimits: { route: rateLimits!, virtualHost: [] } };
      localRateLimitFilter.onRequest(y, c);
      return y;
    };
    assert.deepEqual([x(), x(), x()].map((y) => y.replies.length), [0, 0, 1]);
  });

  it("bad descriptors are refused with their field path", () => {
    assert.throws(() => localRateLimitFilter.check!(keyed({ descriptors: [{ entries: [], tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 1000 } }] })), /descriptors\[0\]\.entries: a non-empty list/);
    assert.throws(() => localRateLimitFilter.check!(keyed({ descriptors: [{ entries: [{ key: "k", value: "" }], tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 10 } }] })), /descriptors\[0\]\.tokenBucket\.fillIntervalMs/);
    assert.throws(() => localRateLimitFilter.check!(keyed({ maxDynamicDescriptors: 0 })), /maxDynamicDescriptors/);
  });
});

describe("local_ratelimit x-ratelimit-* on responses that pass (DRAFT_VERSION_03)", () => {
  it("each passing request carries limit, the tokens left and the seconds to the next fill; none without xRateLimitHeaders", () => {
    const clock = new FakeClock();
    const config = taskConfig({ xRateLimitHeaders: true });
    const xs = requests(3, config, clock);
    assert.deepEqual(xs.map((x) => x.metadata?.get(EXT_AUTHZ_RESPONSE_HEADERS)), [1, 2, 3].map((i) => [["x-ratelimit-limit", "4"], ["x-ratelimit-remaining", String(4 - i)], ["x-ratelimit-reset", "60"]]));
    assert.deepEqual(requests(1, taskConfig(), clock)[0]!.metadata, null);
  });
});
