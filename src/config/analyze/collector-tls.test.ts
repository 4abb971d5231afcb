import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { JsonObject } from "../../model/resource.ts";
import { collectorTlsCheck } from "./collector-tls.ts";
import { findings, summary } from "./harness.ts";

const rule = (host: string, trafficPolicy: JsonObject): JsonObject => ({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "collector", namespace: "istio-system" }, spec: { host, trafficPolicy } });
const meshConfig = {
  extensionProviders: [
    { name: "otel", opentelemetry: { service: "observability/otel.observability.svc.cluster.local", port: 4317 } },
    { name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } },
  ],
};

describe("collector-tls check", () => {
  it("the files the export uses pass without a word; other hosts are not collectors", () => {
    const files = { tls: { mode: "MUTUAL", caCertificates: "/ca.pem", clientCertificate: "/c.pem", privateKey: "/k.pem", sni: "otel" } };
    const elsewhere = { tls: { mode: "SIMPLE", credentialName: "web-cert", subjectAltNames: ["web"] } };
    assert.deepEqual(summary(findings([rule("otel.observability.svc.cluster.local", files), rule("web.default.svc.cluster.local", elsewhere)], collectorTlsCheck, { meshConfig })), []);
  });

  it("credentialName and subjectAltNames on a collector's rule, top level and per port: AMM1023", () => {
    const policy = {
      tls: { mode: "SIMPLE", credentialName: "otel-ca" },
      portLevelSettings: [{ port: { number: 9411 }, tls: { mode: "MUTUAL", subjectAltNames: ["zipkin"], clientCertificate: "/c.pem", privateKey: "/k.pem" } }],
    };
    assert.deepEqual(summary(findings([rule("otel.observability.svc.cluster.local", policy), rule("zipkin.istio-system.svc.cluster.local", policy)], collectorTlsCheck, { meshConfig })), [
      "AMM1023 warning spec.trafficPolicy.tls.credentialName",
      "AMM1023 warning spec.trafficPolicy.portLevelSettings[0].tls.subjectAltNames",
      "AMM1023 warning spec.trafficPolicy.tls.credentialName",
      "AMM1023 warning spec.trafficPolicy.portLevelSettings[0].tls.subjectAltNames",
    ]);
  });

  it("without TLS origination (DISABLE, ISTIO_MUTUAL) the fields are not the export's concern", () => {
    const policy = { tls: { mode: "ISTIO_MUTUAL", subjectAltNames: ["x"] } };
    assert.deepEqual(summary(findings([rule("otel.observability.svc.cluster.local", policy)], collectorTlsCheck, { meshConfig })), []);
  });
});
