import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ExtAuthzConfig, RbacConfig } from "../../model/proxy-config.ts";
import type { MeshConfig } from "../../model/specs/mesh-config.ts";
import { translate } from "./index.ts";
import { customPolicies } from "./ext-authz.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const ap = (ns: string, name: string, spec: unknown): string => JSON.stringify({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace: ns }, spec }) + "\n---\n";
// Istio's "External authorization" task: the providers as its mesh config writes them (port as a string).
const TASK_MESH: MeshConfig = {
  extensionProviders: [
    { name: "sample-ext-authz-grpc", envoyExtAuthzGrpc: { service: "ext-authz.foo.svc.cluster.local", port: "9000" as unknown as number } },
    { name: "sample-ext-authz-http", envoyExtAuthzHttp: { service: "ext-authz.foo.svc.cluster.local", port: 8000, includeRequestHeadersInCheck: ["x-ext-authz"] } },
    {
      name: "full",
      envoyExtAuthzHttp: {
        service: "foo/ext-authz.foo.svc.cluster.local", port: 8000, timeout: "2.5s", pathPrefix: "/check", failOpen: true, statusOnError: "503",
        includeAdditionalHeadersInCheck: { "X-Extra": "1" }, headersToUpstreamOnAllow: ["x-user"], headersToDownstreamOnDeny: ["x-reason"], headersToDownstreamOnAllow: ["set-cookie"],
        includeRequestBodyInCheck: { maxRequestBytes: 1024, allowPartialMessage: true },
      },
    },
    { name: "missing-service", envoyExtAuthzGrpc: { service: "nowhere.foo.svc.cluster.local", port: 9000 } },
    { name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } },
  ],
};
const EXT_AUTHZ_SVC = k8sService("ext-authz", "foo", [{ name: "http", port: 8000 }, { name: "grpc", port: 9000 }]);
const custom = (provider: string, name = "ext-authz"): string => ap("foo", name, { selector: { matchLabels: { app: "httpbin" } }, action: "CUSTOM", provider: { name: provider }, rules: [{ to: [{ operation: { paths: ["/headers"] } }] }] });
const httpbin = sidecarProxy({ app: "httpbin", version: "v1" }, "foo");

function snap(yaml: string): ReturnType<typeof snapshotFrom> {
  return snapshotFrom(k8sService("httpbin", "foo") + EXT_AUTHZ_SVC + yaml, [inst("httpbin", "v1", "10.0.0.1", { namespace: "foo" })], { mesh: { config: TASK_MESH } });
}

describe("CUSTOM AuthorizationPolicy translation (ext_authz)", () => {
  it("the task's gRPC provider: ext_authz before rbac on the inbound listeners, the rule as a DENY-action rule, Istio's defaults", () => {
    const cfg = translate(snap(custom("sample-ext-authz-grpc") + ap("foo", "allow-get", { rules: [{ to: [{ operation: { methods: ["GET"] } }] }] })), httpbin);
    const inbound = cfg.listeners.find((l) => l.direction === "inbound");
    assert.deepEqual(inbound?.httpFilters?.map((f) => f.name), ["ext_authz", "rbac", "cors", "fault", "router"]);
    const c = inbound?.httpFilters?.[0]?.config as ExtAuthzConfig;
    assert.deepEqual(c.policies.map((p) => [p.name, p.action]), [["istio-ext-authz-sample-ext-authz-grpc-ns[foo]-policy[ext-authz]", "DENY"]]);
    assert.deepEqual(c.provider, {
      name: "sample-ext-authz-grpc", protocol: "grpc", cluster: "outbound|9000||ext-authz.foo.svc.cluster.local", authority: "ext-authz.foo.svc.cluster.local:9000",
      timeoutMs: 600_000, failOpen: false, statusOnError: 403, pathPrefix: "", includeRequestHeaders: [], includeAdditionalHeaders: [],
      headersToUpstreamOnAllow: [], headersToDownstreamOnDeny: [], headersToDownstreamOnAllow: [],
    });
    assert.ok(cfg.clusters.some((cl) => cl.name === c.provider.cluster), "the provider's cluster is in the proxy's config");
    assert.ok(!cfg.listeners.find((l) => l.direction === "outbound")?.httpFilters?.some((f) => f.name === "ext_authz"));
  });

  it("every envoyExtAuthzHttp field reaches the filter", () => {
    const p = customPolicies(snap(custom("full")), httpbin).extAuthz?.provider;
    assert.deepEqual(p, {
      name: "full", protocol: "http", cluster: "outbound|8000||ext-authz.foo.svc.cluster.local", authority: "ext-authz.foo.svc.cluster.local:8000",
      timeoutMs: 2500, failOpen: true, statusOnError: 503, pathPrefix: "/check", includeRequestHeaders: [], includeAdditionalHeaders: [{ name: "x-extra", value: "1" }],
      headersToUpstreamOnAllow: ["x-user"], headersToDownstreamOnDeny: ["x-reason"], headersToDownstreamOnAllow: ["set-cookie"],
      withBody: { maxRequestBytes: 1024, allowPartialMessage: true, packAsBytes: false },
    });
  });

  it("a bad provider (unknown, not ext_authz, service not in the registry) or two providers: fail-closed DENY policies in rbac, no ext_authz", () => {
    for (const yaml of [custom("nope"), custom("zipkin"), custom("missing-service"), custom("sample-ext-authz-grpc") + custom("sample-ext-authz-http", "second")]) {
      const cfg = translate(snap(yaml), httpbin);
      const inbound = cfg.listeners.find((l) => l.direction === "inbound");
      assert.deepEqual(inbound?.httpFilters?.map((f) => f.name), ["rbac", "cors", "fault", "router"], yaml);
      const rbac = inbound?.httpFilters?.[0]?.config as RbacConfig;
      assert.ok(rbac.policies.length >= 1 && rbac.policies.every((p) => p.action === "DENY" && p.name.endsWith("-deny-due-to-bad-CUSTOM-action")), JSON.stringify(rbac.policies));
    }
  });

  it("TCP ports: a gRPC provider's ext_authz network filter before rbac and tcp_proxy; an HTTP provider has none (as Istio)", () => {
    const tcp = (provider: string): ReturnType<typeof snapshotFrom> => snapshotFrom(
      k8sService("db", "foo", [{ name: "tcp-db", port: 5432 }]) + EXT_AUTHZ_SVC + custom(provider).replace('"httpbin"', '"db"') + ap("foo", "deny-x", { selector: { matchLabels: { app: "db" } }, action: "DENY", rules: [{ from: [{ source: { ipBlocks: ["10.9.0.0/16"] } }] }] }),
      [inst("db", "v1", "10.0.0.3", { namespace: "foo" })], { mesh: { config: TASK_MESH } },
    );
    const db = sidecarProxy({ app: "db", version: "v1" }, "foo");
    const grpcTcp = translate(tcp("sample-ext-authz-grpc"), db).listeners.find((l) => l.direction === "inbound" && l.protocol !== "http");
    assert.deepEqual(grpcTcp?.networkFilters?.map((f) => f.name), ["ext_authz", "rbac", "tcp_proxy"]);
    const httpTcp = translate(tcp("sample-ext-authz-http"), db).listeners.find((l) => l.direction === "inbound" && l.protocol !== "http");
    assert.deepEqual(httpTcp?.networkFilters?.map((f) => f.name), ["rbac", "tcp_proxy"]);
  });

  it("a CUSTOM policy that selects another workload: no filter", () => {
    const cfg = translate(snap(custom("sample-ext-authz-grpc")), sidecarProxy({ app: "curl", version: "v1" }, "foo"));
    assert.ok(cfg.listeners.every((l) => !l.httpFilters?.some((f) => f.name === "ext_authz")));
  });
});
