import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { loadRateLimitConfig, RateLimitConfigError, type ConfigProblem } from "./config.ts";

const TASK = "test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml";

function problemsOf(text: string, file = "config.yaml"): ConfigProblem[] {
  try {
    loadRateLimitConfig([{ file, text }]);
  } catch (e) {
    assert.ok(e instanceof RateLimitConfigError);
    return [...e.problems];
  }
  assert.fail("expected a config error");
}

describe("rate-limit service config", () => {
  it("reads the task's ConfigMap unchanged, among the task's other resources", () => {
    const config = loadRateLimitConfig([{ file: TASK, text: readFileSync(TASK, "utf8") }]);
    assert.deepEqual([...config.keys()], ["ratelimit"]);
    const root = config.get("ratelimit")!;
    assert.deepEqual([...root.children.keys()], ["PATH_/productpage", "PATH_api", "PATH"]);
    assert.deepEqual(root.children.get("PATH_/productpage")!.limit, { requestsPerUnit: 1, unit: "MINUTE", name: "", unlimited: false, shadowMode: false, detailedMetric: false, replaces: [], fullKey: "ratelimit.PATH_/productpage" });
    assert.equal(root.children.get("PATH")!.limit!.requestsPerUnit, 100);
  });

  it("reads nested descriptors, unlimited, shadow_mode, name and replaces", () => {
    const config = loadRateLimitConfig([
      {
        file: "c.yaml",
        text: `domain: edge
descriptors:
  - key: remote_address
    rate_limit: {unit: SECOND, requests_per_unit: 10, name: per-ip}
  - key: client
    value: vip
    rate_limit: {unlimited: true}
  - key: header_match
    value: "abc*"
    shadow_mode: true
    detailed_metric: true
    rate_limit: {unit: hour, requests_per_unit: 5, replaces: [{name: per-ip}]}
    descriptors:
      - key: path
        rate_limit: {unit: day, requests_per_unit: 0}
`,
      },
    ]);
    const root = config.get("edge")!;
    assert.equal(root.children.get("remote_address")!.limit!.name, "per-ip");
    assert.equal(root.children.get("client_vip")!.limit!.unlimited, true);
    assert.equal(root.children.get("client_vip")!.limit!.unit, undefined);
    const h = root.children.get("header_match_abc*")!;
    assert.deepEqual(root.wildcardKeys, ["header_match_abc*"]);
    assert.equal(h.limit!.shadowMode, true);
    assert.equal(h.limit!.detailedMetric, true);
    assert.deepEqual(h.limit!.replaces, ["per-ip"]);
    assert.equal(h.children.get("path")!.limit!.unit, "DAY");
    assert.equal(h.children.get("path")!.limit!.fullKey, "edge.header_match_abc*.path");
  });

  const bad: { name: string; text: string; want: Partial<ConfigProblem>[] }[] = [
    { name: "empty domain", text: "descriptors: []\n", want: [{ line: 1, path: "domain", message: "config file cannot have empty domain" }] },
    { name: "unknown top-level key", text: "domain: d\ndescriptor: []\n", want: [{ line: 2, column: 1, path: "descriptor", message: "unknown key 'descriptor'" }] },
    { name: "empty key", text: "domain: d\ndescriptors:\n  - value: v\n", want: [{ line: 3, path: "descriptors[0].key", message: "descriptor has empty key" }] },
    {
      name: "duplicate composite key",
      text: "domain: d\ndescriptors:\n  - key: a\n    value: b\n  - key: a\n    value: b\n",
      want: [{ line: 5, path: "descriptors[1].key", message: "duplicate descriptor composite key 'd.a_b'" }],
    },
    {
      name: "bad unit",
      text: "domain: d\ndescriptors:\n  - key: a\n    rate_limit:\n      unit: fortnight\n      requests_per_unit: 1\n",
      want: [{ line: 5, column: 13, path: "descriptors[0].rate_limit.unit", message: "invalid rate limit unit 'fortnight' (use second, minute, hour, day, week, month or year)" }],
    },
    {
      name: "unit beside unlimited",
      text: "domain: d\ndescriptors:\n  - key: a\n    rate_limit: {unlimited: true, unit: second}\n",
      want: [{ line: 4, path: "descriptors[0].rate_limit.unit", message: "should not specify rate limit unit when unlimited" }],
    },
    {
      name: "negative requests_per_unit and a non-boolean shadow_mode",
      text: "domain: d\ndescriptors:\n  - key: a\n    shadow_mode: yes please\n    rate_limit: {unit: second, requests_per_unit: -1}\n",
      want: [
        { line: 4, path: "descriptors[0].shadow_mode", message: "must be true or false" },
        { line: 5, path: "descriptors[0].rate_limit.requests_per_unit", message: "must be an integer from 0 to 4294967295" },
      ],
    },
    {
      name: "nested problem",
      text: "domain: d\ndescriptors:\n  - key: a\n    descriptors:\n      - key: b\n        rate_limit: {unit: minute, requests_per_unit: 1, burst: 3}\n",
      want: [{ line: 6, path: "descriptors[0].descriptors[0].rate_limit.burst", message: "unknown key 'burst'" }],
    },
    { name: "YAML syntax", text: "domain: d\ndescriptors: [\n", want: [{ message: "YAML syntax: " }] },
  ];
  for (const c of bad) {
    it(`refuses ${c.name} with file:line and field path`, () => {
      const got = problemsOf(c.text);
      assert.equal(got.length, c.want.length, JSON.stringify(got));
      c.want.forEach((w, i) => {
        const p = got[i]!;
        assert.equal(p.file, "config.yaml");
        for (const [k, v] of Object.entries(w)) {
          if (k === "message" && c.name === "YAML syntax") assert.ok(p.message.startsWith(v as string), p.message);
          else assert.equal(p[k as keyof ConfigProblem], v, `${k} of ${JSON.stringify(p)}`);
        }
      });
    });
  }

  it("refuses a second file with the same domain", () => {
    const a = { file: "a.yaml", text: "domain: d\ndescriptors: []\n" };
    try {
      loadRateLimitConfig([a, { file: "b.yaml", text: "\ndomain: d\n" }]);
      assert.fail("expected an error");
    } catch (e) {
      assert.ok(e instanceof RateLimitConfigError);
      assert.deepEqual(e.problems, [{ file: "b.yaml", line: 2, column: 9, path: "domain", message: "duplicate domain 'd' in config file" }]);
    }
  });

  it("points into a ConfigMap's block at the line of the file", () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: ratelimit-config
data:
  config.yaml: |
    domain: ratelimit
    descriptors:
      - key: PATH
        rate_limit:
          unit: fortnight
`;
    assert.deepEqual(problemsOf(text, "cm.yaml"), [{ file: "cm.yaml", line: 11, column: 17, path: "data[config.yaml].descriptors[0].rate_limit.unit", message: "invalid rate limit unit 'fortnight' (use second, minute, hour, day, week, month or year)" }]);
  });

  it("says when a file holds no config at all", () => {
    const got = problemsOf("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "svc.yaml");
    assert.match(got[0]!.message, /no rate-limit configuration found/);
  });
});
