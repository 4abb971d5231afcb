// AuthorizationPolicy on a real sidecar (jwt_authn → rbac in the listener's list), driven by curl,
// reproducing Istio's tasks where they do not need mTLS: "End user authentication" (valid 200,
// invalid 401, missing 200, then 403 once an ALLOW with requestPrincipals is applied),
// "Explicit deny" (DENY on a path and a header), "Authorization with JWT" (claims[groups]).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { forward, proxyConfig, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const SAMPLES = new URL("../fixtures/istio/security/tools/jwt/samples/", import.meta.url);
const DEMO_JWT = readFileSync(new URL("demo.jwt", SAMPLES), "utf8").trim();
const GROUPS_JWT = readFileSync(new URL("groups-scope.jwt", SAMPLES), "utf8").trim();
const JWKS = readFileSync(new URL("jwks.json", SAMPLES), "utf8");
const ISS = "testing@secure.istio.io";
const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };

const jwt = { name: "jwt_authn", config: { providers: [{ issuer: ISS, audiences: [], jwks: JWKS, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], required: false }] } };
const rbac = (policies: unknown[]): object => ({ name: "rbac", config: { policies, useRemoteAddress: false, trustedHops: 0 } });
const policy = (name: string, action: string, rules: unknown[]): object => ({ name: `ns[foo]-policy[${name}]`, namespace: "foo", action, dryRun: false, rules });

let version = 0;
function config(port: number, upstream: number, filters: object[]): Record<string, unknown> {
  const c = proxyConfig({ version: String(++version), virtualHosts: [{ domains: ["*"], routes: [route("r", catchAll, forward("c1"))] }], clusters: [{ name: "c1", endpoints: [{ port: upstream }] }] }) as { listeners: Record<string, unknown>[] };
  c.listeners[0]!.port = port;
  c.listeners[0]!.httpFilters = [...filters, { name: "cors" }, { name: "fault" }, { name: "router" }];
  return c;
}

function status(port: number, path: string, headers: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const args = ["-sS", "-w", "\n%{http_code}", "--max-time", "20", ...headers.flatMap((h) => ["-H", h]), `http://127.0.0.1:${port}${path}`];
    execFile("curl", args, { timeout: 30_000 }, (e, stdout) => {
      if (e) return reject(e);
      const nl = stdout.lastIndexOf("\n");
      resolve(`${stdout.slice(nl + 1)} ${stdout.slice(0, nl)}`);
    });
  });
}

describe("AuthorizationPolicy on a sidecar (Istio's tasks without mTLS)", () => {
  let up: Upstream;
  let proxy: RunningProxy;
  const apply = async (filters: object[]): Promise<void> => {
    const r = await proxy.sidecar.applyConfig(config(proxy.port, up.port, filters));
    assert.equal(r.ok, true, r.ok ? "" : r.error);
  };
  before(async () => {
    up = await startUpstream("httpbin", (_req, res) => res.end("ok"));
    proxy = await startProxy(config(0, up.port, [jwt]), { adminPort: 0 });
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  it("End user authentication: valid 200, invalid 401, missing 200; with requestPrincipals ALLOW, missing 403", async () => {
    assert.equal(await status(proxy.port, "/headers", [`Authorization: Bearer ${DEMO_JWT}`]), "200 ok");
    assert.equal(await status(proxy.port, "/headers", ["Authorization: Bearer invalidToken"]), "401 Jwt is not in the form of Header.Payload.Signature");
    assert.equal(await status(proxy.port, "/headers"), "200 ok");
    await apply([jwt, rbac([policy("require-jwt", "ALLOW", [{ from: [{ source: { requestPrincipals: [`${ISS}/${ISS}`] } }] }])])]);
    assert.equal(await status(proxy.port, "/headers"), "403 RBAC: access denied");
    assert.equal(await status(proxy.port, "/headers", [`Authorization: Bearer ${DEMO_JWT}`]), "200 ok");
  });

  it("Authorization with JWT: claims[groups] group1 allows groups-scope.jwt, not demo.jwt", async () => {
    await apply([jwt, rbac([policy("require-jwt", "ALLOW", [{ from: [{ source: { requestPrincipals: [`${ISS}/${ISS}`] } }], when: [{ key: "request.auth.claims[groups]", values: ["group1"] }] }])])]);
    assert.equal(await status(proxy.port, "/headers", [`Authorization: Bearer ${GROUPS_JWT}`]), "200 ok");
    assert.equal(await status(proxy.port, "/headers", [`Authorization: Bearer ${DEMO_JWT}`]), "403 RBAC: access denied");
  });

  it("Explicit deny: DENY GET with x-token: admin and /ip; spec {} denies everything; a dry-run DENY denies nothing", async () => {
    await apply([rbac([policy("deny-method-get", "DENY", [{ to: [{ operation: { methods: ["GET"] } }], when: [{ key: "request.headers[x-token]", notValues: ["admin"] }] }])])]);
    assert.equal(await status(proxy.port, "/get", ["x-token: admin"]), "200 ok");
    assert.equal(await status(proxy.port, "/get", ["x-token: guest"]), "403 RBAC: access denied");
    await apply([rbac([policy("deny-ip", "DENY", [{ to: [{ operation: { paths: ["/ip"] } }] }]), policy("allow-get", "ALLOW", [{ to: [{ operation: { methods: ["GET"] } }] }])])]);
    assert.equal(await status(proxy.port, "/ip"), "403 RBAC: access denied");
    assert.equal(await status(proxy.port, "/get"), "200 ok");
    await apply([rbac([policy("allow-nothing", "ALLOW", [])])]);
    assert.equal(await status(proxy.port, "/get"), "403 RBAC: access denied");
    await apply([rbac([{ ...policy("dry", "DENY", [{}]), dryRun: true }])]);
    assert.equal(await status(proxy.port, "/get"), "200 ok");
  });

  it("admin /stats: Envoy's jwt_authn and rbac counters per listener, kept across config pushes", async () => {
    const stats = await status(proxy.sidecar.adminPort as number, "/stats");
    const value = (name: string): number => Number(new RegExp(`^${name.replace(/[.]/g, "\\.")}: (\\d+)$`, "m").exec(stats)?.[1]);
    // The steps above: one bad token; five denials and five allows by enforced policies; one dry-run denial.
    assert.equal(value("http.outbound.jwt_authn.denied"), 1, stats);
    assert.equal(value("http.outbound.rbac.denied"), 5, stats);
    assert.equal(value("http.outbound.rbac.allowed"), 5, stats);
    assert.equal(value("http.outbound.rbac.shadow_denied"), 1, stats);
  });
});
