import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import { findings, summary } from "./harness.ts";
import { providersCheck } from "./providers.ts";

const telemetry = (spec: JsonObject): JsonObject => ({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name: "mesh", namespace: "istio-system" }, spec });
const mesh: MeshConfig = {
  extensionProviders: [
    { name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } },
    { name: "dd", datadog: { service: "dd.example.com", port: 8126 } },
    { name: "otel", opentelemetry: { service: "otel.example.com", port: 4317 } },
    { name: "authz", envoyExtAuthzHttp: { service: "authz.example.com", port: 8000 } },
  ],
};

describe("providers check", () => {
  it("the docs' `providers: [{name: zipkin}]` without a MeshConfig is an error, not a silent off (AMM1011)", () => {
    const ds = findings([telemetry({ tracing: [{ providers: [{ name: "zipkin" }] }], accessLogging: [{ providers: [{ name: "envoy" }] }] })], providersCheck);
    assert.deepEqual(summary(ds), ["AMM1011 error spec.tracing[0].providers[0].name"]);
    assert.match(ds[0]?.message ?? "", /Unknown provider "zipkin".*--mesh-config/);
  });

  it("resolves names against the MeshConfig and Istio's built-ins", () => {
    const ds = findings([telemetry({ tracing: [{ providers: [{ name: "zipkin" }] }], accessLogging: [{ providers: [{ name: "envoy" }] }, { providers: [{ name: "json" }] }], metrics: [{ providers: [{ name: "prometheus" }] }] })], providersCheck, { meshConfig: mesh });
    assert.deepEqual(summary(ds), []);
    const typo = findings([telemetry({ tracing: [{ providers: [{ name: "zipkn" }] }] })], providersCheck, { meshConfig: mesh });
    assert.match(typo[0]?.message ?? "", /Did you mean "zipkin"/);
  });

  it("warns for providers the sidecar cannot export to or that sit in the wrong section (AMM1012)", () => {
    const ds = findings([telemetry({ tracing: [{ providers: [{ name: "dd" }] }, { providers: [{ name: "otel" }] }], accessLogging: [{ providers: [{ name: "zipkin" }] }], metrics: [{ providers: [{ name: "stackdriver" }] }] })], providersCheck, { meshConfig: mesh });
    assert.deepEqual(summary(ds), [
      "AMM1012 warning spec.tracing[0].providers[0].name",
      "AMM1012 warning spec.accessLogging[0].providers[0].name",
      "AMM1012 warning spec.metrics[0].providers[0].name",
    ]);
    // OTLP over gRPC (an opentelemetry provider without `http`) is exported: no warning for tracing[1].
  });

  it("a CUSTOM AuthorizationPolicy names an ext_authz provider", () => {
    const ap = (name: string): JsonObject => ({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: `p-${name}` }, spec: { action: "CUSTOM", provider: { name }, rules: [{}] } });
    assert.deepEqual(summary(findings([ap("authz"), ap("nope"), ap("zipkin")], providersCheck, { meshConfig: mesh })), ["AMM1011 error spec.provider.name", "AMM1011 error spec.provider.name"]);
  });
});
