import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMeshConfig } from "./parse.ts";
import { validateMeshConfig } from "./validate.ts";

function check(yaml: string): string[] {
  const { document, diagnostics } = parseMeshConfig(yaml, "mesh.yaml");
  assert.deepEqual(diagnostics, []);
  assert.ok(document);
  return validateMeshConfig(document).diagnostics.map((d) => `${d.level} ${d.code} ${d.path} @${d.source.line}: ${d.message}`);
}

describe("validateMeshConfig", () => {
  it("accepts Istio's extension providers and the fields Amime applies without a word", () => {
    const out = check(`
enableTracing: true
accessLogFile: /dev/stdout
accessLogEncoding: JSON
rootNamespace: istio-system
trustDomain: example.org
outboundTrafficPolicy: {mode: REGISTRY_ONLY}
defaultProviders: {tracing: [zipkin], accessLogging: [envoy]}
defaultConfig:
  tracing: {sampling: 100, zipkin: {address: "127.0.0.1:9411"}}
  gatewayTopology: {numTrustedProxies: 1, forwardClientCertDetails: APPEND_FORWARD}
extensionProviders:
- name: zipkin
  zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}
- name: otel
  opentelemetry: {service: istio-system/otel.example.com, port: 4318, http: {path: /v1/traces}}
- name: file
  envoyFileAccessLog: {path: /dev/stdout, logFormat: {labels: {}}}
- name: authz
  envoyExtAuthzHttp: {service: authz.foo.svc.cluster.local, port: 8000, failOpen: false}
- name: prom
  prometheus: {}
`);
    assert.deepEqual(out, []);
  });

  it("reports Istio's provider errors at the field", () => {
    const out = check(`
extensionProviders:
- name: a
  zipkin: {port: 9411}
- name: a
  datadog: {service: "bad_host", port: 70000}
- name: ""
  prometheus: {}
- name: none
- name: two
  prometheus: {}
  zipkin: {service: z.example.com, port: 1}
`);
    assert.deepEqual(out, [
      "error AMM0012 extensionProviders[0].zipkin.service @4: service must not be empty",
      "error AMM0012 extensionProviders[1].name @5: duplicate extension provider name a",
      'error AMM0012 extensionProviders[1].datadog.service @6: invalid service "bad_host": domain name "bad_host" invalid (label "bad_host" invalid)',
      "error AMM0012 extensionProviders[1].datadog.port @6: port number 70000 must be in the range 1..65535",
      "error AMM0012 extensionProviders[2].name @7: empty extension provider name",
      `error AMM0012 extensionProviders[3] @9: extension provider "none" sets no provider; set one of envoyExtAuthzHttp, envoyExtAuthzGrpc, zipkin, lightstep, datadog, stackdriver, opencensus, skywalking, opentelemetry, prometheus, envoyFileAccessLog, envoyHttpAls, envoyTcpAls, envoyOtelAls, sds, dogstatsd, fluentd`,
      'error AMM0012 extensionProviders[4] @10: extension provider "two" sets zipkin and prometheus; a provider is exactly one of them',
    ]);
  });

  it("Amime's dogstatsd provider: service, port and a prefix of name characters", () => {
    assert.deepEqual(check(`
extensionProviders:
- name: dd
  dogstatsd: {service: datadog-agent.datadog.svc.cluster.local, port: 8125, prefix: mesh.istio}
- name: bad
  dogstatsd: {service: datadog-agent.datadog.svc.cluster.local, port: 8125, prefix: "a|b", tags: [x]}
`), [
      "warning AMM0013 extensionProviders[1].dogstatsd.tags @6: unknown field 'tags'",
      'error AMM0012 extensionProviders[1].dogstatsd.prefix @6: prefix "a|b" must be letters, digits, \'_\' and \'.\' (it starts every DogStatsD metric name)',
    ]);
  });

  it("Amime's fluentd provider: service, port, a tag (required, as Envoy's), logFormat", () => {
    assert.deepEqual(check(`
extensionProviders:
- name: fd
  fluentd: {service: fluentd.logging.svc.cluster.local, port: 24224, tag: envoy.access, logFormat: {labels: {code: "%RESPONSE_CODE%"}}}
- name: notag
  fluentd: {service: fluentd.logging.svc.cluster.local, port: 24224}
`), ["error AMM0012 extensionProviders[1].fluentd.tag @6: tag must not be empty (Fluentd routes events by it, e.g. envoy.access)"]);
  });

  it("ext_authz providers: the task's string port is a port; Istio's header, pathPrefix and statusOnError rules; clearRouteCache not applied", () => {
    assert.deepEqual(check(`
extensionProviders:
- name: sample-ext-authz-grpc
  envoyExtAuthzGrpc: {service: ext-authz.foo.svc.cluster.local, port: "9000"}
- name: full
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8000
    timeout: 2s
    pathPrefix: /check
    statusOnError: "503"
    includeRequestHeadersInCheck: [x-ext-authz, "x-*"]
    includeAdditionalHeadersInCheck: {x-extra: "1"}
    headersToUpstreamOnAllow: ["*-user"]
    includeRequestBodyInCheck: {maxRequestBytes: 1024, allowPartialMessage: true}
`), []);
    const out = check(`
extensionProviders:
- name: bad
  envoyExtAuthzHttp: {service: a.example.com, port: 80, pathPrefix: check, statusOnError: "forbidden", headersToDownstreamOnDeny: ["*"], clearRouteCache: true}
`);
    assert.deepEqual(out.map((l) => l.replace(/ @.*$/, "")), [
      "warning AMM1010 extensionProviders[0].envoyExtAuthzHttp.clearRouteCache",
      "error AMM0012 extensionProviders[0].envoyExtAuthzHttp.statusOnError",
      "error AMM0012 extensionProviders[0].envoyExtAuthzHttp.pathPrefix",
      "error AMM0012 extensionProviders[0].envoyExtAuthzHttp.headersToDownstreamOnDeny[0]",
    ]);
  });

  it("types, enums and ranges; unknown fields warn with a suggestion", () => {
    const out = check(`
enableTracing: "yes"
accessLogEncoding: XML
outboundTrafficPolicy: {mode: DENY}
trustDomain: "a..b"
defaultConfig:
  concurrency: -1
  tracing: {sampling: 101, zipkin: {address: zipkin}}
extensionProvider: []
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), [
      "warning AMM0013 extensionProvider @9",
      "error AMM0012 enableTracing @2",
      "error AMM0012 accessLogEncoding @3",
      "error AMM0012 outboundTrafficPolicy.mode @4",
      "error AMM0012 trustDomain @5",
      "warning AMM1010 defaultConfig.concurrency @7",
      "error AMM0012 defaultConfig.concurrency @7",
      "error AMM0012 defaultConfig.tracing.sampling @8",
      "error AMM0012 defaultConfig.tracing.zipkin.address @8",
    ]);
    assert.match(out[0] ?? "", /did you mean 'extensionProviders'/);
  });

  it("gatewayTopology: numTrustedProxies and forwardClientCertDetails are applied and checked; proxyProtocol is not applied", () => {
    const out = check(`
defaultConfig:
  gatewayTopology: {numTrustedProxies: -1, forwardClientCertDetails: SANITISE, proxyProtocol: {}, numTrustedProxy: 2}
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), [
      "warning AMM0013 defaultConfig.gatewayTopology.numTrustedProxy @3",
      "error AMM0012 defaultConfig.gatewayTopology.numTrustedProxies @3",
      "error AMM0012 defaultConfig.gatewayTopology.forwardClientCertDetails @3",
      "warning AMM1010 defaultConfig.gatewayTopology.proxyProtocol @3",
    ]);
  });

  it("says which fields are accepted but not applied (AMM1010), runtime keys included", () => {
    const out = check(`
enablePrometheusMerge: true
connectTimeout: 5s
defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
  proxyMetadata: {ISTIO_META_DNS_CAPTURE: "true"}
  runtimeValues: {"re2.max_program_size.error_level": "1024"}
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), [
      "warning AMM1010 connectTimeout @3",
      "warning AMM1010 enablePrometheusMerge @2",
      "warning AMM1010 defaultConfig.discoveryAddress @5",
      "warning AMM1010 defaultConfig.proxyMetadata @6",
      "warning AMM1010 defaultConfig.runtimeValues[\"re2.max_program_size.error_level\"] @7",
    ]);
  });

  it("applies the connection-limit and head-timeout runtime keys, whose values must be non-negative integers", () => {
    const out = check(`
defaultConfig:
  runtimeValues:
    overload.global_downstream_max_connections: "50000"
    envoy.resource_limits.listener.outbound.connection_limit: "1000"
    amime.request_headers_timeout_ms: "ten seconds"
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), ["error AMM0012 defaultConfig.runtimeValues[\"amime.request_headers_timeout_ms\"] @6"]);
  });

  it("defaultProviders must name a provider (AMM1011) the sidecar can use there (AMM1012)", () => {
    const out = check(`
extensionProviders:
- name: dd
  datadog: {service: dd.example.com, port: 8126}
defaultProviders:
  tracing: [dd]
  accessLogging: [envoy, nope]
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), [
      "warning AMM1012 defaultProviders.tracing[0] @6",
      "error AMM1011 defaultProviders.accessLogging[1] @7",
    ]);
  });

  it("provider fields the sidecar does not apply are AMM1010 too (tag lengths, timeouts); custom JSON labels are applied", () => {
    const out = check(`
extensionProviders:
- name: z
  zipkin: {service: z.example.com, port: 9411, maxTagLength: 64, traceContextOption: USE_B3_WITH_W3C_PROPAGATION}
- name: o
  opentelemetry: {service: o.example.com, port: 4318, http: {path: /v1/traces, timeout: 5s, headers: [{name: lightstep-access-token, envName: LS_TOKEN}]}}
- name: f
  envoyFileAccessLog: {path: /dev/stdout, logFormat: {labels: {code: "%RESPONSE_CODE%"}}}
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), [
      "warning AMM1010 extensionProviders[0].zipkin.maxTagLength @4",
      "warning AMM1010 extensionProviders[0].zipkin.traceContextOption @4",
    ]);
  });

  it("OTLP/HTTP headers: a name and exactly one of value / envName", () => {
    const out = check(`
extensionProviders:
- name: o
  opentelemetry:
    service: o.example.com
    port: 4318
    http:
      path: /v1/traces
      headers:
      - {name: x-api-key, value: k}
      - {name: "bad name", value: k}
      - {name: x-both, value: a, envName: B}
      - {name: x-none}
`);
    assert.deepEqual(out.map((l) => l.replace(/:.*$/, "")), [
      "error AMM0012 extensionProviders[0].opentelemetry.http.headers[1].name @11",
      "error AMM0012 extensionProviders[0].opentelemetry.http.headers[2] @12",
      "error AMM0012 extensionProviders[0].opentelemetry.http.headers[3] @13",
    ]);
  });
});
