import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadRateLimitConfig } from "./config.ts";
import { findLimit } from "./match.ts";

// The reference service's own test config shapes (envoyproxy/ratelimit test/config/basic_config.yaml).
const config = loadRateLimitConfig([
  {
    file: "c.yaml",
    text: `domain: test-domain
descriptors:
  - key: key1
    value: value1
    descriptors:
      - key: subkey1
        rate_limit: {unit: second, requests_per_unit: 5}
  - key: key2
    rate_limit: {unit: minute, requests_per_unit: 20}
  - key: key2
    value: value2
    rate_limit: {unit: minute, requests_per_unit: 30}
  - key: key3
    value: pre*
    rate_limit: {unit: hour, requests_per_unit: 7}
  - key: key4
    rate_limit: {unlimited: true}
`,
  },
]);

const e = (...kv: string[]) => ({ entries: kv.map((x) => ({ key: x.split("=")[0]!, value: x.split("=")[1] ?? "" })) });

describe("descriptor matching (most specific first, depth must match)", () => {
  const table: { name: string; domain?: string; d: ReturnType<typeof e>; want: string | undefined }[] = [
    { name: "key with any value", d: e("key2=other"), want: "test-domain.key2" },
    { name: "key_value beats key", d: e("key2=value2"), want: "test-domain.key2_value2" },
    { name: "nested, any subkey value", d: e("key1=value1", "subkey1=x"), want: "test-domain.key1_value1.subkey1" },
    { name: "nested parent alone has no limit", d: e("key1=value1"), want: undefined },
    { name: "nested parent with another value", d: e("key1=other", "subkey1=x"), want: undefined },
    { name: "more entries than the config is deep", d: e("key2=value2", "extra=1"), want: undefined },
    { name: "wildcard prefix", d: e("key3=prefix-match"), want: "test-domain.key3_pre*" },
    { name: "wildcard prefix not matching", d: e("key3=nope"), want: undefined },
    { name: "unknown key", d: e("nokey=1"), want: undefined },
    { name: "unknown domain", domain: "other", d: e("key2=value2"), want: undefined },
    { name: "unlimited", d: e("key4=x"), want: "test-domain.key4" },
  ];
  for (const c of table) {
    it(c.name, () => {
      assert.equal(findLimit(config, c.domain ?? "test-domain", c.d)?.fullKey, c.want);
    });
  }

  it("a descriptor's own limit overrides the config's", () => {
    const limit = findLimit(config, "test-domain", { ...e("key2=value2"), override: { requestsPerUnit: 3, unit: "HOUR" } });
    assert.equal(limit?.requestsPerUnit, 3);
    assert.equal(limit?.unit, "HOUR");
  });

  it("the RateLimit kind's domain amime-ratelimit needs no config entry for descriptors carrying a limit; without one, no limit", () => {
    const limit = findLimit(config, "amime-ratelimit", { ...e("amime_ratelimit_rule=default/api/0", "x-user=alice"), override: { requestsPerUnit: 10, unit: "MINUTE" } });
    assert.deepEqual([limit?.requestsPerUnit, limit?.unit, limit?.fullKey], [10, "MINUTE", "amime-ratelimit.amime_ratelimit_rule_default/api/0.x-user_alice"]);
    assert.equal(findLimit(config, "amime-ratelimit", e("amime_ratelimit_rule=default/api/0")), undefined);
    assert.equal(findLimit(config, "other", { ...e("k=v"), override: { requestsPerUnit: 1, unit: "SECOND" } }), undefined);
  });
});
