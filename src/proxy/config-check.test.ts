import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkProxyConfig, ProxyConfigError } from "./config-check.ts";

const minimal = () => ({
  node: { id: "n", workload: "w", namespace: "default", serviceAccount: "sa" },
  listeners: [{ name: "out", direction: "outbound", address: "127.0.0.1", port: 0, routeConfigName: "r" }],
  routes: [{ name: "r", virtualHosts: [{ name: "v", domains: ["*"], routes: [{ name: "all", action: { kind: "forward", clusters: [{ cluster: "c" }] } }] }] }],
  clusters: [{ name: "c" }],
  endpoints: { c: [{ address: "127.0.0.1", port: 8080 }] },
});

describe("checkProxyConfig", () => {
  it("fills Istio defaults a hand-written file leaves out", () => {
    const c = checkProxyConfig(minimal());
    assert.equal(c.version, "static");
    const route = c.routes[0]?.virtualHosts[0]?.routes[0];
    assert.deepEqual(route?.match, { headers: [], queryParams: [], ignoreUriCase: false });
    assert.equal(route?.action.kind, "forward");
    if (route?.action.kind === "forward") {
      assert.equal(route.action.retry.attempts, 2);
      assert.deepEqual(route.action.retry.retriableStatusCodes, [503]);
      assert.equal(route.action.clusters[0]?.weight, 1);
    }
    assert.equal(c.clusters[0]?.lb.policy, "LEAST_REQUEST");
    assert.equal(c.clusters[0]?.connectionPool.connectTimeoutMs, 10_000);
    assert.equal(c.endpoints.c?.[0]?.healthy, true);
  });

  it("does not modify its input", () => {
    const input = minimal();
    checkProxyConfig(input);
    assert.equal((input as { version?: string }).version, undefined);
  });

  it("adopting its input completes and returns that object instead of a copy", () => {
    const input = minimal();
    const c = checkProxyConfig(input, true);
    assert.equal(c, input as unknown);
    assert.equal(c.version, "static");
    assert.equal(c.clusters[0]?.lb.policy, "LEAST_REQUEST");
    assert.deepEqual(c, checkProxyConfig(minimal()));
  });

  it("adopting a config completed before leaves its objects as they are (a delta push's unchanged resources)", () => {
    const first = checkProxyConfig(minimal(), true);
    const pool = first.clusters[0]?.connectionPool;
    const forward = first.routes[0]?.virtualHosts[0]?.routes[0]?.action;
    const retry = forward?.kind === "forward" ? forward.retry : undefined;
    assert.ok(pool !== undefined && retry !== undefined);
    const again = checkProxyConfig({ ...first, version: "2" }, true);
    assert.equal(again.clusters[0]?.connectionPool, pool);
    const action = again.routes[0]?.virtualHosts[0]?.routes[0]?.action;
    assert.equal(action?.kind === "forward" ? action.retry : undefined, retry);
    // A partial object is still completed.
    const partial = minimal() as unknown as { clusters: { connectionPool?: object }[] };
    partial.clusters[0]!.connectionPool = { maxConnections: 7 };
    const c = checkProxyConfig(partial, true);
    assert.equal(c.clusters[0]?.connectionPool.maxConnections, 7);
    assert.equal(c.clusters[0]?.connectionPool.connectTimeoutMs, 10_000);
  });

  it("lists every problem with its field path", () => {
    const bad = minimal() as Record<string, unknown>;
    bad.listeners = [
      { name: "out", address: "127.0.0.1", port: 70000, routeConfigName: "nope" },
      { name: "out", address: "127.0.0.1", port: 1 },
    ];
    bad.clusters = [{ name: "c", lb: { policy: "FASTEST" } }];
    assert.throws(
      () => checkProxyConfig(bad),
      (e: unknown) => {
        assert.ok(e instanceof ProxyConfigError);
        assert.equal(e.code, "PROXY_CONFIG_INVALID");
        assert.ok(e.problems.includes("listeners[0].port: must be an integer 0..65535"), e.message);
        assert.ok(e.problems.includes('listeners[0].routeConfigName: no route configuration named "nope"'), e.message);
        assert.ok(e.problems.includes('listeners[1].name: duplicate "out"'), e.message);
        assert.ok(e.problems.some((p) => p.startsWith("clusters[0].lb.policy:")), e.message);
        return true;
      },
    );
  });

  it("rejects a non-object", () => {
    assert.throws(() => checkProxyConfig("nope"), ProxyConfigError);
  });

  it("listener tls: each server names a certificate (files or credentialName, not both) and MUTUAL files a CA", () => {
    const withTls = (servers: unknown[]) => {
      const c = minimal() as Record<string, unknown>;
      c.listeners = [{ name: "gw", direction: "gateway", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "r", tls: { servers } }];
      return c;
    };
    const ok = [{ hosts: ["a"], mode: "SIMPLE", credentialName: "a" }, { hosts: ["m"], mode: "ISTIO_MUTUAL" }, { hosts: ["b"], mode: "OPTIONAL_MUTUAL", serverCertificate: "/c", privateKey: "/k", caCertificates: "/ca", caCrl: "/crl" }];
    assert.equal(checkProxyConfig(withTls(ok)).listeners[0]?.tls?.servers.length, 3);
    const table: [unknown, string][] = [
      [{ hosts: ["a"], mode: "SIMPLE" }, "listeners[0].tls.servers[0]: needs credentialName, or serverCertificate and privateKey"],
      [{ hosts: ["a"], mode: "SIMPLE", credentialName: "a", serverCertificate: "/c" }, "listeners[0].tls.servers[0]: credentialName cannot be combined with certificate files"],
      [{ hosts: ["a"], mode: "MUTUAL", serverCertificate: "/c", privateKey: "/k" }, "listeners[0].tls.servers[0].caCertificates: MUTUAL needs a CA to verify client certificates"],
      [{ hosts: ["a"], mode: "PASSTHROUGH", credentialName: "a" }, "listeners[0].tls.servers[0].mode: must be SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL"],
      [{ hosts: ["a"], mode: "ISTIO_MUTUAL", credentialName: "a" }, "listeners[0].tls.servers[0].credentialName: ISTIO_MUTUAL uses the workload certificate, not credentialName"],
    ];
    for (const [server, problem] of table) {
      assert.throws(() => checkProxyConfig(withTls([server])), (e: unknown) => e instanceof ProxyConfigError && e.problems.includes(problem), problem);
    }
    assert.throws(() => checkProxyConfig(withTls([])), (e: unknown) => e instanceof ProxyConfigError && e.problems.includes("listeners[0].tls.servers: needs at least one server"));
  });

  it("listener xfcc: Envoy's forward_client_cert_details names only", () => {
    const withXfcc = (xfcc: unknown) => {
      const c = minimal() as Record<string, unknown>;
      c.listeners = [{ name: "gw", direction: "gateway", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "r", xfcc }];
      return c;
    };
    assert.equal(checkProxyConfig(withXfcc({ forward: "SANITIZE_SET", details: { cert: true } })).listeners[0]?.xfcc?.forward, "SANITIZE_SET");
    for (const bad of [{ forward: "SANITISE" }, { forward: "APPEND_FORWARD", details: "all" }, "SANITIZE"]) {
      assert.throws(() => checkProxyConfig(withXfcc(bad)), (e: unknown) => e instanceof ProxyConfigError && e.problems.some((p) => p.startsWith("listeners[0].xfcc: forward must be one of SANITIZE")));
    }
  });
});
