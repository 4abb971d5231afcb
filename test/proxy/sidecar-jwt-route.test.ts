// Istio's "JWT claim based routing" task on a real proxy (the config translation makes for a gateway:
// jwt_authn, then a route matching `/headers` with `@request.auth.claims.groups: exact group1` as a
// claim matcher), driven by the task's `curl -s -I` probes with Istio's demo.jwt and
// groups-scope.jwt: no token → 404, invalid → 401, groups-scope.jwt → 200, demo.jwt → 404
// (test/fixtures/istio/istio.io-tasks/security/jwt-route.expected.md). The route is picked after
// jwt_authn has verified the token, over HTTP/1.1 and HTTP/2.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { forward, proxyConfig, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const SAMPLES = new URL("../fixtures/istio/security/tools/jwt/samples/", import.meta.url);
const DEMO_JWT = readFileSync(new URL("demo.jwt", SAMPLES), "utf8").trim();
const GROUPS_JWT = readFileSync(new URL("groups-scope.jwt", SAMPLES), "utf8").trim();
const JWKS = readFileSync(new URL("jwks.json", SAMPLES), "utf8");

const jwt = { name: "jwt_authn", config: { providers: [{ issuer: "testing@secure.istio.io", audiences: [], jwks: JWKS, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], required: false }] } };
// The task's VirtualService as translation writes it for the gateway.
const claimMatch = { uri: { prefix: "/headers" }, headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }], queryParams: [], ignoreUriCase: false };

/** The task's probe: `curl -s -I` → the status line's code. */
function head(port: number, proto: string, headers: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-s", "-I", proto, "--max-time", "20", ...headers.flatMap((h) => ["-H", h]), `http://127.0.0.1:${port}/headers`], { timeout: 30_000 }, (e, stdout) => {
      if (e) return reject(e);
      resolve(Number(/^HTTP\/[\d.]+ (\d+)/.exec(stdout)?.[1]));
    });
  });
}

describe("JWT claim based routing (Istio's task) on a proxy", () => {
  let up: Upstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startUpstream("httpbin", (_req, res) => res.end("ok"));
    const c = proxyConfig({ virtualHosts: [{ domains: ["*"], routes: [route("httpbin", claimMatch, forward("httpbin"))] }], clusters: [{ name: "httpbin", endpoints: [{ port: up.port }] }] }) as { listeners: Record<string, unknown>[] };
    c.listeners[0]!.httpFilters = [jwt, { name: "cors" }, { name: "fault" }, { name: "router" }];
    proxy = await startProxy(c);
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  for (const proto of ["--http1.1", "--http2-prior-knowledge"]) {
    it(`${proto}: no token 404, invalid 401, groups-scope.jwt 200, demo.jwt 404`, async () => {
      assert.equal(await head(proxy.port, proto), 404);
      assert.equal(await head(proxy.port, proto, ["Authorization: Bearer some.invalid.token"]), 401);
      assert.equal(await head(proxy.port, proto, [`Authorization: Bearer ${GROUPS_JWT}`]), 200);
      assert.equal(await head(proxy.port, proto, [`Authorization: Bearer ${DEMO_JWT}`]), 404);
      // A client cannot forge the claim with a header of that name.
      assert.equal(await head(proxy.port, proto, ["@request.auth.claims.groups: group1"]), 404);
    });
  }
});
