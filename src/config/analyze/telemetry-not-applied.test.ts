import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { findings, summary } from "./harness.ts";
import { telemetryNotAppliedCheck } from "./telemetry-not-applied.ts";

const telemetry = (spec: JsonObject): JsonObject => ({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name: "t", namespace: "istio-system" }, spec });

describe("telemetry-not-applied check", () => {
  it("what the translation applies passes without a word", () => {
    const spec: JsonObject = {
      selector: { matchLabels: { app: "web" } },
      tracing: [{ randomSamplingPercentage: 10, customTags: { team: { literal: { value: "blue" } }, who: { header: { name: "x-user" } }, zone: { environment: { name: "ZONE", defaultValue: "z" } } }, match: { mode: "CLIENT" } }],
      accessLogging: [{ providers: [{ name: "envoy" }], filter: { expression: "response.code >= 400 || request.headers['x-debug'] == '1'" } }],
      metrics: [{ overrides: [{ match: { metric: "ALL_METRICS", mode: "CLIENT" }, disabled: true }, { match: { metric: "REQUEST_COUNT" }, disabled: true }, { tagOverrides: { request_protocol: { operation: "REMOVE" }, host: { value: "request.host" } } }] }],
    };
    assert.deepEqual(summary(findings([telemetry(spec)], telemetryNotAppliedCheck)), []);
  });

  it("targetRefs, formatter tags, custom-metric overrides, reportingInterval: AMM1017", () => {
    const spec: JsonObject = {
      targetRefs: [{ kind: "Service", name: "web" }],
      tracing: [{ customTags: { who: { formatter: { value: "%REQ(:PATH)%" } } } }],
      metrics: [{ reportingInterval: "10s", overrides: [{ match: { customMetric: "my_metric" }, disabled: true }, { tagOverrides: { foo: { value: "add" }, host: { value: "request.host" }, gone: { operation: "REMOVE" } } }] }],
    };
    assert.deepEqual(summary(findings([telemetry(spec)], telemetryNotAppliedCheck)), [
      "AMM1017 warning spec.targetRefs",
      "AMM1017 warning spec.tracing[0].customTags.who",
      "AMM1017 warning spec.metrics[0].reportingInterval",
      "AMM1017 warning spec.metrics[0].overrides[0].match.customMetric",
      "AMM1017 warning spec.metrics[0].overrides[1].tagOverrides.foo.value",
    ]);
  });

  it("reportingInterval is applied when the entry (or the mesh default) names an exporting provider", () => {
    const meshConfig = { extensionProviders: [{ name: "otel", opentelemetry: { service: "otel.example.com", port: 4317 } }, { name: "dd", dogstatsd: { service: "dd.example.com", port: 8125 } }], defaultProviders: { metrics: ["prometheus", "dd"] } };
    const spec: JsonObject = { metrics: [{ providers: [{ name: "otel" }], reportingInterval: "5s" }, { reportingInterval: "5s" }, { providers: [{ name: "prometheus" }], reportingInterval: "5s" }] };
    assert.deepEqual(summary(findings([telemetry(spec)], telemetryNotAppliedCheck, { meshConfig })), ["AMM1017 warning spec.metrics[2].reportingInterval"]);
  });
});
