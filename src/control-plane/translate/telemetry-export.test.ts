// Telemetry `metrics.providers` → the proxy's metrics exporters (TelemetryConfig.metricsExport).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import type { MeshSettings } from "../../model/snapshot.ts";
import { telemetryConfig } from "./telemetry.ts";
import { sidecarProxy, snapshotFrom } from "./testing.ts";

const tel = (ns: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name, namespace: ns }, spec }) + "\n---\n";
const meshConfig = (config: MeshConfig): { mesh: Partial<MeshSettings> } => ({ mesh: { config } });

const providers: MeshConfig = {
  extensionProviders: [
    { name: "otel-http", opentelemetry: { service: "otel-collector.observability.svc.cluster.local", port: 4318, http: { path: "/v1/traces", timeout: "3s", headers: [{ name: "x-api-key", value: "k" }] } } },
    { name: "otel-grpc", opentelemetry: { service: "observability/otel-collector.observability.svc.cluster.local", port: 4317 } },
    { name: "otel-url", opentelemetry: { endpoint: "http://127.0.0.1:4318/v1/traces" } },
    { name: "datadog-agent", dogstatsd: { service: "datadog-agent.datadog.svc.cluster.local", port: 8125, prefix: "mesh" } },
    { name: "stackdriver", stackdriver: {} },
  ],
};

describe("metrics exporters from Telemetry metrics.providers", () => {
  it("opentelemetry over HTTP (…/v1/metrics), over gRPC, from an endpoint URL; dogstatsd; prometheus is scraped, stackdriver not exported", () => {
    const s = snapshotFrom(tel("istio-system", "mesh", { metrics: [{ providers: [{ name: "prometheus" }, { name: "otel-http" }, { name: "otel-grpc" }, { name: "otel-url" }, { name: "datadog-agent" }, { name: "stackdriver" }] }] }), [], meshConfig(providers));
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "web" })).metricsExport, [
      { kind: "otlp", protocol: "http", target: "http://otel-collector.observability.svc.cluster.local:4318/v1/metrics", intervalMs: 15000, headers: [{ name: "x-api-key", value: "k" }], timeoutMs: 3000 },
      { kind: "otlp", protocol: "grpc", target: "otel-collector.observability.svc.cluster.local:4317", intervalMs: 15000 },
      { kind: "otlp", protocol: "http", target: "http://127.0.0.1:4318/v1/metrics", intervalMs: 15000 },
      { kind: "dogstatsd", target: "datadog-agent.datadog.svc.cluster.local:8125", intervalMs: 15000, prefix: "mesh" },
    ]);
  });

  it("reportingInterval of the most specific metrics entry; mesh defaultProviders when the entry names none", () => {
    const s = snapshotFrom(
      tel("istio-system", "mesh", { metrics: [{ providers: [{ name: "datadog-agent" }] }] }) + tel("default", "reviews", { selector: { matchLabels: { app: "reviews" } }, metrics: [{ reportingInterval: "5s" }] }),
      [],
      meshConfig({ ...providers, defaultProviders: { metrics: ["prometheus", "otel-grpc"] } }),
    );
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "web" })).metricsExport, [{ kind: "dogstatsd", target: "datadog-agent.datadog.svc.cluster.local:8125", intervalMs: 15000, prefix: "mesh" }]);
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "reviews" })).metricsExport, [{ kind: "otlp", protocol: "grpc", target: "otel-collector.observability.svc.cluster.local:4317", intervalMs: 5000 }]);
  });

  it("no exporter by default (Istio's default metrics provider is prometheus)", () => {
    assert.equal(telemetryConfig(snapshotFrom(""), sidecarProxy({ app: "web" })).metricsExport, undefined);
  });

  it("accessLogging with Amime's fluentd provider: the forward target, tag and record labels", () => {
    const mc: MeshConfig = { extensionProviders: [{ name: "fd", fluentd: { service: "fluentd.logging.svc.cluster.local", port: 24224, tag: "envoy.access", logFormat: { labels: { code: "%RESPONSE_CODE%" } } } }] };
    const s = snapshotFrom(tel("istio-system", "mesh", { accessLogging: [{ providers: [{ name: "fd" }] }] }), [], meshConfig(mc));
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "web" })).accessLog, { format: "json", path: "", fluentd: { target: "fluentd.logging.svc.cluster.local:24224", tag: "envoy.access", record: { code: "%RESPONSE_CODE%" } } });
  });

  it("OTLP/gRPC metrics: grpc.initialMetadata as headers (metadata), grpc.timeout", () => {
    const mc: MeshConfig = { extensionProviders: [{ name: "g", opentelemetry: { service: "collector.internal", port: 4317, grpc: { timeout: "2s", initialMetadata: [{ name: "x-token", value: "t" }] } } }] };
    const s = snapshotFrom(tel("istio-system", "mesh", { metrics: [{ providers: [{ name: "g" }] }] }), [], meshConfig(mc));
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "web" })).metricsExport, [{ kind: "otlp", protocol: "grpc", target: "collector.internal:4317", intervalMs: 15000, headers: [{ name: "x-token", value: "t" }], timeoutMs: 2000 }]);
  });
});
