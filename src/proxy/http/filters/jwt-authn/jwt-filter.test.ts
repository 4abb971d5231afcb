import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { JwtAuthnConfig, JwtProvider } from "../../../../model/proxy-config.ts";
import { FakeClock } from "../../../../testing/fake-clock.ts";
import { STOP, type FilterChain, type HttpFilter } from "../../../request/context.ts";
import { runChain } from "../chain.ts";
import { FakeRequest } from "../../../../testing/fake-request.ts";
import { jwtAuthnFilter, JWT_METADATA } from "./jwt-filter.ts";
import type { VerifiedJwt } from "./verify.ts";

const SAMPLES = new URL("../../../../../test/fixtures/istio/security/tools/jwt/samples/", import.meta.url);
const DEMO_JWT = readFileSync(new URL("demo.jwt", SAMPLES), "utf8").trim();
const GROUPS_JWT = readFileSync(new URL("groups-scope.jwt", SAMPLES), "utf8").trim();
const ISTIO_JWKS = readFileSync(new URL("jwks.json", SAMPLES), "utf8");
const ISTIO_ISSUER = "testing@secure.istio.io";

function provider(p: Partial<JwtProvider>): JwtProvider {
  return { issuer: ISTIO_ISSUER, audiences: [], jwks: ISTIO_JWKS, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], forwardOriginalToken: false, outputClaimToHeaders: [], required: false, ...p };
}

/** The outcome of one request through [jwt_authn, a filter that records it reached the end]. */
interface Outcome { status: number; body: string | undefined; wwwAuthenticate: string | undefined; passed: boolean; x: FakeRequest }

function run(config: JwtAuthnConfig, init: ConstructorParameters<typeof FakeRequest>[0]): Promise<Outcome> {
  const x = new FakeRequest(init);
  return new Promise((resolve) => {
    const done = (passed: boolean): void => {
      const r = x.replies[0];
      resolve({ status: r?.status ?? 0, body: r?.body, wwwAuthenticate: r?.headers?.find(([k]) => k === "www-authenticate")?.[1], passed, x });
    };
    const end: HttpFilter = { name: "end", onRequest: () => (done(true), STOP) };
    const chain: FilterChain = [{ filter: jwtAuthnFilter, config }, { filter: end, config: undefined }];
    x.reply = ((orig) => (...a: Parameters<FakeRequest["reply"]>) => (orig.apply(x, a), done(false)))(x.reply);
    runChain(x, chain);
  });
}

/** A pushed config (checked as a config push does). */
function compile(...providers: Partial<JwtProvider>[]): JwtAuthnConfig {
  const raw = { providers: providers.map(provider) };
  jwtAuthnFilter.check?.(raw);
  return raw;
}

describe("jwt_authn with Istio's demo.jwt and jwks.json", () => {
  const c = compile({});
  it("a valid token passes; the principal is <iss>/<sub>; Authorization is stripped", async () => {
    const o = await run(c, { headers: { authorization: `Bearer ${DEMO_JWT}` } });
    assert.equal(o.passed, true);
    const v = o.x.metadata?.get(JWT_METADATA) as VerifiedJwt[];
    assert.equal(v[0]?.principal, `${ISTIO_ISSUER}/${ISTIO_ISSUER}`);
    assert.equal(v[0]?.payload.foo, "bar");
    assert.equal(o.x.header("authorization"), undefined);
  });
  it("a repeated token is answered from the cache, without suspending", () => {
    const x = new FakeRequest({ headers: { authorization: `Bearer ${DEMO_JWT}` } });
    assert.equal(jwtAuthnFilter.onRequest(x, c), 0);
  });
  it("no token passes (authorization decides)", async () => {
    const o = await run(c, {});
    assert.equal(o.passed, true);
    assert.equal(o.x.metadata, null);
  });
  it("a tampered token gets 401 Jwt verification fails with Envoy's www-authenticate", async () => {
    const [h, p, s] = DEMO_JWT.split(".");
    const bad = `${h}.${p}.${s?.startsWith("A") ? "B" : "A"}${s?.slice(1)}`;
    const o = await run(c, { headers: { authorization: `Bearer ${bad}` }, authority: "httpbin.foo:8000", path: "/headers?x=1" });
    assert.deepEqual([o.status, o.body, o.wwwAuthenticate], [401, "Jwt verification fails", `Bearer realm="http://httpbin.foo:8000/headers", error="invalid_token"`]);
  });
  it("a malformed token, an unknown issuer, a token in ?access_token", async () => {
    assert.equal((await run(c, { headers: { authorization: "Bearer deadbeef" } })).body, "Jwt is not in the form of Header.Payload.Signature");
    const other = compile({ issuer: "someone-else" });
    assert.deepEqual([(await run(other, { headers: { authorization: `Bearer ${DEMO_JWT}` } })).status, (await run(other, { headers: { authorization: `Bearer ${DEMO_JWT}` } })).body], [401, "Jwt issuer is not configured"]);
    assert.equal((await run(c, { path: `/ip?access_token=${DEMO_JWT}` })).passed, true);
  });
  it("audiences: a token without an allowed aud gets 403", async () => {
    const o = await run(compile({ audiences: ["bookinfo"] }), { headers: { authorization: `Bearer ${DEMO_JWT}` } });
    assert.deepEqual([o.status, o.body], [403, "Audiences in Jwt are not allowed"]);
  });
  it("fromHeaders with prefix, forwardOriginalToken, outputPayloadToHeader, outputClaimToHeaders (sanitized first)", async () => {
    const cfg = compile({ fromHeaders: [{ name: "x-jwt", prefix: "Token " }], forwardOriginalToken: true, outputPayloadToHeader: "x-jwt-payload", outputClaimToHeaders: [{ header: "x-groups-foo", claim: "foo" }] });
    const o = await run(cfg, { headers: { "x-jwt": `Token ${DEMO_JWT}`, "x-groups-foo": "forged" } });
    assert.equal(o.passed, true);
    assert.equal(o.x.header("x-jwt"), `Token ${DEMO_JWT}`);
    assert.equal(o.x.header("x-jwt-payload"), DEMO_JWT.split(".")[1]);
    assert.equal(o.x.header("x-groups-foo"), "bar");
    const missing = await run(cfg, { headers: { "x-jwt": DEMO_JWT, "x-groups-foo": "forged" } });
    assert.equal(missing.passed, true, "a header without the prefix counts as no token (Envoy)");
    assert.equal(missing.x.header("x-groups-foo"), undefined);
  });
  it("fromCookies and groups-scope.jwt", async () => {
    const o = await run(compile({ fromCookies: ["session"] }), { headers: { cookie: `a=b; session=${GROUPS_JWT}` } });
    assert.deepEqual((o.x.metadata?.get(JWT_METADATA) as VerifiedJwt[])[0]?.payload.groups, ["group1", "group2"]);
  });
  it("presence REQUIRED: no token gets 401 Jwt is missing (no error= part)", async () => {
    const o = await run(compile({ required: true }), {});
    assert.deepEqual([o.status, o.body, o.wwwAuthenticate], [401, "Jwt is missing", `Bearer realm="http://reviews:9080/"`]);
  });
});

describe("jwt_authn time checks (fake clock, 60 s skew)", () => {
  it("expired and not-yet-valid tokens", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    const clock = new FakeClock();
    const now = Math.floor(clock.wallNow() / 1000);
    const sign = (claims: Record<string, number>): Promise<string> => new SignJWT({ sub: "u", ...claims }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer("https://idp").sign(privateKey);
    const c = compile({ issuer: "https://idp", jwks: JSON.stringify({ keys: [jwk] }) });
    const body = async (t: string): Promise<string | undefined> => (await run(c, { clock, headers: { authorization: `Bearer ${t}` } })).body;
    assert.equal(await body(await sign({ exp: now - 61 })), "Jwt is expired");
    assert.equal(await body(await sign({ nbf: now + 61 })), "Jwt not yet valid");
    const within = await sign({ exp: now - 30 });
    assert.equal((await run(c, { clock, headers: { authorization: `Bearer ${within}` } })).passed, true);
    clock.advance(60_000);
    assert.equal(await body(within), "Jwt is expired", "a cached token expires too");
  });
});

describe("jwt_authn with a JWKS served over HTTP (key rotation, failures)", () => {
  let server: Server;
  let jwks: unknown = { keys: [] };
  let up = true;
  let fetches = 0;
  let base = "";
  before(async () => {
    server = createServer((req, res) => {
      fetches++;
      if (!up) return void res.writeHead(503).end();
      if (req.url === "/.well-known/openid-configuration") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("fetches, keeps the keys, refetches on an unknown kid, keeps the last good keys when the server fails", async () => {
    const k1 = await generateKeyPair("RS256");
    const k2 = await generateKeyPair("PS256");
    jwks = { keys: [{ ...(await exportJWK(k1.publicKey)), kid: "k1", alg: "RS256" }] };
    const clock = new FakeClock();
    const sign = (key: CryptoKey, alg: string, kid: string, sub: string): Promise<string> => new SignJWT({ sub }).setProtectedHeader({ alg, kid }).setIssuer(base).sign(key);
    const c = compile({ issuer: base, jwks: undefined, jwksUri: `${base}/.well-known/openid-configuration` });
    const req = (t: string): Promise<Outcome> => run(c, { clock, headers: { authorization: `Bearer ${t}` } });
    assert.equal((await req(await sign(k1.privateKey, "RS256", "k1", "a"))).passed, true);
    const afterFirst = fetches;
    assert.equal((await req(await sign(k1.privateKey, "RS256", "k1", "b"))).passed, true);
    assert.equal(fetches, afterFirst, "cached keys");
    // Rotation: k2 is published; a token with kid k2 refetches (after the 30 s cooldown).
    jwks = { keys: [{ ...(await exportJWK(k2.publicKey)), kid: "k2", alg: "PS256" }, ...(jwks as { keys: unknown[] }).keys] };
    clock.advance(31_000);
    assert.equal((await req(await sign(k2.privateKey, "PS256", "k2", "c"))).passed, true);
    // The server fails: the last good keys still verify after the cache time.
    up = false;
    clock.advance(6 * 60_000);
    assert.equal((await req(await sign(k1.privateKey, "RS256", "k1", "d"))).passed, true);
    const unknown = await generateKeyPair("RS256");
    assert.equal((await req(await sign(unknown.privateKey, "RS256", "k9", "e"))).body, "Jwks doesn't have key to match kid or alg from Jwt");
  });

  it("a cached token stops verifying once the JWKS drops its key (the cache follows the keys)", async () => {
    up = true;
    const k1 = await generateKeyPair("RS256");
    const k2 = await generateKeyPair("RS256");
    jwks = { keys: [{ ...(await exportJWK(k1.publicKey)), kid: "k1", alg: "RS256" }] };
    const clock = new FakeClock();
    const sign = (key: CryptoKey, kid: string): Promise<string> => new SignJWT({ sub: kid }).setProtectedHeader({ alg: "RS256", kid }).setIssuer(base).sign(key);
    const c = compile({ issuer: base, jwks: undefined, jwksUri: `${base}/rotating` });
    const req = (t: string): Promise<Outcome> => run(c, { clock, headers: { authorization: `Bearer ${t}` } });
    const old = await sign(k1.privateKey, "k1");
    assert.equal((await req(old)).passed, true);
    const x = new FakeRequest({ clock, headers: { authorization: `Bearer ${old}` } });
    assert.equal(jwtAuthnFilter.onRequest(x, c), 0, "cached: continues synchronously");
    // k1 is withdrawn; after the 5 min cache time a request refetches and gets k2 only.
    jwks = { keys: [{ ...(await exportJWK(k2.publicKey)), kid: "k2", alg: "RS256" }] };
    clock.advance(5 * 60_000 + 1);
    assert.equal((await req(await sign(k2.privateKey, "k2"))).passed, true);
    assert.equal((await req(old)).body, "Jwks doesn't have key to match kid or alg from Jwt");
  });

  it("no keys ever fetched: 401 Jwks remote fetch is failed", async () => {
    up = false;
    const c = compile({ issuer: "https://down", jwks: undefined, jwksUri: `${base}/never` });
    const t = await new SignJWT({ sub: "x" }).setProtectedHeader({ alg: "RS256", kid: "k" }).setIssuer("https://down").sign((await generateKeyPair("RS256")).privateKey);
    const o = await run(c, { headers: { authorization: `Bearer ${t}` } });
    assert.deepEqual([o.status, o.body], [401, "Jwks remote fetch is failed"]);
  });
});
