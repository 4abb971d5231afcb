import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseDocuments } from "../parse.ts";
import { findings, summary } from "./harness.ts";
import { rateLimitServiceCheck } from "./ratelimit-service.ts";
import type { JsonObject } from "../../model/resource.ts";

const TASK = "test/fixtures/istio/istio.io-tasks/policy-enforcement/rate-limit.yaml";
const SAMPLE = "samples/ratelimit/ratelimit.yaml";
const docs = (file: string): JsonObject[] => parseDocuments(readFileSync(file, "utf8"), file).resources.map((r) => r.body as JsonObject);
const filter = (cluster: string, deny: boolean): JsonObject => ({
  apiVersion: "networking.istio.io/v1alpha3",
  kind: "EnvoyFilter",
  metadata: { name: "rl", namespace: "default" },
  spec: { configPatches: [{ applyTo: "HTTP_FILTER", match: { context: "SIDECAR_INBOUND" }, patch: { operation: "INSERT_BEFORE", value: { name: "envoy.filters.http.ratelimit", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit", domain: "d", failure_mode_deny: deny, rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: cluster } } } } } } }] },
});

describe("ratelimit-service check (AMM1018)", () => {
  it("Istio's global task without the rate-limit service: its ratelimit filter calls a cluster nobody defines", () => {
    const ds = findings(docs(TASK), rateLimitServiceCheck);
    assert.deepEqual(summary(ds), ["AMM1018 warning spec.configPatches[0].patch.value"]);
    assert.match(ds[0]?.message ?? "", /calls cluster outbound\|8081\|\|ratelimit\.default\.svc\.cluster\.local, but no Service or ServiceEntry defines ratelimit\.default\.svc\.cluster\.local port 8081: every rate-limited request would be answered 500 \(flag RLSE, failure_mode_deny\)/);
  });

  it("with samples/ratelimit (Service ratelimit, ports 8080 and 8081): nothing to say", () => {
    assert.deepEqual(summary(findings([...docs(TASK), ...docs(SAMPLE)], rateLimitServiceCheck)), []);
  });

  it("a port the Service does not have, and a cluster name that is not an outbound one", () => {
    const ds = findings([...docs(SAMPLE), filter("outbound|9999||ratelimit.default.svc.cluster.local", false), { ...filter("rate_limit_cluster", false), metadata: { name: "rl2", namespace: "default" } }], rateLimitServiceCheck);
    assert.deepEqual(summary(ds), ["AMM1018 warning spec.configPatches[0].patch.value", "AMM1018 warning spec.configPatches[0].patch.value"]);
    assert.match(ds[0]?.message ?? "", /port 9999: every rate-limited request would be let through unlimited/);
    assert.match(ds[1]?.message ?? "", /"rate_limit_cluster" is not an outbound cluster name/);
  });

  it("a RateLimit's global rules: the default service (samples/ratelimit) or the one named must exist; local rules call none", () => {
    const kind = (spec: JsonObject, name = "rl"): JsonObject => ({ apiVersion: "amime.dev/v1alpha1", kind: "RateLimit", metadata: { name, namespace: "default" }, spec });
    const global: JsonObject = { rules: [{ limit: { requests: 1, per: "second" } }, { limit: { requests: 1, per: "second" }, scope: "global" }] };
    const ds = findings([kind(global), kind({ ...global, rateLimitService: { host: "rls.default.svc.cluster.local", port: 9000 }, failureMode: "deny" }, "named"), kind({ rules: [{ limit: { requests: 1, per: "second" } }] }, "local")], rateLimitServiceCheck);
    assert.deepEqual(summary(ds), ["AMM1018 warning spec.rules[1].scope", "AMM1018 warning spec.rateLimitService"]);
    assert.match(ds[0]?.message ?? "", /ratelimit\.default\.svc\.cluster\.local:8081 \(the default\), but no Service or ServiceEntry defines that host and port: every request they limit would be let through unlimited/);
    assert.match(ds[1]?.message ?? "", /rls\.default\.svc\.cluster\.local:9000, .*answered 500/);
    assert.deepEqual(summary(findings([...docs(SAMPLE), kind(global)], rateLimitServiceCheck)), []);
  });
});
