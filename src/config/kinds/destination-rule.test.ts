// DestinationRule rejections of Istio's validator (pkg/config/validation), plus valid rules.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function validate(spec: unknown): Diagnostic[] {
  const doc = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "dr", namespace: "ns" }, spec };
  const { resources } = parseDocuments(JSON.stringify(doc), "dr.json");
  return validateResource(resources[0]!).diagnostics;
}
const errors = (ds: Diagnostic[]): string[] => ds.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
const tp = (trafficPolicy: unknown): unknown => ({ host: "reviews", trafficPolicy });
const lb = (loadBalancer: unknown): unknown => tp({ loadBalancer });
const pool = (connectionPool: unknown): unknown => tp({ connectionPool });
const outlier = (outlierDetection: unknown): unknown => tp({ outlierDetection });
const tls = (t: unknown): unknown => tp({ tls: t });

const REJECTED: [string, unknown, string][] = [
  ["empty host", { host: "" }, "empty domain name not allowed"],
  ["empty subset name", { host: "a", subsets: [{ name: "" }] }, "subset name cannot be empty"],
  ["duplicate subsets", { host: "a", subsets: [{ name: "foo", labels: { v: "1" } }, { name: "foo", labels: { v: "2" } }] }, "duplicate subset names: foo"],
  ["empty traffic policy", tp({}), "traffic policy must have at least one field"],
  ["tunnel and proxyProtocol", tp({ tunnel: { targetHost: "a.b", targetPort: 80 }, proxyProtocol: { version: "V1" } }), "tunnel and proxyProtocol must not be set together"],
  ["proxyProtocol V3", tp({ proxyProtocol: { version: "V3" } }), "proxy protocol version is invalid"],
  ["port-level without port", tp({ portLevelSettings: [{ tls: { mode: "SIMPLE" } }] }), "portTrafficPolicy must have valid port"],
  ["port-level with only port", tp({ portLevelSettings: [{ port: { number: 80 } }] }), "port traffic policy must have at least one field"],
  ["empty connection pool", pool({}), "connection pool must have at least one field"],
  ["negative maxConnections", pool({ tcp: { maxConnections: -1 } }), "max connections must be non-negative"],
  ["negative http1MaxPendingRequests", pool({ http: { http1MaxPendingRequests: -1 } }), "http1 max pending requests must be non-negative"],
  ["negative http2MaxRequests", pool({ http: { http2MaxRequests: -1 } }), "http2 max requests must be non-negative"],
  ["negative maxRequestsPerConnection", pool({ http: { maxRequestsPerConnection: -1 } }), "max requests per connection must be non-negative"],
  ["negative maxRetries", pool({ http: { maxRetries: -1 } }), "max retries must be non-negative"],
  ["negative maxConcurrentStreams", pool({ http: { maxConcurrentStreams: -1 } }), "max concurrent streams must be non-negative"],
  ["http2KeepAlive without timeout", pool({ http: { http2KeepAlive: { interval: "1s" } } }), "http2 keepalive timeout is required"],
  ["UPGRADE with useClientProtocol", pool({ http: { h2UpgradePolicy: "UPGRADE", useClientProtocol: true } }), "use client protocol must not be true when H2UpgradePolicy is UPGRADE"],
  ["connectTimeout sub-ms", pool({ tcp: { connectTimeout: "1.0000001s" } }), "only durations to ms precision are supported"],
  ["maxEjectionPercent 105", outlier({ maxEjectionPercent: 105 }), "percentage 105 is not in range 0..100"],
  ["minHealthPercent -1", outlier({ minHealthPercent: -1 }), "percentage -1 is not in range 0..100"],
  ["minHealthPercent 101", outlier({ minHealthPercent: 101 }), "percentage 101 is not in range 0..100"],
  ["interval sub-ms", outlier({ interval: "10.0000001s" }), "only durations to ms precision are supported"],
  ["local origin without split", outlier({ consecutiveLocalOriginFailures: 3 }), "split external local origin errors is set to false"],
  ["cookie without name", lb({ consistentHash: { httpCookie: { ttl: "0s" } } }), "name required for HttpCookie"],
  ["duplicate cookie attribute", lb({ consistentHash: { httpCookie: { name: "c", attributes: [{ name: "a" }, { name: "a" }] } } }), "duplicate cookie attribute name: a"],
  ["empty cookie attribute", lb({ consistentHash: { httpCookie: { name: "c", attributes: [{ value: "x" }] } } }), "cookie attribute name cannot be empty"],
  ["maglev 0", lb({ consistentHash: { httpHeaderName: "x", maglev: { tableSize: 0 } } }), "tableSize must be set for maglev"],
  ["maglev not prime", lb({ consistentHash: { httpHeaderName: "x", maglev: { tableSize: 1000 } } }), "tableSize must be a prime number for maglev"],
  ["maglev too large", lb({ consistentHash: { httpHeaderName: "x", maglev: { tableSize: 5000011 } } }), "tableSize must be less than 5000011 for maglev"],
  ["minimumRingSize with ringHash", lb({ consistentHash: { useSourceIp: true, minimumRingSize: 10, ringHash: { minimumRingSize: 10 } } }), "only one of MinimumRingSize or Maglev/Ringhash can be specified"],
  ["locality and zone aware", lb({ localityLbSetting: { enabled: true }, zoneAwareLbSetting: { enabled: true } }), "only one of localityLbSetting or zoneAwareLbSetting can be set"],
  ["distribute and failover", lb({ localityLbSetting: { distribute: [{ from: "a/*", to: { "b/*": 100 } }], failover: [{ from: "a", to: "b" }] } }), "can not simultaneously specify 'distribute' and 'failover'"],
  ["distribute weight 0", lb({ localityLbSetting: { distribute: [{ from: "a/*", to: { "b/*": 0, "c/*": 100 } }] } }), "locality weight must be in range [1, 100]"],
  ["distribute total 90", lb({ localityLbSetting: { distribute: [{ from: "a/*", to: { "b/*": 40, "c/*": 50 } }] } }), "total locality weight 90 != 100"],
  ["failover from == to", lb({ localityLbSetting: { failover: [{ from: "a", to: "a" }] } }), "locality lb failover settings must specify different regions"],
  ["failover with /", lb({ localityLbSetting: { failover: [{ from: "a/z", to: "b" }] } }), "locality lb failover only specify region"],
  ["failover with *", lb({ localityLbSetting: { failover: [{ from: "a", to: "*" }] } }), "locality lb failover region should not contain '*' wildcard"],
  ["warmup without duration", lb({ warmup: { minimumPercent: 5 } }), "warmup duration is required"],
  ["warmup minimumPercent 150", lb({ warmup: { duration: "10s", minimumPercent: 150 } }), "minimumPercent 150 must be in range 0..100"],
  ["warmup aggression -0.1", lb({ warmup: { duration: "10s", aggression: -0.1 } }), "aggression -0.1 must be greater than 0"],
  ["warmup and warmupDurationSecs", lb({ warmup: { duration: "10s" }, warmupDurationSecs: "10s" }), "only one of warmupDurationSecs or warmup may be set"],
  ["skip verify with CA in SIMPLE", tls({ mode: "SIMPLE", insecureSkipVerify: true, caCertificates: "/ca.pem" }), "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"],
  ["skip verify with credentialName in SIMPLE", tls({ mode: "SIMPLE", insecureSkipVerify: true, credentialName: "s" }), "InsecureSkipVerify is set true"],
  ["skip verify with SANs in MUTUAL", tls({ mode: "MUTUAL", insecureSkipVerify: true, subjectAltNames: ["a"], clientCertificate: "c", privateKey: "k" }), "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"],
  ["MUTUAL without client cert", tls({ mode: "MUTUAL", privateKey: "k" }), "client certificate required for mutual tls"],
  ["MUTUAL without key", tls({ mode: "MUTUAL", clientCertificate: "c" }), "private key required for mutual tls"],
  ["credentialName with files", tls({ mode: "MUTUAL", credentialName: "s", clientCertificate: "c" }), "cannot specify client certificates or CA certificate or CA CRL If credentialName is set"],
  ["duplicate exportTo", { host: "a", exportTo: ["x", "x"] }, "duplicate entries in exportTo for entry x"],
  ["exportTo own namespace and .", { host: "a", exportTo: ["ns", "."] }, "duplicate entries in exportTo: . and current namespace ns"],
  ["exportTo * with others", { host: "a", exportTo: ["*", "x"] }, "cannot have both public (*) and non-public exportTo values for a resource"],
  ["selector exported beyond namespace", { host: "a", workloadSelector: { matchLabels: { app: "x" } }, exportTo: ["other"] }, "destination rule with workload selector cannot have exportTo beyond current namespace"],
  ["subset policy is checked too", { host: "a", subsets: [{ name: "v1", labels: { v: "1" }, trafficPolicy: {} }] }, "traffic policy must have at least one field"],
  ["bad tunnel host", tp({ tunnel: { targetHost: "bad host", targetPort: 80 } }), "tunnel target host must be valid FQDN or IP address"],
];

for (const [title, spec, want] of REJECTED) {
  test(`rejects: ${title}`, () => {
    const errs = errors(validate(spec));
    assert.ok(errs.some((e) => e.includes(want)), `want ${JSON.stringify(want)}, got ${JSON.stringify(errs)}`);
  });
}

const VALID: [string, unknown][] = [
  ["everything", {
    host: "reviews.prod.svc.cluster.local",
    trafficPolicy: {
      loadBalancer: { simple: "LEAST_REQUEST", localityLbSetting: { enabled: true, failover: [{ from: "us-east", to: "us-west" }] }, warmup: { duration: "30s", minimumPercent: 10, aggression: 1.5 } },
      connectionPool: { tcp: { maxConnections: 100, connectTimeout: "30ms", idleTimeout: "0s", tcpKeepalive: { time: "7200s", interval: "75s", probes: 9 } }, http: { http1MaxPendingRequests: 1, http2MaxRequests: 1000, maxRequestsPerConnection: 10, maxRetries: 3, idleTimeout: "1h", h2UpgradePolicy: "UPGRADE" } },
      outlierDetection: { consecutive5xxErrors: 7, consecutiveGatewayErrors: 3, interval: "5m", baseEjectionTime: "15m", maxEjectionPercent: 100, minHealthPercent: 50, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2 },
      tls: { mode: "ISTIO_MUTUAL", sni: "reviews" },
      portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { consistentHash: { httpCookie: { name: "user", ttl: "0s", path: "/" }, maglev: { tableSize: 65537 } } } }],
      retryBudget: { percent: { value: 20 }, minRetryConcurrency: 3 },
    },
    subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" }, trafficPolicy: { loadBalancer: { simple: "ROUND_ROBIN" } } }],
    exportTo: [".", "other"],
  }],
  ["distribute summing to 100", lb({ localityLbSetting: { distribute: [{ from: "us-west/zone1/*", to: { "us-west/zone1/*": 80, "us-west/zone2/*": 20 } }] } })],
  ["SIMPLE with credentialName", tls({ mode: "SIMPLE", credentialName: "secret", sni: "a.b" })],
  ["MUTUAL with files", tls({ mode: "MUTUAL", clientCertificate: "/c.pem", privateKey: "/k.pem", caCertificates: "/ca.pem" })],
  ["wildcard host", { host: "*.foo.com" }],
  ["selector kept in namespace", { host: "a", workloadSelector: { matchLabels: { app: "x" } }, exportTo: ["."] }],
  ["tunnel", tp({ tunnel: { protocol: "POST", targetHost: "10.0.0.1", targetPort: 8080 } })],
];

for (const [title, spec] of VALID) {
  test(`valid: ${title}`, () => assert.deepEqual(errors(validate(spec)), []));
}

test("deprecated fields warn but pass", () => {
  const ds = validate(tp({ outlierDetection: { consecutiveErrors: 5 }, loadBalancer: { consistentHash: { httpHeaderName: "x", minimumRingSize: 1024 } } }));
  assert.deepEqual(errors(ds), []);
  const dep = ds.filter((d) => d.code === "AMM0011").map((d) => d.path);
  assert.deepEqual(dep.sort(), ["spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize", "spec.trafficPolicy.outlierDetection.consecutiveErrors"]);
});

test("empty subset labels only warn; wrong types are errors, not crashes", () => {
  const ds = validate({ host: "a", subsets: [{ name: "v1" }] });
  assert.deepEqual(errors(ds), []);
  assert.ok(ds.some((d) => d.level === "warning" && d.path === "spec.subsets[0].labels"));
  const bad = validate({ host: ["a"], trafficPolicy: "x", subsets: { name: "v1" } });
  assert.equal(errors(bad).length, 3);
  assert.ok(!bad.some((d) => d.message.startsWith("internal error")));
});

test("the amime.dev/health-check annotation is validated on DestinationRules", () => {
  const doc = (value: string): Diagnostic[] => {
    const r = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "r", annotations: { "amime.dev/health-check": value } }, spec: { host: "reviews" } };
    return validateResource(parseDocuments(JSON.stringify(r), "dr.yaml").resources[0]!).diagnostics.filter((d) => d.level === "error");
  };
  assert.deepEqual(doc('{"tcp":{},"interval":"5s"}'), []);
  assert.deepEqual(doc('{"http":{},"unhealthyThreshold":0}').map((d) => d.message), ["unhealthyThreshold: must be an integer from 1 to 1000 (got 0)"]);
});
