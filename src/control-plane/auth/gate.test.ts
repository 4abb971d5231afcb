import assert from "node:assert/strict";
import { test } from "node:test";
import { CredentialIssuer } from "./credentials.ts";
import { RequestGate, type GateRequest } from "./gate.ts";

const issuer = CredentialIssuer.ephemeral(() => 1_700_000_000_000);
const proxy = issuer.mintProxyToken({ node: "sidecar~a-0.default", namespace: "default", serviceAccount: "a" });

function verdict(gate: RequestGate, r: Partial<GateRequest> & { headers?: GateRequest["headers"] }): string {
  const v = gate.check({ method: r.method ?? "GET", path: r.path ?? "/api/v1/status", headers: r.headers ?? {} });
  return "refusal" in v ? `${v.refusal.status} ${v.refusal.code}` : v.principal === null ? "public" : v.principal.kind;
}

test("Host, Origin, credential and kind decide, in that order", () => {
  const gate = new RequestGate({ issuer, listenHost: "127.0.0.1", port: () => 15010 });
  const admin = { authorization: `Bearer ${issuer.adminToken}` };
  const rows: [Partial<GateRequest>, string][] = [
    [{ headers: { host: "127.0.0.1:15010", ...admin } }, "admin"],
    [{ headers: { host: "localhost:15010", ...admin } }, "admin"],
    [{ headers: { host: "[::1]:15010", ...admin } }, "admin"],
    [{ headers: { host: "evil.example:15010", ...admin } }, "403 CP_FOREIGN_HOST"],
    [{ headers: { host: "127.0.0.1:8080", ...admin } }, "403 CP_FOREIGN_HOST"],
    [{ headers: { host: "10.0.0.1:15010", ...admin } }, "403 CP_FOREIGN_HOST"],
    [{ headers: { host: "127.0.0.1:15010@evil.example", ...admin } }, "403 CP_FOREIGN_HOST"],
    [{ headers: { ...admin } }, "403 CP_FOREIGN_HOST"],
    [{ headers: { host: "127.0.0.1:15010", origin: "http://evil.example", ...admin } }, "403 CP_CROSS_SITE"],
    [{ headers: { host: "127.0.0.1:15010", origin: "null", ...admin } }, "403 CP_CROSS_SITE"],
    [{ headers: { host: "127.0.0.1:15010", origin: "https://127.0.0.1:15010", ...admin } }, "admin"],
    // The API is served over TLS only: a page served over plain http at the same host:port is another origin.
    [{ headers: { host: "127.0.0.1:15010", origin: "http://127.0.0.1:15010", ...admin } }, "403 CP_CROSS_SITE"],
    [{ headers: { host: "127.0.0.1:15010", "sec-fetch-site": "same-site", ...admin } }, "403 CP_CROSS_SITE"],
    [{ headers: { host: "127.0.0.1:15010" } }, "401 CP_UNAUTHENTICATED"],
    [{ headers: { host: "127.0.0.1:15010", authorization: "Basic YTpi" } }, "401 CP_UNAUTHENTICATED"],
    [{ headers: { host: "127.0.0.1:15010", authorization: `Bearer ${issuer.adminToken}x` } }, "401 CP_UNAUTHENTICATED"],
    [{ path: "/healthz", headers: { host: "127.0.0.1:15010" } }, "public"],
    [{ method: "POST", path: "/api/v2/spans", headers: { host: "127.0.0.1:15010" } }, "public"],
    [{ path: "/api/v2/traces", headers: { host: "127.0.0.1:15010" } }, "401 CP_UNAUTHENTICATED"],
    [{ path: "/xds/v1/stream", headers: { host: "127.0.0.1:15010", authorization: `Bearer ${proxy}` } }, "proxy"],
    [{ path: "/xds/v1/stream", headers: { host: "127.0.0.1:15010", ...admin } }, "403 CP_FORBIDDEN"],
    [{ method: "POST", path: "/api/v1/apply", headers: { host: "127.0.0.1:15010", authorization: `Bearer ${proxy}` } }, "403 CP_FORBIDDEN"],
    [{ method: "POST", path: "/ca/v1/certificates", headers: { host: "127.0.0.1:15010", authorization: `Bearer ${proxy}` } }, "proxy"],
    [{ method: "POST", path: "/ca/v1/certificates", headers: { host: "127.0.0.1:15010", ...admin } }, "403 CP_FORBIDDEN"],
  ];
  for (const [req, want] of rows) assert.equal(verdict(gate, req), want, JSON.stringify(req));
});

test("on a wildcard listener any IP literal with our port is ours; names only when allowed", () => {
  const gate = new RequestGate({ issuer, listenHost: "0.0.0.0", port: () => 15010, allowedHosts: ["cp.mesh.internal"] });
  const admin = { authorization: `Bearer ${issuer.adminToken}` };
  assert.equal(verdict(gate, { headers: { host: "10.0.0.1:15010", ...admin } }), "admin");
  assert.equal(verdict(gate, { headers: { host: "cp.mesh.internal:15010", ...admin } }), "admin");
  assert.equal(verdict(gate, { headers: { host: "evil.example:15010", ...admin } }), "403 CP_FOREIGN_HOST");
});

test("a newer proxy credential for a node supersedes the older one; others stay valid", () => {
  const i = CredentialIssuer.ephemeral();
  const first = i.mintProxyToken({ node: "sidecar~b-0.default", namespace: "default", serviceAccount: "b" });
  const other = i.mintProxyToken({ node: "sidecar~c-0.default", namespace: "default", serviceAccount: "c" });
  const second = i.mintProxyToken({ node: "sidecar~b-0.default", namespace: "default", serviceAccount: "b" });
  assert.equal(i.verify(first), null);
  assert.deepEqual(i.verify(second), { kind: "proxy", node: "sidecar~b-0.default", namespace: "default", serviceAccount: "b" });
  assert.equal(i.verify(other)?.kind, "proxy");
  assert.equal(CredentialIssuer.ephemeral().verify(second), null, "another key");
});
