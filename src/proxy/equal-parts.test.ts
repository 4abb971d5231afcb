import assert from "node:assert/strict";
import { it } from "node:test";
import { checkProxyConfig } from "./config-check.ts";
import { shareEqualParts } from "./equal-parts.ts";

const cluster = (name: string, ns: string) => ({
  name,
  service: { host: `${ns}.svc`, name: "s", namespace: ns, port: 80 },
  tls: { mode: "ISTIO_MUTUAL", sni: `sni-${name}`, subjectAltNames: [`spiffe://cluster.local/ns/${ns}/sa/default`] },
});
const fwd = (name: string, cl: string, header?: string) => ({
  name,
  match: header === undefined ? {} : { headers: [{ name: "end-user", match: { exact: header } }] },
  action: { kind: "forward", clusters: [{ cluster: cl }], retry: { attempts: 2, retryOn: ["connect-failure"] } },
});

function config() {
  return {
    node: { id: "n", workload: "w", namespace: "default", serviceAccount: "sa" },
    listeners: [{ name: "out", direction: "outbound", address: "127.0.0.1", port: 0, routeConfigName: "r" }],
    routes: [{ name: "r", virtualHosts: [
      { name: "a", domains: ["a"], routes: [fwd("a1", "a", "tester"), fwd("a2", "a")] },
      { name: "b", domains: ["b"], routes: [fwd("b1", "b", "tester"), fwd("b2", "b")] },
      { name: "c", domains: ["c"], routes: [fwd("c1", "c", "other")] },
    ] }],
    clusters: [cluster("a", "ns-1"), cluster("b", "ns-1"), cluster("c", "ns-2")],
    endpoints: { a: [{ address: "10.0.0.1", port: 80, labels: { app: "a", version: "v1" } }], b: [{ address: "10.0.0.2", port: 80, labels: { app: "a", version: "v1" } }] },
  };
}

it("equal parts of a checked config are one object; values unchanged", () => {
  const before = checkProxyConfig(config());
  const c = checkProxyConfig(config(), true);
  assert.deepEqual(c, before);
  const [a, b, cc] = c.clusters;
  assert.equal(a?.connectionPool, b?.connectionPool);
  assert.equal(a?.connectionPool, cc?.connectionPool);
  assert.equal(a?.lb, cc?.lb);
  assert.equal(a?.service, b?.service, "same service");
  assert.notEqual(a?.service, cc?.service, "another namespace");
  assert.equal(a?.tls?.subjectAltNames, b?.tls?.subjectAltNames);
  assert.notEqual(a?.tls, b?.tls, "their SNIs differ");
  assert.equal(c.endpoints.a?.[0]?.labels, c.endpoints.b?.[0]?.labels);
  const routes = c.routes[0]!.virtualHosts.flatMap((vh) => vh.routes);
  const retry = (i: number) => { const x = routes[i]!.action; return x.kind === "forward" ? x.retry : undefined; };
  assert.equal(retry(0), retry(3));
  assert.equal(routes[0]?.match, routes[2]?.match, "the same header match");
  assert.equal(routes[1]?.match, routes[3]?.match, "match-all");
  assert.notEqual(routes[0]?.match, routes[4]?.match, "another header value");
});

it("parts that differ are left apart, and sharing twice changes nothing", () => {
  const c = checkProxyConfig(config(), true);
  const pools = c.clusters.map((x) => x.connectionPool);
  shareEqualParts(c);
  assert.deepEqual(c.clusters.map((x) => x.connectionPool), pools);
  const d = config();
  (d.clusters[1] as { connectionPool?: object }).connectionPool = { maxConnections: 7 };
  const e = checkProxyConfig(d, true);
  assert.notEqual(e.clusters[0]?.connectionPool, e.clusters[1]?.connectionPool);
  assert.equal(e.clusters[1]?.connectionPool.maxConnections, 7);
});
