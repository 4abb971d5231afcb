import assert from "node:assert/strict";
import { test } from "node:test";
import { CredentialIssuer } from "./credentials.ts";
import { RequestGate, workloadOf, type GateRequest, type PeerConnection } from "./gate.ts";
import type { ProxyPrincipal } from "./token.ts";

const issuer = CredentialIssuer.ephemeral(() => 1_700_000_000_000);
const proxy = issuer.mintProxyToken({ node: "sidecar~a-0.default", namespace: "default", serviceAccount: "a" });

function verdict(gate: RequestGate, r: Partial<GateRequest> & { headers?: GateRequest["headers"] }): string {
  const v = gate.check({ method: r.method ?? "GET", path: r.path ?? "/api/v1/status", headers: r.headers ?? {} });
  if ("review" in v) return "review";
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
  const { jti, ...principal } = i.verify(second) as ProxyPrincipal;
  assert.deepEqual(principal, { kind: "proxy", node: "sidecar~b-0.default", namespace: "default", serviceAccount: "b" });
  assert.match(jti ?? "", /^[\w-]{16}$/, "the credential's id, which the CA spends on the first certificate");
  assert.equal(i.verify(other)?.kind, "proxy");
  assert.equal(CredentialIssuer.ephemeral().verify(second), null, "another key");
});

test("a verified client certificate with one SPIFFE URI renews that certificate, and does nothing else", () => {
  const gate = new RequestGate({ issuer, listenHost: "127.0.0.1", port: () => 15010 });
  const peer = (authorized: boolean, subjectaltname: string, serialNumber = "0A1B"): PeerConnection => ({ authorized, getPeerCertificate: () => ({ subjectaltname, serialNumber }) });
  const spiffe = "URI:spiffe://cluster.local/ns/default/sa/reviews";
  const host = { host: "127.0.0.1:15010" };
  const renewal = { method: "POST", path: "/ca/v1/certificates", headers: host };
  const v = gate.check(renewal, peer(true, spiffe));
  assert.ok(!("refusal" in v) && !("review" in v));
  assert.deepEqual(v.principal, { kind: "workload", identity: "spiffe://cluster.local/ns/default/sa/reviews", trustDomain: "cluster.local", namespace: "default", serviceAccount: "reviews", serial: "a1b" });
  const refused = (req: GateRequest, p: PeerConnection): string => {
    const r = gate.check(req, p);
    if ("review" in r) return "review";
    return "refusal" in r ? `${r.refusal.status} ${r.refusal.code}` : String(r.principal?.kind);
  };
  assert.equal(refused(renewal, peer(false, spiffe)), "401 CP_UNAUTHENTICATED", "not chained to the mesh roots");
  assert.equal(refused(renewal, peer(true, "DNS:reviews")), "401 CP_UNAUTHENTICATED", "no SPIFFE id");
  assert.equal(refused(renewal, peer(true, `${spiffe}, URI:spiffe://cluster.local/ns/default/sa/other`)), "401 CP_UNAUTHENTICATED", "two identities");
  assert.equal(refused({ ...renewal, method: "GET", path: "/api/v1/status" }, peer(true, spiffe)), "401 CP_UNAUTHENTICATED", "not the admin API");
  assert.equal(refused({ ...renewal, path: "/xds/v1/stream" }, peer(true, spiffe)), "401 CP_UNAUTHENTICATED", "not the push stream");
  assert.equal(refused({ ...renewal, headers: { ...host, authorization: `Bearer ${proxy}` } }, peer(true, spiffe)), "proxy", "a credential, when sent, decides");
  assert.equal(workloadOf(peer(true, "URI:spiffe://td/ns/a/sa/b/extra")), null);
});

test("a dashboard session cookie may read and use the dashboard, never change config", async () => {
  const { DashboardSessions } = await import("./sessions.ts");
  let now = 0;
  const sessions = new DashboardSessions({ now: () => now, sessionTtlMs: 1000 });
  const id = sessions.open({ kind: "admin", name: "alice" });
  const gate = new RequestGate({ issuer, sessions, listenHost: "127.0.0.1", port: () => 15010 });
  const host = "127.0.0.1:15010";
  const cookie = `amime_session=${id}`;
  const rows: [Partial<GateRequest>, string][] = [
    [{ path: "/dashboard/", headers: { host, cookie } }, "admin"],
    [{ path: "/dashboard/api/events", headers: { host, cookie } }, "admin"],
    [{ path: "/api/v1/telemetry/graph", headers: { host, cookie } }, "admin"],
    [{ path: "/api/v2/traces", headers: { host, cookie } }, "admin"],
    [{ method: "POST", path: "/dashboard/api/dry-run", headers: { host, cookie, origin: "https://127.0.0.1:15010" } }, "admin"],
    [{ method: "POST", path: "/api/v1/apply", headers: { host, cookie } }, "403 CP_FORBIDDEN"],
    [{ method: "POST", path: "/api/v1/dashboard/login-codes", headers: { host, cookie } }, "403 CP_FORBIDDEN"],
    [{ path: "/xds/v1/stream", headers: { host, cookie } }, "403 CP_FORBIDDEN"],
    [{ method: "POST", path: "/dashboard/api/dry-run", headers: { host, cookie, origin: "http://evil.example" } }, "403 CP_CROSS_SITE"],
    [{ path: "/dashboard/", headers: { host, cookie: "amime_session=forged" } }, "401 CP_UNAUTHENTICATED"],
    [{ path: "/dashboard/", headers: { host } }, "401 CP_UNAUTHENTICATED"],
    [{ path: "/dashboard/login", headers: { host } }, "public"],
    [{ method: "POST", path: "/dashboard/login", headers: { host } }, "public"],
    [{ path: "/dashboard/assets/ui/app.ts", headers: { host } }, "public"],
    [{ path: "/dashboard/vendor/uPlot.esm.js", headers: { host } }, "public"],
    [{ path: "/dashboard/api/config", headers: { host } }, "401 CP_UNAUTHENTICATED"],
    // A bearer token wins over a cookie.
    [{ method: "POST", path: "/api/v1/apply", headers: { host, cookie, authorization: `Bearer ${issuer.adminToken}` } }, "admin"],
  ];
  for (const [r, want] of rows) assert.equal(verdict(gate, r), want, `${r.method ?? "GET"} ${r.path} ${JSON.stringify(r.headers)}`);
  now = 1000;
  assert.equal(verdict(gate, { path: "/dashboard/", headers: { host, cookie } }), "401 CP_UNAUTHENTICATED", "expired session");
});

test("with --platform kubernetes a token that is not ours waits for the API server's review", async () => {
  const reviewed: string[] = [];
  const gate = new RequestGate({
    issuer,
    listenHost: "127.0.0.1",
    port: () => 15010,
    reviewToken: async (token) => {
      reviewed.push(token);
      if (token !== "eyJ.k8s.ok") throw new Error("the Kubernetes API server refused the token: token has expired");
      return { kind: "proxy", node: "sidecar~p-1.shop", namespace: "shop", serviceAccount: "cart", kubernetes: { pod: "p-1" } };
    },
  });
  const host = { host: "127.0.0.1:15010" };
  const settle = async (path: string, token: string): Promise<string> => {
    const v = gate.check({ method: "GET", path, headers: { ...host, authorization: `Bearer ${token}` } });
    assert.ok("review" in v, "a foreign token is reviewed");
    const r = await v.review;
    return "refusal" in r ? `${r.refusal.status} ${r.refusal.code} ${r.refusal.message}` : String(r.principal?.kind);
  };
  assert.equal(await settle("/xds/v1/stream", "eyJ.k8s.ok"), "proxy");
  assert.equal(await settle("/api/v1/status", "eyJ.k8s.ok"), "403 CP_FORBIDDEN a proxy credential may not GET /api/v1/status");
  assert.equal(await settle("/xds/v1/stream", "eyJ.k8s.old"), "401 CP_UNAUTHENTICATED Kubernetes service-account token refused: the Kubernetes API server refused the token: token has expired");
  // Our own tokens are never sent to the API server.
  assert.equal(verdict(gate, { headers: { ...host, authorization: `Bearer ${issuer.adminToken}` } }), "admin");
  assert.equal(verdict(gate, { path: "/xds/v1/stream", headers: { ...host, authorization: `Bearer ${proxy}` } }), "proxy");
  assert.deepEqual(reviewed, ["eyJ.k8s.ok", "eyJ.k8s.ok", "eyJ.k8s.old"]);
});

test("X-Amime-Token carries our own credential through a proxy that removes Authorization", () => {
  const gate = new RequestGate({ issuer, listenHost: "0.0.0.0", port: () => 15010 });
  const host = { host: "10.1.2.3:15010" };
  assert.equal(verdict(gate, { headers: { ...host, "x-amime-token": issuer.adminToken } }), "admin");
  assert.equal(verdict(gate, { headers: { ...host, "x-amime-token": "amime1.forged.mac" } }), "401 CP_UNAUTHENTICATED");
  assert.equal(verdict(gate, { headers: { ...host, "x-amime-token": "eyJ.k8s.token" } }), "401 CP_UNAUTHENTICATED");
  assert.equal(verdict(gate, { path: "/xds/v1/stream", headers: { ...host, "x-amime-token": issuer.adminToken } }), "403 CP_FORBIDDEN");
  // The API server's proxy keeps the client's Host: not checked for it, but a browser's Origin still is.
  assert.equal(verdict(gate, { headers: { host: "127.0.0.1:6443", "x-amime-token": issuer.adminToken } }), "admin");
  assert.equal(verdict(gate, { headers: { host: "127.0.0.1:6443", origin: "https://evil.example", "x-amime-token": issuer.adminToken } }), "403 CP_CROSS_SITE");
  assert.equal(verdict(gate, { headers: { host: "127.0.0.1:6443", authorization: `Bearer ${issuer.adminToken}` } }), "403 CP_FOREIGN_HOST");
});
