// Sidecar validation (Istio has no testdata file for it, so the cases come from its validator's rules).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Diagnostic } from "../../model/diagnostic.ts";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";

function validate(spec: unknown): Diagnostic[] {
  const doc = { apiVersion: "networking.istio.io/v1", kind: "Sidecar", metadata: { name: "default", namespace: "prod" }, spec };
  const { resources } = parseDocuments(JSON.stringify(doc), "sc.json");
  return validateResource(resources[0]!).diagnostics;
}
const errors = (ds: Diagnostic[]): string[] => ds.filter((d) => d.level === "error").map((d) => `${d.path}: ${d.message}`);
const ingress = (l: Record<string, unknown>): unknown => ({ ingress: [{ port: { number: 9080, protocol: "HTTP", name: "http" }, defaultEndpoint: "127.0.0.1:8080", ...l }] });

const REJECTED: [string, unknown, string][] = [
  ["empty", {}, "sidecar: empty configuration provided"],
  ["wildcard in selector", { workloadSelector: { labels: { app: "*" } }, egress: [{ hosts: ["./*"] }] }, "wildcard is not supported in selector"],
  ["ingress without port", { ingress: [{ defaultEndpoint: "127.0.0.1:80" }] }, "sidecar: port is required for ingress listeners"],
  ["ingress targetPort", ingress({ port: { number: 9080, protocol: "HTTP", name: "http", targetPort: 1 } }), "targetPort has no impact on Sidecars"],
  ["bad defaultEndpoint host", ingress({ defaultEndpoint: "10.0.0.1:8080" }), "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>"],
  ["bad defaultEndpoint port", ingress({ defaultEndpoint: "127.0.0.1:http" }), "sidecar: defaultEndpoint port (http) is not a number"],
  ["duplicate ingress ports", { ingress: [{ port: { number: 80, protocol: "HTTP", name: "a" } }, { port: { number: 80, protocol: "HTTP", name: "b" } }] }, "sidecar: ports on IP bound listeners must be unique"],
  ["ingress tls SANs", ingress({ tls: { mode: "SIMPLE", serverCertificate: "/c", privateKey: "/k", subjectAltNames: ["a"] } }), "sidecar: subjectAltNames is not supported in ingress tls"],
  ["ingress ISTIO_MUTUAL", ingress({ tls: { mode: "ISTIO_MUTUAL" } }), "cannot set mode to ISTIO_MUTUAL in sidecar ingress tls"],
  ["bad protocol", { ingress: [{ port: { number: 80, protocol: "SMTP", name: "a" } }] }, "unsupported protocol: SMTP"],
  ["egress catch-all not last", { egress: [{ hosts: ["./*"] }, { port: { number: 80, protocol: "HTTP", name: "h" }, hosts: ["./*"] }] }, "the egress listener with empty port should be the last listener in the list"],
  ["egress without hosts", { egress: [{ port: { number: 80, protocol: "HTTP", name: "h" } }] }, "sidecar: egress listener must contain at least one host"],
  ["egress host without namespace", { egress: [{ hosts: ["foo.com"] }] }, "host must be of form namespace/dnsName"],
  ["egress bad namespace", { egress: [{ hosts: ["Bad_NS/*"] }] }, 'invalid namespace value "Bad_NS" in sidecar'],
  ["egress port 0 without unix bind", { egress: [{ port: { number: 0, protocol: "HTTP", name: "h" }, hosts: ["./*"] }] }, "sidecar: ports with 0 value must have a unix domain socket bind address"],
  ["egressProxy with REGISTRY_ONLY", { outboundTrafficPolicy: { mode: "REGISTRY_ONLY", egressProxy: { host: "proxy.a.b", port: { number: 80 } } } }, "sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode"],
  ["egressProxy without port", { outboundTrafficPolicy: { mode: "ALLOW_ANY", egressProxy: { host: "proxy.a.b" } } }, "sidecar: egress_proxy port must be non-nil"],
  ["bad inbound pool", { inboundConnectionPool: {} }, "connection pool must have at least one field"],
];

for (const [title, spec, want] of REJECTED) {
  test(`rejects: ${title}`, () => {
    const errs = errors(validate(spec));
    assert.ok(errs.some((e) => e.includes(want)), `want ${JSON.stringify(want)}, got ${JSON.stringify(errs)}`);
  });
}

const VALID: [string, unknown][] = [
  ["namespace isolation", { egress: [{ hosts: ["./*", "istio-system/*"] }] }],
  ["full", {
    workloadSelector: { labels: { app: "ratings" } },
    ingress: [{ port: { number: 9080, protocol: "HTTP", name: "somename" }, defaultEndpoint: "unix:///var/run/someuds.sock", connectionPool: { http: { http1MaxPendingRequests: 10 } } }],
    egress: [{ port: { number: 9080, protocol: "HTTP", name: "egresshttp" }, hosts: ["prod-us1/*"] }, { hosts: ["istio-system/*", "~/*"] }],
    inboundConnectionPool: { tcp: { maxConnections: 100 } },
    outboundTrafficPolicy: { mode: "ALLOW_ANY", egressProxy: { host: "egress.proxy.svc", port: { number: 3128 } } },
  }],
  ["ingress tls SIMPLE", ingress({ tls: { mode: "SIMPLE", serverCertificate: "/c", privateKey: "/k" } })],
];
for (const [title, spec] of VALID) test(`valid: ${title}`, () => assert.deepEqual(errors(validate(spec)), []));

test("duplicate egress hosts and HTTP pools on TCP ports are warnings", () => {
  const ds = validate({ ingress: [{ port: { number: 3306, protocol: "TCP", name: "db" }, connectionPool: { http: { maxRetries: 1 } } }], egress: [{ hosts: ["./a.b.c", "./a.b.c"] }] });
  assert.deepEqual(errors(ds), []);
  const warns = ds.filter((d) => d.level === "warning").map((d) => d.message);
  assert.ok(warns.some((m) => m.includes("duplicated egress host: ./a.b.c")));
  assert.ok(warns.some((m) => m.includes("only TCP settings will apply")));
});
