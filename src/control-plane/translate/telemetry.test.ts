import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import type { MeshSettings } from "../../model/snapshot.ts";
import { translate } from "./index.ts";
import { telemetryConfig, type MeshTelemetry } from "./telemetry.ts";
import { sidecarProxy, snapshotFrom } from "./testing.ts";

const tel = (ns: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name, namespace: ns }, spec }) + "\n---\n";
const meshConfig = (config: MeshConfig, telemetry?: MeshTelemetry): { mesh: Partial<MeshSettings> } => ({ mesh: { config, ...(telemetry ? { telemetry } : {}) } });
const mesh = (t: MeshTelemetry): { mesh: Partial<MeshSettings> } => ({ mesh: { telemetry: t } as Partial<MeshSettings> });

describe("telemetry translation", () => {
  it("defaults: metrics on, tracing headers at Istio's 1% with no exporter, no access log", () => {
    const c = telemetryConfig(snapshotFrom(""), sidecarProxy({ app: "web" }));
    assert.deepEqual(c, { tracing: { format: "zipkin", samplingPercentage: 1 } });
  });

  it("mesh-wide Telemetry in the root namespace turns on the envoy access log and sets sampling", () => {
    const s = snapshotFrom(tel("istio-system", "mesh-default", { accessLogging: [{ providers: [{ name: "envoy" }] }], tracing: [{ randomSamplingPercentage: 25 }] }));
    const c = telemetryConfig(s, sidecarProxy({ app: "web" }));
    assert.deepEqual(c.accessLog, { format: "text", path: "/dev/stdout" });
    assert.equal(c.tracing?.samplingPercentage, 25);
  });

  it("workload beats namespace beats mesh, per section", () => {
    const s = snapshotFrom(
      tel("istio-system", "mesh", { accessLogging: [{ providers: [{ name: "envoy" }] }], tracing: [{ randomSamplingPercentage: 5 }] }) +
        tel("default", "ns", { tracing: [{ randomSamplingPercentage: 50 }] }) +
        tel("default", "reviews", { selector: { matchLabels: { app: "reviews" } }, accessLogging: [{ providers: [{ name: "json" }], filter: { expression: "response.code >= 400" } }] }),
    );
    const reviews = telemetryConfig(s, sidecarProxy({ app: "reviews" }));
    assert.deepEqual(reviews.accessLog, { format: "json", path: "/dev/stdout", filter: "response.code >= 400" });
    assert.equal(reviews.tracing?.samplingPercentage, 50);
    const web = telemetryConfig(s, sidecarProxy({ app: "web" }));
    assert.deepEqual(web.accessLog, { format: "text", path: "/dev/stdout" });
    const other = telemetryConfig(s, sidecarProxy({ app: "web" }, "other"));
    assert.equal(other.tracing?.samplingPercentage, 5);
    const off = snapshotFrom(tel("istio-system", "mesh", { accessLogging: [{ providers: [{ name: "envoy" }] }] }) + tel("default", "quiet", { accessLogging: [{ disabled: true }] }));
    assert.equal(telemetryConfig(off, sidecarProxy({ app: "web" })).accessLog, undefined);
  });

  it("resolves zipkin / opentelemetry / file providers from the mesh settings", () => {
    const m = mesh({
      extensionProviders: [
        { name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } },
        { name: "otel", opentelemetry: { endpoint: "http://127.0.0.1:4318/v1/traces" } },
        { name: "file-json", envoyFileAccessLog: { path: "/var/log/amime.log", logFormat: { labels: { a: "%REQ(:PATH)%" } } } },
      ],
      defaultProviders: { tracing: ["zipkin"] },
      tracingSampling: 10,
      metricsPort: 25090,
    });
    const c = telemetryConfig(snapshotFrom("", [], m), sidecarProxy({ app: "web" }));
    assert.deepEqual(c.tracing, { endpoint: "http://zipkin.istio-system.svc.cluster.local:9411/api/v2/spans", format: "zipkin", samplingPercentage: 10 });
    assert.equal(c.metricsPort, 25090);
    const s = snapshotFrom(tel("istio-system", "mesh", { tracing: [{ providers: [{ name: "otel" }], customTags: { team: { literal: { value: "blue" } } } }], accessLogging: [{ providers: [{ name: "file-json" }] }] }), [], m);
    const c2 = telemetryConfig(s, { ...sidecarProxy({ app: "web" }), metricsPort: 30000 });
    assert.deepEqual(c2.tracing, { endpoint: "http://127.0.0.1:4318/v1/traces", format: "otlp", samplingPercentage: 10, customTags: { team: { literal: "blue" } } });
    assert.deepEqual(c2.accessLog, { format: "json", path: "/var/log/amime.log", jsonLabels: { a: "%REQ(:PATH)%" } });
    assert.equal(c2.metricsPort, 30000);
  });

  it("tracing merges field by field, mesh → namespace → workload: sampling per workload, providers inherited, custom tags by name", () => {
    const m = mesh({ extensionProviders: [{ name: "zipkin", zipkin: { service: "127.0.0.1", port: 9411 } }] });
    const s = snapshotFrom(
      tel("istio-system", "mesh", { tracing: [{ providers: [{ name: "zipkin" }], randomSamplingPercentage: 0, customTags: { team: { literal: { value: "mesh" } }, cluster: { literal: { value: "c1" } } } }] }) +
        tel("default", "ns", { tracing: [{ randomSamplingPercentage: 5, customTags: { team: { literal: { value: "shop" } } } }] }) +
        tel("default", "reviews", {
          selector: { matchLabels: { app: "reviews" } },
          tracing: [{ randomSamplingPercentage: 100, customTags: { user: { header: { name: "x-user", defaultValue: "anon" } }, region: { environment: { name: "REGION" } }, path: { formatter: { value: "%REQ(:PATH)%" } } } }],
        }),
      [],
      m,
    );
    const reviews = telemetryConfig(s, sidecarProxy({ app: "reviews" })).tracing;
    assert.deepEqual(reviews, {
      endpoint: "http://127.0.0.1:9411/api/v2/spans",
      format: "zipkin",
      samplingPercentage: 100,
      customTags: { team: { literal: "shop" }, cluster: { literal: "c1" }, user: { header: "x-user", defaultValue: "anon" }, region: { environment: "REGION" } },
    });
    assert.equal(telemetryConfig(s, sidecarProxy({ app: "web" })).tracing?.samplingPercentage, 5);
    const flags = snapshotFrom(tel("default", "ns", { tracing: [{ useRequestIdForTraceSampling: false, enableIstioTags: false }] }), [], m);
    const t = telemetryConfig(flags, sidecarProxy({ app: "web" })).tracing;
    assert.deepEqual([t?.randomSampling, t?.noIstioTags], [true, true]);
    assert.equal(telemetryConfig(s, sidecarProxy({ app: "web" }, "other")).tracing?.samplingPercentage, 0);
  });

  it("a DestinationRule originating TLS to a collector's host makes its export TLS: CA file, client certificate, SNI (zipkin, OTLP/HTTP, OTLP/gRPC, OTLP logs and metrics)", () => {
    const m = meshConfig({
      extensionProviders: [
        { name: "zipkin", zipkin: { service: "zipkin.example.com", port: 9411 } },
        { name: "otel-http", opentelemetry: { service: "otel.example.com", port: 4318, http: { path: "/v1/traces" } } },
        { name: "otel-grpc", opentelemetry: { service: "otel.example.com", port: 4317 } },
        { name: "als", envoyOtelAls: { service: "otel.example.com", port: 4317 } },
        { name: "otel-metrics", opentelemetry: { service: "otel.example.com", port: 4318, http: { path: "/v1/metrics" } } },
      ],
    });
    const dr = (host: string, tls: unknown): string => JSON.stringify({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: host.split(".")[0], namespace: "istio-system" }, spec: { host, trafficPolicy: { tls } } }) + "\n---\n";
    const yaml = (p: string): string => tel("istio-system", "mesh", { tracing: [{ providers: [{ name: p }] }] }) + dr("zipkin.example.com", { mode: "SIMPLE", caCertificates: "/etc/ca.pem" }) + dr("otel.example.com", { mode: "MUTUAL", caCertificates: "/ca.pem", clientCertificate: "/c.pem", privateKey: "/k.pem", sni: "collector.internal" });
    const tracingOf = (p: string): unknown => translate(snapshotFrom(yaml(p), [], m), sidecarProxy({ app: "web" })).telemetry?.tracing;
    assert.deepEqual(tracingOf("zipkin"), { endpoint: "https://zipkin.example.com:9411/api/v2/spans", format: "zipkin", tls: { caCertificates: "/etc/ca.pem", sni: "zipkin.example.com" }, samplingPercentage: 1 });
    const tls = { caCertificates: "/ca.pem", clientCertificate: "/c.pem", privateKey: "/k.pem", sni: "collector.internal" };
    assert.deepEqual(tracingOf("otel-http"), { endpoint: "https://otel.example.com:4318/v1/traces", format: "otlp", encoding: "protobuf", tls, samplingPercentage: 1 });
    assert.deepEqual(tracingOf("otel-grpc"), { endpoint: "https://otel.example.com:4317", format: "otlp", encoding: "protobuf", grpc: true, tls, samplingPercentage: 1 });
    // The same for OTLP access logs and OTLP metrics.
    const cfg = translate(snapshotFrom(yaml("zipkin") + tel("default", "ns", { accessLogging: [{ providers: [{ name: "als" }] }], metrics: [{ providers: [{ name: "otel-metrics" }] }] }), [], m), sidecarProxy({ app: "web" })).telemetry;
    assert.deepEqual(cfg?.accessLog?.otel, { target: "otel.example.com:4317", logName: "otel_envoy_accesslog", tls });
    assert.deepEqual(cfg?.metricsExport, [{ kind: "otlp", protocol: "http", target: "https://otel.example.com:4318/v1/metrics", intervalMs: 15000, tls }]);
  });

  it("mesh accessLogFile and metrics overrides", () => {
    const c = telemetryConfig(snapshotFrom("", [], mesh({ accessLogFile: "/dev/stdout", accessLogEncoding: "JSON" })), sidecarProxy({ app: "web" }));
    assert.deepEqual(c.accessLog, { format: "json", path: "/dev/stdout" });
    const s = snapshotFrom(tel("default", "nometrics", { metrics: [{ overrides: [{ match: { metric: "ALL_METRICS", mode: "CLIENT" }, disabled: true }] }] }));
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "web" })).metrics, { overrides: [{ metric: "ALL_METRICS", mode: "CLIENT", disabled: true }] });
  });

  it("metric overrides merge mesh → namespace → workload (the more specific comes later and wins); custom metrics and tag values outside the CEL subset are left out", () => {
    const s = snapshotFrom(
      tel("istio-system", "mesh", { metrics: [{ overrides: [{ match: { metric: "REQUEST_COUNT" }, tagOverrides: { request_host: { value: "request.host" }, response_flags: { operation: "REMOVE" } } }] }] }) +
        tel("default", "ns", { metrics: [{ overrides: [{ match: { metric: "TCP_SENT_BYTES", mode: "SERVER" }, disabled: true }, { match: { customMetric: "my_metric" }, disabled: true }] }] }) +
        tel("default", "web", { selector: { matchLabels: { app: "web" } }, metrics: [{ overrides: [{ match: { metric: "REQUEST_COUNT" }, tagOverrides: { request_host: { operation: "UPSERT", value: "'fixed'" }, foo: { value: "add" } } }] }] }),
    );
    assert.deepEqual(telemetryConfig(s, sidecarProxy({ app: "web" })).metrics, {
      overrides: [
        { metric: "REQUEST_COUNT", tags: { request_host: { value: "request.host" }, response_flags: { remove: true } } },
        { metric: "TCP_SENT_BYTES", mode: "SERVER", disabled: true },
        { metric: "REQUEST_COUNT", tags: { request_host: { value: "'fixed'" } } },
      ],
    });
  });

  it("reads the MeshConfig: a Telemetry provider named there sends spans to its service:port; docs' `zipkin` example works", () => {
    const mc: MeshConfig = {
      extensionProviders: [
        { name: "zipkin", zipkin: { service: "istio-system/127.0.0.1", port: 19411 } },
        { name: "otel-http", opentelemetry: { service: "otel.example.com", port: 4318, http: { path: "/v1/traces" } } },
        { name: "lightstep", opentelemetry: { service: "ingest.lightstep.com", port: 443, http: { path: "/traces/otlp/v0.9", timeout: "2s", headers: [{ name: "lightstep-access-token", envName: "LS_TOKEN" }, { name: "x-team", value: "blue" }, { name: "" }] } } },
        { name: "otel-grpc", opentelemetry: { service: "otel.example.com", port: 4317 } },
        { name: "dd", datadog: { service: "dd.example.com", port: 8126 } },
        { name: "als", envoyOtelAls: { service: "otel.example.com", port: 4317 } },
        { name: "stderr", envoyFileAccessLog: { path: "/dev/stderr", logFormat: { text: "%RESPONSE_CODE%\n" } } },
      ],
      defaultConfig: { tracing: { sampling: 100 } },
    };
    const withProvider = (tracing: string, log = "stderr"): ReturnType<typeof telemetryConfig> =>
      telemetryConfig(snapshotFrom(tel("istio-system", "mesh", { tracing: [{ providers: [{ name: tracing }] }], accessLogging: [{ providers: [{ name: log }] }] }), [], meshConfig(mc)), sidecarProxy({ app: "web" }));
    const z = withProvider("zipkin");
    assert.deepEqual(z.tracing, { endpoint: "http://127.0.0.1:19411/api/v2/spans", format: "zipkin", samplingPercentage: 100 });
    assert.deepEqual(z.accessLog, { format: "text", path: "/dev/stderr", textFormat: "%RESPONSE_CODE%\n" });
    // Istio's shape is OTLP/HTTP protobuf (as Envoy sends it), with the provider's headers and timeout.
    assert.deepEqual(withProvider("otel-http").tracing, { endpoint: "http://otel.example.com:4318/v1/traces", format: "otlp", encoding: "protobuf", samplingPercentage: 100 });
    assert.deepEqual(withProvider("lightstep").tracing, {
      endpoint: "http://ingest.lightstep.com:443/traces/otlp/v0.9",
      format: "otlp",
      encoding: "protobuf",
      headers: [{ name: "lightstep-access-token", envName: "LS_TOKEN" }, { name: "x-team", value: "blue" }],
      timeoutMs: 2000,
      samplingPercentage: 100,
    });
    // Without `http`: OTLP/gRPC to service:port.
    assert.deepEqual(withProvider("otel-grpc").tracing, { endpoint: "http://otel.example.com:4317", format: "otlp", encoding: "protobuf", grpc: true, samplingPercentage: 100 });
    // Types the proxy cannot export to: headers only, no endpoint (analyze says so, AMM1012).
    assert.deepEqual(withProvider("dd").tracing, { format: "zipkin", samplingPercentage: 100 });
    // envoyOtelAls: OTLP logs over gRPC to service:port, Istio's default line as the body.
    assert.deepEqual(withProvider("zipkin", "als").accessLog, { format: "text", path: "", otel: { target: "otel.example.com:4317", logName: "otel_envoy_accesslog" } });
    // Istio's built-in `envoy` stays available next to the MeshConfig's providers.
    assert.deepEqual(withProvider("zipkin", "envoy").accessLog, { format: "text", path: "/dev/stdout" });
  });

  it("MeshConfig defaults beat the runtime's; enableTracing false and the legacy zipkin address", () => {
    const runtime: MeshTelemetry = { extensionProviders: [{ name: "amime-tracing", zipkin: { endpoint: "http://127.0.0.1:1/api/v2/spans" } }], defaultProviders: { tracing: ["amime-tracing"] } };
    const own = meshConfig({ extensionProviders: [{ name: "z", zipkin: { service: "127.0.0.1", port: 2 } }], defaultProviders: { tracing: ["z"] } }, runtime);
    assert.equal(telemetryConfig(snapshotFrom("", [], own), sidecarProxy({ app: "web" })).tracing?.endpoint, "http://127.0.0.1:2/api/v2/spans");
    const keep = meshConfig({ accessLogFile: "/dev/stdout" }, runtime);
    assert.equal(telemetryConfig(snapshotFrom("", [], keep), sidecarProxy({ app: "web" })).tracing?.endpoint, "http://127.0.0.1:1/api/v2/spans");
    assert.equal(telemetryConfig(snapshotFrom("", [], meshConfig({ enableTracing: false })), sidecarProxy({ app: "web" })).tracing, undefined);
    // The runtime's default tracer gives way to a MeshConfig that turns tracing off or names a legacy address.
    assert.equal(telemetryConfig(snapshotFrom("", [], meshConfig({ enableTracing: false }, runtime)), sidecarProxy({ app: "web" })).tracing, undefined);
    const legacyOverRuntime = meshConfig({ defaultConfig: { tracing: { zipkin: { address: "127.0.0.1:3" } } } }, runtime);
    assert.equal(telemetryConfig(snapshotFrom("", [], legacyOverRuntime), sidecarProxy({ app: "web" })).tracing?.endpoint, "http://127.0.0.1:3/api/v2/spans");
    const legacy = meshConfig({ defaultConfig: { tracing: { zipkin: { address: "127.0.0.1:9411" }, sampling: 50 } } });
    assert.deepEqual(telemetryConfig(snapshotFrom("", [], legacy), sidecarProxy({ app: "web" })).tracing, { endpoint: "http://127.0.0.1:9411/api/v2/spans", format: "zipkin", samplingPercentage: 50 });
  });
});
