// End-user JWT authentication on a real sidecar (the jwt_authn filter in the listener's list),
// driven by curl over HTTP/1.1 and HTTP/2 (prior knowledge), with Istio's demo.jwt and jwks.json:
// valid → 200 with the token stripped, tampered → 401 with Envoy's text and www-authenticate,
// none → 200. The same config without the filter lets the tampered token through.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { forward, proxyConfig, route, startProxy, startUpstream, type RunningProxy, type Upstream } from "./sidecar-harness.ts";

const SAMPLES = new URL("../fixtures/istio/security/tools/jwt/samples/", import.meta.url);
const DEMO_JWT = readFileSync(new URL("demo.jwt", SAMPLES), "utf8").trim();
const JWKS = readFileSync(new URL("jwks.json", SAMPLES), "utf8");
const [H, P, S] = DEMO_JWT.split(".") as [string, string, string];
const TAMPERED = `${H}.${P}.${S.startsWith("A") ? "B" : "A"}${S.slice(1)}`;
const catchAll = { headers: [], queryParams: [], ignoreUriCase: false };

const jwtFilter = {
  name: "jwt_authn",
  config: { providers: [{ issuer: "testing@secure.istio.io", audiences: [], jwks: JWKS, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [{ header: "x-jwt-foo", claim: "foo" }], required: false }] },
};

function config(filters: boolean): Record<string, unknown> {
  const c = proxyConfig({ virtualHosts: [{ domains: ["*"], routes: [route("r", catchAll, forward("c1"))] }], clusters: [{ name: "c1", endpoints: [{ port: 0 }] }] }) as { listeners: Record<string, unknown>[] };
  if (filters) c.listeners[0]!.httpFilters = [jwtFilter, { name: "cors" }, { name: "fault" }, { name: "router" }];
  return c;
}

interface CurlResult { status: number; headers: string; body: string }

function curl(port: number, args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "-D", "-", "--max-time", "20", ...args, `http://127.0.0.1:${port}/headers?x=1`], { timeout: 30_000 }, (e, stdout) => {
      if (e) return reject(e);
      const split = stdout.indexOf("\r\n\r\n");
      const headers = stdout.slice(0, split);
      resolve({ status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers)?.[1]), headers, body: stdout.slice(split + 4) });
    });
  });
}

describe("jwt_authn on a sidecar (curl, HTTP/1.1 and HTTP/2)", () => {
  let up: Upstream;
  let proxy: RunningProxy;
  before(async () => {
    up = await startUpstream("httpbin", (req, res) => res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, foo: req.headers["x-jwt-foo"] ?? null })));
    const c = config(true) as { endpoints: Record<string, { port: number }[]> };
    c.endpoints.c1![0]!.port = up.port;
    proxy = await startProxy(c);
  });
  after(async () => {
    await proxy.close();
    await up.close();
  });

  for (const proto of [["--http1.1"], ["--http2-prior-knowledge"]]) {
    it(`${proto[0]}: valid → 200 (token stripped, claim header set); tampered → 401; none → 200`, async () => {
      const ok = await curl(proxy.port, [...proto, "-H", `Authorization: Bearer ${DEMO_JWT}`]);
      assert.equal(ok.status, 200, ok.headers);
      assert.deepEqual(JSON.parse(ok.body), { authorization: null, foo: "bar" });
      const bad = await curl(proxy.port, [...proto, "-H", `Authorization: Bearer ${TAMPERED}`]);
      assert.equal(bad.status, 401);
      assert.equal(bad.body, "Jwt verification fails");
      assert.match(bad.headers, /^www-authenticate: Bearer realm="http:\/\/127\.0\.0\.1:\d+\/headers", error="invalid_token"\r?$/m);
      const none = await curl(proxy.port, [...proto, "-H", "x-jwt-foo: forged"]);
      assert.equal(none.status, 200);
      assert.deepEqual(JSON.parse(none.body), { authorization: null, foo: null });
    });
  }

  it("without the filter in the list, the tampered token goes through untouched", async () => {
    const c = config(false) as { version: string; endpoints: Record<string, { port: number }[]>; listeners: Record<string, unknown>[] };
    c.version = "2";
    c.endpoints.c1![0]!.port = up.port;
    c.listeners[0]!.port = proxy.port;
    const r = await proxy.sidecar.applyConfig(c);
    assert.equal(r.ok, true, r.ok ? "" : r.error);
    const res = await curl(proxy.port, ["-H", `Authorization: Bearer ${TAMPERED}`]);
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).authorization, `Bearer ${TAMPERED}`);
  });
});
