import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RateLimitAction, RateLimitPolicy } from "../../../../model/rate-limit.ts";
import { requestView } from "../../../router/request-view.ts";
import { buildDescriptors, policiesOf } from "./descriptors.ts";
import { xRateLimitHeaders } from "./x-ratelimit-headers.ts";

const req = requestView({ method: "GET", path: "/api/v1/products/7?x=1", authority: "bookinfo:8080", headers: { "x-user": "jason" }, sourceIp: "10.1.2.3" });
const one = (...actions: RateLimitAction[]): RateLimitPolicy[] => [{ stage: 0, actions }];
const PATH: RateLimitAction = { kind: "request_headers", headerName: ":path", descriptorKey: "PATH", skipIfAbsent: false };
const API: RateLimitAction = { kind: "header_value_match", descriptorKey: "PATH", descriptorValue: "api", expectMatch: true, headers: [{ name: ":path", invert: false, match: { regex: "/api/v1/products/[1-9]{1,2}" } }] };

describe("rate_limits actions → descriptors (Envoy's RateLimitPolicyEntry)", () => {
  const table: { name: string; policies: RateLimitPolicy[]; want: unknown }[] = [
    { name: "request_headers :path (the task's PATH): the whole path, query included", policies: one(PATH), want: [[["PATH", "/api/v1/products/7?x=1"]]] },
    { name: "request_headers of a plain header", policies: one({ kind: "request_headers", headerName: "x-user", descriptorKey: "user", skipIfAbsent: false }), want: [[["user", "jason"]]] },
    { name: "an absent header drops the descriptor", policies: one(PATH, { kind: "request_headers", headerName: "x-none", descriptorKey: "n", skipIfAbsent: false }), want: [] },
    { name: "skip_if_absent leaves just that entry out", policies: one(PATH, { kind: "request_headers", headerName: "x-none", descriptorKey: "n", skipIfAbsent: true }), want: [[["PATH", "/api/v1/products/7?x=1"]]] },
    { name: "remote_address", policies: one({ kind: "remote_address" }), want: [[["remote_address", "10.1.2.3"]]] },
    { name: "generic_key", policies: one({ kind: "generic_key", descriptorKey: "generic_key", descriptorValue: "slow" }), want: [[["generic_key", "slow"]]] },
    { name: "header_value_match: the regex fully matches :path as sent, query included", policies: one({ ...API, headers: [{ name: ":path", invert: false, match: { regex: "/api/v1/products/[1-9]{1,2}\\?x=1" } }] }), want: [[["PATH", "api"]]] },
    { name: "header_value_match that does not match drops the descriptor", policies: one(API), want: [] },
    { name: "header_value_match expect_match false: emitted when the headers do not match", policies: one({ ...API, expectMatch: false }), want: [[["PATH", "api"]]] },
    { name: "destination_cluster: the route's target cluster", policies: one({ kind: "destination_cluster" }), want: [[["destination_cluster", "outbound|9080||productpage.default.svc.cluster.local"]]] },
    { name: "entries in action order, one descriptor per entry of the stage", policies: [...one({ kind: "remote_address" }, PATH), { stage: 1, actions: [PATH] }, ...one({ kind: "generic_key", descriptorKey: "k", descriptorValue: "v" })], want: [[["remote_address", "10.1.2.3"], ["PATH", "/api/v1/products/7?x=1"]], [["k", "v"]]] },
  ];
  for (const c of table) {
    it(c.name, () => {
      const got = buildDescriptors(req, c.policies, 0, "outbound|9080||productpage.default.svc.cluster.local").map((d) => d.entries.map((e) => [e.key, e.value]));
      assert.deepEqual(got, c.want);
    });
  }

  it("the route's own rate_limits override its virtual host's (Envoy's vh_rate_limits default OVERRIDE)", () => {
    const route = one(API);
    const vhost = one(PATH);
    assert.equal(policiesOf({ route, virtualHost: vhost }), route);
    assert.equal(policiesOf({ route: [], virtualHost: vhost }), vhost);
    assert.deepEqual(policiesOf(undefined), []);
  });
});

describe("x-ratelimit-* headers (DRAFT_VERSION_03)", () => {
  const status = (rpu: number, unit: string, remaining: number, reset: number, name = "") => ({ code: "OK", current_limit: { name, requests_per_unit: rpu, unit }, limit_remaining: remaining, duration_until_reset: { seconds: reset, nanos: 0 } });
  it("the status with the fewest remaining gives limit, remaining and reset; every limit is listed with its window", () => {
    assert.deepEqual(xRateLimitHeaders([status(100, "MINUTE", 40, 20), status(10, "HOUR", 0, 1800, "per-user"), { code: "OK", current_limit: null, limit_remaining: 0, duration_until_reset: null }]), [
      ["x-ratelimit-limit", `10, 100;w=60, 10;w=3600;name="per-user"`],
      ["x-ratelimit-remaining", "0"],
      ["x-ratelimit-reset", "1800"],
    ]);
  });
  it("no status with a limit: no headers", () => {
    assert.deepEqual(xRateLimitHeaders([]), []);
  });
});
