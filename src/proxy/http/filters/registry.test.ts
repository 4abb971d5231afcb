import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ProxyConfig } from "../../../model/proxy-config.ts";
import * as rooms from "../../rooms/rooms.ts";
import { registerRooms } from "../../rooms/load.ts";
import { buildChain, buildChains, DEFAULT_CHAIN, httpFilter, usesLazyHttpFilters } from "./registry.ts";

describe("the HTTP filter registry", () => {
  it("the default chain is route lookup, then Istio's cors → fault → router", () => {
    assert.deepEqual(
      DEFAULT_CHAIN.map((s) => s.filter.name),
      ["route", "cors", "fault", "router"],
    );
  });

  it("names every registered filter", () => {
    for (const name of ["cors", "fault", "router"]) assert.equal(httpFilter(name)?.name, name);
    assert.equal(httpFilter("route"), undefined, "the route lookup is not configurable: it always runs first");
  });

  it("rejects an unknown filter by name, and a list that does not end with the router", () => {
    assert.throws(() => buildChain([{ name: "envoy.filters.http.lua" }, { name: "router" }]), /\[0\]\.name: unknown HTTP filter "envoy.filters.http.lua"/);
    assert.throws(() => buildChain([{ name: "router" }, { name: "cors" }]), /must end with "router"/);
    assert.throws(() => buildChain([]), /must end with "router"/);
  });
});

const listener = (extra: Record<string, unknown>) => ({ name: "outbound", direction: "outbound", address: "127.0.0.1", port: 0, protocol: "http", routeConfigName: "outbound", ...extra });
const config = (listeners: unknown[], filterConfig?: Record<string, unknown>, rateLimits?: unknown) =>
  ({
    listeners,
    routes: [{ name: "outbound", virtualHosts: [{ name: "v", domains: ["*"], routes: [{ name: "r", match: {}, action: { kind: "direct", status: 200 }, ...(filterConfig ? { filterConfig } : {}), ...(rateLimits ? { rateLimits } : {}), origin: {} }] }] }],
  }) as unknown as ProxyConfig;

// Runs first: the filters beyond cors, fault and router are a lazy chunk (src/proxy/rooms/).
describe("before the lazy filters are loaded", () => {
  it("a config that names one of them says where; one that names none needs nothing", () => {
    assert.equal(usesLazyHttpFilters(config([listener({}), listener({ httpFilters: [{ name: "cors" }, { name: "router" }] })])), undefined);
    assert.equal(usesLazyHttpFilters(config([listener({}), listener({ httpFilters: [{ name: "rbac" }, { name: "router" }] })])), "listeners[1].httpFilters");
    assert.equal(usesLazyHttpFilters(config([listener({})], { ext_authz: {} })), "routes[0].filterConfig");
    assert.equal(usesLazyHttpFilters(config([listener({})], undefined, { policies: [] })), "routes[0].rateLimits");
  });

  it("building a chain with one is an error naming it, not an unknown filter", () => {
    assert.equal(httpFilter("rbac"), undefined);
    assert.throws(() => buildChain([{ name: "rbac" }, { name: "router" }]), { message: '[0].name: HTTP filter "rbac" is not loaded (src/proxy/rooms/)' });
  });

  it("once registered, they are found and a config naming them needs nothing more", () => {
    registerRooms(rooms);
    assert.equal(httpFilter("rbac")?.name, "rbac");
    assert.equal(usesLazyHttpFilters(config([listener({ httpFilters: [{ name: "rbac" }, { name: "router" }] })], { ext_authz: {} }, { policies: [] })), undefined);
  });
});

describe("a config's filter chains", () => {
  before(() => registerRooms(rooms));

  it("each HTTP listener gets its own list; no list means the default; TCP listeners get none", () => {
    const chains = buildChains(config([listener({ httpFilters: [{ name: "router" }] }), listener({ name: "inbound" }), listener({ name: "db", protocol: "tcp" })]));
    assert.deepEqual(chains.get("outbound")?.map((s) => s.filter.name), ["route", "router"]);
    assert.equal(chains.get("inbound"), DEFAULT_CHAIN);
    assert.equal(chains.has("db"), false);
  });

  it("a listener whose routes match JWT claims looks its route up right after jwt_authn", () => {
    const cfg = config([listener({ httpFilters: [{ name: "jwt_authn", config: { providers: [{ issuer: "i", audiences: [], jwks: `{"keys":[]}`, timeoutMs: 5000, fromHeaders: [], fromParams: [], fromCookies: [], outputClaimToHeaders: [] }] } }, { name: "cors" }, { name: "router" }] })]);
    assert.deepEqual(buildChains(cfg).get("outbound")?.map((s) => s.filter.name), ["route", "jwt_authn", "cors", "router"]);
    const route = (cfg.routes[0]?.virtualHosts[0]?.routes[0]) as unknown as { match: unknown };
    route.match = { headers: [{ name: "@request.auth.claims.groups", claim: ["groups"], match: { exact: "group1" }, invert: false }] };
    assert.deepEqual(buildChains(cfg).get("outbound")?.map((s) => s.filter.name), ["jwt_authn", "route", "cors", "router"]);
  });

  it("a list that is not a list of named filters is reported with its field path", () => {
    assert.throws(() => buildChains(config([listener({ httpFilters: "router" })])), { message: "listeners[0].httpFilters: must be a list of { name, config? }" });
    assert.throws(() => buildChains(config([listener({ httpFilters: [{ name: "router" }, 7] })])), { message: "listeners[0].httpFilters[1].name: must be a string" });
  });

  it("an unknown filter name is reported with its field path", () => {
    assert.throws(() => buildChains(config([listener({ httpFilters: [{ name: "oauth2" }, { name: "router" }] })])), {
      message: 'listeners[0].httpFilters[0].name: unknown HTTP filter "oauth2" (known: jwt_authn, ext_authz, rbac, local_ratelimit, ratelimit, cors, fault, router)',
    });
    assert.throws(() => buildChains(config([listener({ httpFilters: [{ name: "jwt_authn" }, { name: "router" }] })])), {
      message: 'listeners[0].httpFilters[0].config: jwt_authn: config must be an object with "providers"',
    });
    assert.throws(() => buildChains(config([listener({})], { oauth2: {} })), {
      message: 'routes[0].virtualHosts[0].routes[0].filterConfig.oauth2: unknown HTTP filter "oauth2" (known: jwt_authn, ext_authz, rbac, local_ratelimit, ratelimit, cors, fault, router)',
    });
  });
});
