import assert from "node:assert/strict";
import { test } from "node:test";
import type { DestinationRuleSpec, LoadBalancerSettings, OutlierDetection } from "../../model/specs/networking.ts";
import type { ConnectionPoolConfig, LoadBalancerConfig, OutlierDetectionConfig } from "../../model/proxy-config.ts";
import { connectionPoolConfig, effectivePolicy, loadBalancerConfig, outlierDetectionConfig, tlsConfig } from "./traffic-policy.ts";

test("load balancer settings → LoadBalancerConfig", () => {
  const cases: [string, LoadBalancerSettings | undefined, LoadBalancerConfig][] = [
    ["unset → LEAST_REQUEST", undefined, { policy: "LEAST_REQUEST" }],
    ["UNSPECIFIED", { simple: "UNSPECIFIED" }, { policy: "LEAST_REQUEST" }],
    ["LEAST_CONN is LEAST_REQUEST", { simple: "LEAST_CONN" }, { policy: "LEAST_REQUEST" }],
    ["ROUND_ROBIN", { simple: "ROUND_ROBIN" }, { policy: "ROUND_ROBIN" }],
    ["RANDOM", { simple: "RANDOM" }, { policy: "RANDOM" }],
    ["PASSTHROUGH", { simple: "PASSTHROUGH" }, { policy: "PASSTHROUGH" }],
    ["header hash, ring 1024", { consistentHash: { httpHeaderName: "X-User" } }, { policy: "RING_HASH", hashKey: { header: "x-user" }, minimumRingSize: 1024 }],
    ["ringHash size", { consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 2048 } } }, { policy: "RING_HASH", hashKey: { sourceIp: true }, minimumRingSize: 2048 }],
    ["deprecated minimumRingSize", { consistentHash: { httpQueryParameterName: "u", minimumRingSize: 64 } }, { policy: "RING_HASH", hashKey: { queryParameter: "u" }, minimumRingSize: 64 }],
    ["maglev default table", { consistentHash: { httpHeaderName: "x", maglev: {} } }, { policy: "MAGLEV", hashKey: { header: "x" }, tableSize: 65537 }],
    ["maglev table size", { consistentHash: { httpHeaderName: "x", maglev: { tableSize: 101 } } }, { policy: "MAGLEV", hashKey: { header: "x" }, tableSize: 101 }],
    ["cookie with ttl", { consistentHash: { httpCookie: { name: "s", path: "/", ttl: "10s" } } }, { policy: "RING_HASH", hashKey: { cookie: { name: "s", path: "/", ttlMs: 10000 } }, minimumRingSize: 1024 }],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(loadBalancerConfig(input), want, name);
});

/**
 * Istio's ConnectionPoolSettings defaults, written out (istio/api destination_rule.proto; Istio sets
 * every circuit-breaker threshold to math.MaxUint32, getDefaultCircuitBreakerThresholds):
 * tcp.maxConnections, http1MaxPendingRequests, http2MaxRequests and maxRetries 2^32-1;
 * connectTimeout 10 s; idleTimeout 1 h; maxRequestsPerConnection 0 (unlimited); no
 * maxConnectionDuration.
 */
const ISTIO_POOL_DEFAULTS: ConnectionPoolConfig = {
  maxConnections: 4294967295,
  connectTimeoutMs: 10_000,
  maxPendingRequests: 4294967295,
  maxRequests: 4294967295,
  maxRequestsPerConnection: 0,
  maxRetries: 4294967295,
  idleTimeoutMs: 3_600_000,
  maxConnectionDurationMs: 0,
};

test("connection pool: Istio defaults; 0 means unset; circuit-breaking sample", () => {
  assert.deepEqual(connectionPoolConfig(undefined, false), ISTIO_POOL_DEFAULTS);
  assert.deepEqual(connectionPoolConfig(undefined, true), ISTIO_POOL_DEFAULTS, "a TCP cluster has the same defaults");
  assert.deepEqual(connectionPoolConfig({ tcp: { maxConnections: 0 }, http: { http2MaxRequests: 0 } }, false), ISTIO_POOL_DEFAULTS);
  const cb = connectionPoolConfig({ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 } }, false);
  assert.deepEqual(cb, { ...ISTIO_POOL_DEFAULTS, maxConnections: 1, maxPendingRequests: 1, maxRequestsPerConnection: 1 });
  const timing = connectionPoolConfig({ tcp: { connectTimeout: "250ms", idleTimeout: "5s", maxConnectionDuration: "1m", tcpKeepalive: { probes: 3, time: "10s", interval: "1s" } }, http: { idleTimeout: "0s", maxRetries: 7, http2MaxRequests: 9 } }, false);
  assert.deepEqual([timing.connectTimeoutMs, timing.idleTimeoutMs, timing.maxConnectionDurationMs, timing.maxRetries, timing.maxRequests], [250, 0, 60000, 7, 9]);
  assert.deepEqual(timing.tcpKeepalive, { probes: 3, timeMs: 10000, intervalMs: 1000 });
  // A TCP cluster's idle timeout is tcp.idleTimeout.
  assert.equal(connectionPoolConfig({ tcp: { idleTimeout: "5s" }, http: { idleTimeout: "9s" } }, true).idleTimeoutMs, 5000);
});

test("outlier detection: absent → none; unset fields → defaults; deprecated consecutiveErrors", () => {
  const d: OutlierDetectionConfig = {
    consecutive5xxErrors: 5, consecutiveGatewayErrors: 0, consecutiveLocalOriginFailures: 0, splitExternalLocalOriginErrors: false,
    intervalMs: 10000, baseEjectionTimeMs: 30000, maxEjectionPercent: 10, minHealthPercent: 0,
  };
  const cases: [string, OutlierDetection | undefined, OutlierDetectionConfig | undefined][] = [
    ["absent", undefined, undefined],
    ["empty", {}, d],
    ["circuit-breaking sample", { consecutive5xxErrors: 1, interval: "1s", baseEjectionTime: "3m", maxEjectionPercent: 100 }, { ...d, consecutive5xxErrors: 1, intervalMs: 1000, baseEjectionTimeMs: 180000, maxEjectionPercent: 100 }],
    ["consecutiveErrors → gateway errors only", { consecutiveErrors: 7 }, { ...d, consecutive5xxErrors: 0, consecutiveGatewayErrors: 7 }],
    ["explicit 5xx wins over consecutiveErrors", { consecutiveErrors: 7, consecutive5xxErrors: 3 }, { ...d, consecutive5xxErrors: 3, consecutiveGatewayErrors: 7 }],
    ["0 disables 5xx", { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }, { ...d, consecutive5xxErrors: 0, consecutiveGatewayErrors: 2 }],
    ["local origin needs the split flag", { consecutiveLocalOriginFailures: 3 }, d],
    ["split local origin", { splitExternalLocalOriginErrors: true }, { ...d, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 5 }],
    ["panic threshold", { minHealthPercent: 50 }, { ...d, minHealthPercent: 50 }],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(outlierDetectionConfig(input), want, name);
});

test("effective policy: port level replaces wholesale; subsets override field by field", () => {
  const dr: DestinationRuleSpec = {
    host: "r",
    trafficPolicy: {
      loadBalancer: { simple: "RANDOM" },
      connectionPool: { tcp: { maxConnections: 10 } },
      portLevelSettings: [{ port: { number: 9090 }, connectionPool: { tcp: { maxConnections: 2 } } }],
    },
    subsets: [
      { name: "v1", labels: { version: "v1" }, trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" } } },
      { name: "v2", labels: { version: "v2" }, trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, outlierDetection: {} }] } },
    ],
  };
  const top = effectivePolicy(dr, "", 9080);
  assert.equal(top.loadBalancer?.simple, "RANDOM");
  assert.equal(top.connectionPool?.tcp?.maxConnections, 10);
  // Port 9090: the top-level RANDOM does not carry into the port-level policy.
  const p9090 = effectivePolicy(dr, "", 9090);
  assert.equal(p9090.loadBalancer, undefined);
  assert.equal(p9090.connectionPool?.tcp?.maxConnections, 2);
  const v1 = effectivePolicy(dr, "v1", 9080);
  assert.equal(v1.loadBalancer?.simple, "ROUND_ROBIN");
  assert.equal(v1.connectionPool?.tcp?.maxConnections, 10);
  const v2 = effectivePolicy(dr, "v2", 9080);
  assert.deepEqual(v2, { loadBalancer: undefined, connectionPool: undefined, outlierDetection: {}, tls: undefined });
  assert.equal(effectivePolicy(dr, "missing", 9080).loadBalancer?.simple, "RANDOM");
  assert.deepEqual(effectivePolicy(undefined, "v1", 1), { loadBalancer: undefined, connectionPool: undefined, outlierDetection: undefined, tls: undefined });
});

test("client TLS modes", () => {
  const ctx = { port: 9080, subset: "v1", host: "r.default.svc.cluster.local", identities: ["spiffe://cluster.local/ns/default/sa/r"], credentialsAllowed: true };
  assert.equal(tlsConfig(undefined, ctx), undefined);
  assert.equal(tlsConfig({ mode: "DISABLE" }, ctx), undefined);
  assert.deepEqual(tlsConfig({ mode: "ISTIO_MUTUAL" }, ctx), { mode: "ISTIO_MUTUAL", sni: "outbound_.9080_.v1_.r.default.svc.cluster.local", subjectAltNames: ctx.identities, insecureSkipVerify: false });
  assert.deepEqual(tlsConfig({ mode: "SIMPLE", sni: "x.example", caCertificates: "/ca.pem" }, ctx), { mode: "SIMPLE", sni: "x.example", caCertificates: "/ca.pem", subjectAltNames: [], insecureSkipVerify: false });
  assert.deepEqual(tlsConfig({ mode: "MUTUAL", clientCertificate: "/c.pem", privateKey: "/k.pem", subjectAltNames: ["a"] }, ctx), {
    mode: "MUTUAL", sni: ctx.host, clientCertificate: "/c.pem", privateKey: "/k.pem", subjectAltNames: ["a"], insecureSkipVerify: false,
  });
  // credentialName (the proxy's secret store) and caCrl are carried; the name replaces the files.
  assert.deepEqual(tlsConfig({ mode: "MUTUAL", credentialName: "client-credential", caCrl: "/crl.pem" }, ctx), {
    mode: "MUTUAL", sni: ctx.host, credentialName: "client-credential", caCrl: "/crl.pem", subjectAltNames: [], insecureSkipVerify: false,
  });
  assert.deepEqual(tlsConfig({ mode: "SIMPLE", caCertificates: "/ca.pem", caCrl: "/crl.pem" }, ctx), { mode: "SIMPLE", sni: ctx.host, caCertificates: "/ca.pem", caCrl: "/crl.pem", subjectAltNames: [], insecureSkipVerify: false });
  // A sidecar and a DestinationRule without workloadSelector: Istio builds no TLS for credentialName.
  assert.equal(tlsConfig({ mode: "SIMPLE", credentialName: "c" }, { ...ctx, credentialsAllowed: false }), undefined);
});
