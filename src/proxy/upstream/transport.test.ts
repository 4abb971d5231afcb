import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Cluster, UpstreamTlsConfig } from "../../model/proxy-config.ts";
import { sameTransport } from "./transport.ts";

const base = {
  name: "outbound|443||api.example.test",
  direction: "outbound",
  discovery: "eds",
  protocol: "http1",
  lb: { policy: "ROUND_ROBIN" },
  connectionPool: { maxConnections: 4294967295, connectTimeoutMs: 10_000, maxPendingRequests: 4294967295, maxRequests: 4294967295, maxRequestsPerConnection: 0, maxRetries: 4294967295, idleTimeoutMs: 3_600_000, maxConnectionDurationMs: 0 },
} as unknown as Cluster;
const simple: UpstreamTlsConfig = { mode: "SIMPLE", sni: "api.example.test", subjectAltNames: [], insecureSkipVerify: false };

describe("sameTransport", () => {
  const cases: [string, Partial<Cluster>, Partial<Cluster>, boolean][] = [
    ["nothing changed", {}, {}, true],
    ["only the pool limits changed", {}, { connectionPool: { ...base.connectionPool, maxConnections: 1 } }, true],
    ["only the load balancer changed", {}, { lb: { policy: "RANDOM" } } as Partial<Cluster>, true],
    ["plain text → SIMPLE", {}, { tls: { ...simple } }, false],
    ["SIMPLE → plain text", { tls: { ...simple } }, {}, false],
    ["SIMPLE → MUTUAL", { tls: { ...simple } }, { tls: { ...simple, mode: "MUTUAL", clientCertificate: "/c.pem", privateKey: "/k.pem" } }, false],
    ["SNI changed", { tls: { ...simple } }, { tls: { ...simple, sni: "other.example.test" } }, false],
    ["CA changed", { tls: { ...simple, caCertificates: "/a.pem" } }, { tls: { ...simple, caCertificates: "/b.pem" } }, false],
    ["verification turned off", { tls: { ...simple } }, { tls: { ...simple, insecureSkipVerify: true } }, false],
    ["http1 → http2 (ALPN h2)", {}, { protocol: "http2" }, false],
    ["useClientProtocol turned on", { protocol: "http2" }, { protocol: "http2", useClientProtocol: true }, false],
  ];
  for (const [name, a, b, same] of cases) {
    it(`${name}: ${same ? "pools kept" : "pools drained"}`, () => {
      assert.equal(sameTransport({ ...base, ...a }, { ...base, ...b }), same);
    });
  }
});
