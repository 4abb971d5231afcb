import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { envoyFilterRateLimits } from "./rate-limits.ts";

const TASK = "test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml";
const filters = parseAllDocuments(readFileSync(TASK, "utf8"))
  .map((d) => d.toJS() as { kind?: string; metadata?: { name: string }; spec?: unknown } | null)
  .filter((d) => d?.kind === "EnvoyFilter");

const LOCAL_4_PER_MIN = {
  statPrefix: "http_local_rate_limiter",
  enabledPerMillion: 1_000_000,
  enforcedPerMillion: 1_000_000,
  responseHeadersToAdd: [{ key: "x-local-rate-limit", value: "true", append: false }],
  status: 429,
  xRateLimitHeaders: false,
  tokenBucket: { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 60_000 },
};

describe("EnvoyFilter → rate-limit patches (Istio's rate-limit task, unchanged)", () => {
  const table: { step: number; name: string; want: unknown }[] = [
    {
      step: 0,
      name: "global: envoy.filters.http.ratelimit before the router on the gateway",
      want: [{ applyTo: "HTTP_FILTER", context: "GATEWAY", filter: { name: "ratelimit", config: { domain: "ratelimit", stage: 0, failureModeDeny: true, timeoutMs: 10_000, rateLimitedAsResourceExhausted: false, xRateLimitHeaders: false, cluster: "outbound|8081||ratelimit.default.svc.cluster.local", authority: "ratelimit.default.svc.cluster.local" } } }],
    },
    {
      step: 1,
      name: "global: rate_limits on every gateway virtual host (PATH = :path)",
      want: [{ applyTo: "VIRTUAL_HOST", context: "GATEWAY", rateLimits: [{ stage: 0, actions: [{ kind: "request_headers", headerName: ":path", descriptorKey: "PATH", skipIfAbsent: false }] }] }],
    },
    {
      step: 2,
      name: "global: route api emits PATH=api on a regex header match",
      want: [
        {
          applyTo: "HTTP_ROUTE",
          context: "GATEWAY",
          vhost: "*:8080",
          route: "api",
          rateLimits: [{ stage: 0, actions: [{ kind: "header_value_match", descriptorKey: "PATH", descriptorValue: "api", expectMatch: true, headers: [{ name: ":path", invert: false, match: { regex: "/api/v1/products/[1-9]{1,2}" } }] }] }],
        },
      ],
    },
    {
      step: 3,
      name: "local: 4 tokens per 60 s on productpage's inbound listener",
      want: [{ applyTo: "HTTP_FILTER", context: "SIDECAR_INBOUND", filter: { name: "local_ratelimit", config: LOCAL_4_PER_MIN } }],
    },
    {
      step: 4,
      name: "local: a filter without a bucket, the bucket per route on inbound|http|9080",
      want: [
        { applyTo: "HTTP_FILTER", context: "SIDECAR_INBOUND", filter: { name: "local_ratelimit", config: { statPrefix: "http_local_rate_limiter", enabledPerMillion: 0, enforcedPerMillion: 0, responseHeadersToAdd: [], status: 429, xRateLimitHeaders: false } } },
        { applyTo: "HTTP_ROUTE", context: "SIDECAR_INBOUND", vhost: "inbound|http|9080", local: LOCAL_4_PER_MIN },
      ],
    },
  ];
  it("the fixture holds the task's five EnvoyFilters", () => assert.equal(filters.length, 5));
  for (const c of table) {
    it(c.name, () => {
      const got = envoyFilterRateLimits(filters[c.step]!.spec);
      assert.deepEqual(got.notApplied, []);
      assert.deepEqual(got.patches, c.want);
    });
  }

  const other: { name: string; spec: unknown; paths: string[] }[] = [
    {
      name: "another HTTP filter",
      spec: { configPatches: [{ applyTo: "HTTP_FILTER", match: { context: "SIDECAR_INBOUND" }, patch: { operation: "INSERT_BEFORE", value: { name: "envoy.filters.http.lua", typed_config: {} } } }] },
      paths: ["spec.configPatches[0].patch.value.name"],
    },
    { name: "a cluster patch", spec: { configPatches: [{ applyTo: "CLUSTER", patch: { operation: "MERGE", value: {} } }] }, paths: ["spec.configPatches[0].applyTo"] },
    {
      name: "a local descriptor without a key and a bad fill interval",
      spec: {
        configPatches: [
          {
            applyTo: "HTTP_FILTER",
            patch: {
              operation: "INSERT_BEFORE",
              value: {
                name: "envoy.filters.http.local_ratelimit",
                typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", stat_prefix: "x", token_bucket: { max_tokens: 1, fill_interval: "0.01s" }, descriptors: [{ entries: [{ value: "a" }], token_bucket: { max_tokens: 1, fill_interval: "1s" } }] },
              },
            },
          },
        ],
      },
      paths: ["spec.configPatches[0].patch.value.typed_config.token_bucket.fill_interval", "spec.configPatches[0].patch.value.typed_config.descriptors[0].entries"],
    },
    {
      name: "an unsupported action beside a supported one",
      spec: { configPatches: [{ applyTo: "VIRTUAL_HOST", patch: { operation: "MERGE", value: { rate_limits: [{ actions: [{ remote_address: {} }, { source_cluster: {} }] }] } } }] },
      paths: ["spec.configPatches[0].patch.value.rate_limits[0].actions[1].source_cluster"],
    },
    {
      name: "a REMOVE of the filter",
      spec: { configPatches: [{ applyTo: "HTTP_FILTER", patch: { operation: "REMOVE" } }] },
      paths: ["spec.configPatches[0].patch.operation"],
    },
  ];
  for (const c of other) {
    it(`not applied, with the field path: ${c.name}`, () => {
      const got = envoyFilterRateLimits(c.spec);
      assert.deepEqual(got.patches, []);
      assert.deepEqual(got.notApplied.map((p) => p.path), c.paths);
    });
  }

  it("reads every supported action and header matcher shape", () => {
    const got = envoyFilterRateLimits({
      configPatches: [
        {
          applyTo: "VIRTUAL_HOST",
          match: { context: "SIDECAR_INBOUND" },
          patch: {
            operation: "MERGE",
            value: {
              rate_limits: [
                {
                  stage: 1,
                  actions: [
                    { remote_address: {} },
                    { generic_key: { descriptor_value: "slow" } },
                    { request_headers: { header_name: "X-User", descriptor_key: "user", skip_if_absent: true } },
                    { header_value_match: { descriptor_value: "beta", expect_match: false, headers: [{ name: "x-env", exact_match: "beta" }, { name: "x-b", string_match: { suffix: ".x" } }, { name: "x-c", present_match: true, invert_match: true }] } },
                  ],
                },
              ],
            },
          },
        },
      ],
    });
    assert.deepEqual(got.notApplied, []);
    assert.deepEqual((got.patches[0] as { rateLimits: unknown }).rateLimits, [
      {
        stage: 1,
        actions: [
          { kind: "remote_address" },
          { kind: "generic_key", descriptorKey: "generic_key", descriptorValue: "slow" },
          { kind: "request_headers", headerName: "x-user", descriptorKey: "user", skipIfAbsent: true },
          {
            kind: "header_value_match",
            descriptorKey: "header_match",
            descriptorValue: "beta",
            expectMatch: false,
            headers: [
              { name: "x-env", invert: false, match: { exact: "beta" } },
              { name: "x-b", invert: false, match: { regex: ".*\\.x" } },
              { name: "x-c", invert: true },
            ],
          },
        ],
      },
    ]);
  });
});
