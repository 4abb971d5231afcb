// Property: a compiled RouteTable (maps, sorted wildcards, cache, precompiled conditions, lazy
// query parsing) picks the same virtual host and route as a naive matcher written straight from
// the rules in docs/routing.md, on random route sets and requests.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { HeaderMatcher, QueryParamMatcher, Route, RouteMatch, StringMatch, VirtualHost } from "../../model/proxy-config.ts";
import { forward, routeConfig } from "./fixtures.ts";
import { requestView } from "./request-view.ts";
import { RouteTable } from "./route-table.ts";

const DOMAINS = ["a", "a:80", "b.ns", "B.ns:9080", "*.ns", "*.x.ns", "*.ns:9080", "c.*", "c.d.*", "*"];
const AUTHORITIES = ["a", "A:80", "a:81", "b.ns", "b.ns:9080", "q.ns", "q.x.ns:9080", "q.x.ns", "c.d.e", "c.e:80", "zz", "ns", ".ns"];
const PATHS = ["/", "/api", "/api/v1", "/API/v1?x=1", "/api/v2?v=2&v=3", "/p?debug", "/p?debug=&id=42", "/p?id=4a", "/other/x?id=7"];
const VALUES = ["", "/", "/api", "/api/v1", "/p", "GET", "POST", "http", "https", "jason", "mary", "a", "b.ns", "2", "42"];
const REGEXES = ["/api/v[0-9]", "/api.*", "GET|POST", "[0-9]+", "ja.*", "b\\.ns(:[0-9]+)?", ".*"];

const stringMatch: fc.Arbitrary<StringMatch> = fc.oneof(
  fc.constantFrom(...VALUES).map((exact) => ({ exact })),
  fc.constantFrom(...VALUES).map((prefix) => ({ prefix })),
  fc.constantFrom(...REGEXES).map((regex) => ({ regex })),
);

const headerMatcher: fc.Arbitrary<HeaderMatcher> = fc.record({
  name: fc.constantFrom("end-user", "x-debug", ":authority", ":method", ":path", ":scheme"),
  match: fc.option(stringMatch, { nil: undefined }),
  invert: fc.boolean(),
});

const queryMatcher: fc.Arbitrary<QueryParamMatcher> = fc.record({
  name: fc.constantFrom("v", "debug", "id", "x"),
  match: fc.option(stringMatch, { nil: undefined }),
});

const routeMatch: fc.Arbitrary<RouteMatch> = fc.record({
  uri: fc.option(stringMatch, { nil: undefined }),
  scheme: fc.option(stringMatch, { nil: undefined }),
  method: fc.option(stringMatch, { nil: undefined }),
  authority: fc.option(stringMatch, { nil: undefined }),
  headers: fc.array(headerMatcher, { maxLength: 2 }),
  queryParams: fc.array(queryMatcher, { maxLength: 2 }),
  port: fc.option(fc.constantFrom(80, 9080), { nil: undefined }),
  ignoreUriCase: fc.boolean(),
});

/** Each domain goes to at most one of up to 4 virtual hosts (Envoy rejects duplicates). */
const virtualHosts: fc.Arbitrary<VirtualHost[]> = fc
  .tuple(fc.array(fc.integer({ min: -1, max: 3 }), { minLength: DOMAINS.length, maxLength: DOMAINS.length }), fc.array(fc.array(routeMatch, { maxLength: 4 }), { minLength: 4, maxLength: 4 }))
  .map(([owners, matches]) =>
    matches.map((ms, v) => ({
      name: `vh${v}`,
      domains: DOMAINS.filter((_, i) => owners[i] === v),
      routes: ms.map((match, r): Route => ({ name: `vh${v}.r${r}`, match, action: forward(["c"]), origin: { resource: "t", ruleIndex: r, matchIndex: -1 } })),
    })),
  );

interface Req {
  method: string;
  path: string;
  authority: string;
  scheme: "http" | "https";
  port: number;
  headers: Record<string, string>;
}

const request: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom("GET", "POST", "get"),
  path: fc.constantFrom(...PATHS),
  authority: fc.constantFrom(...AUTHORITIES),
  scheme: fc.constantFrom("http" as const, "https" as const),
  port: fc.constantFrom(80, 9080),
  headers: fc.dictionary(fc.constantFrom("end-user", "x-debug"), fc.constantFrom(...VALUES), { maxKeys: 2 }),
});

// ---- the naive reference, written from the rules, sharing no code with the router ----

function refString(m: StringMatch, v: string, ignoreCase = false): boolean {
  if ("regex" in m) return new RegExp(`^(?:${m.regex})$`).test(v);
  const value = ignoreCase ? v.toLowerCase() : v;
  if ("exact" in m) return value === (ignoreCase ? m.exact.toLowerCase() : m.exact);
  return value.startsWith(ignoreCase ? m.prefix.toLowerCase() : m.prefix);
}

function refHeader(req: Req, name: string): string | undefined {
  if (name === ":authority") return req.authority;
  if (name === ":method") return req.method;
  if (name === ":path") return req.path;
  if (name === ":scheme") return req.scheme;
  return req.headers[name];
}

function refRoute(m: RouteMatch, req: Req): boolean {
  const [pathOnly, query] = req.path.split("?", 2) as [string, string | undefined];
  const params = new URLSearchParams(query ?? "");
  if (m.uri && !refString(m.uri, pathOnly, m.ignoreUriCase && !("regex" in m.uri))) return false;
  if (m.scheme && !refString(m.scheme, req.scheme)) return false;
  if (m.method && !refString(m.method, req.method)) return false;
  if (m.authority && !refString(m.authority, req.authority)) return false;
  if (m.port !== undefined && m.port !== req.port) return false;
  for (const h of m.headers) {
    const v = refHeader(req, h.name);
    const hit = v !== undefined && (h.match === undefined || refString(h.match, v));
    if (v === undefined ? !h.invert : hit === h.invert) return false;
  }
  for (const q of m.queryParams) {
    const v = params.get(q.name);
    if (v === null || (q.match !== undefined && !refString(q.match, v))) return false;
  }
  return true;
}

function refVirtualHost(vhs: VirtualHost[], authority: string): VirtualHost | undefined {
  const full = authority.toLowerCase();
  const m = /^(.*):(\d+)$/.exec(full);
  const keys = m ? [full, m[1] as string] : [full];
  const all = vhs.flatMap((vh) => vh.domains.map((d) => ({ d: d.toLowerCase(), vh })));
  for (const k of keys) for (const { d, vh } of all) if (d === k) return vh;
  const longest = (pred: (d: string, k: string) => boolean): VirtualHost | undefined => {
    for (const k of keys) {
      const hits = all.filter(({ d }) => d !== "*" && pred(d, k)).sort((x, y) => y.d.length - x.d.length);
      if (hits[0]) return hits[0].vh;
    }
    return undefined;
  };
  return (
    longest((d, k) => d.startsWith("*") && k.length > d.length - 1 && k.endsWith(d.slice(1))) ??
    longest((d, k) => d.endsWith("*") && k.length > d.length - 1 && k.startsWith(d.slice(0, -1))) ??
    all.find(({ d }) => d === "*")?.vh
  );
}

function reference(vhs: VirtualHost[], req: Req): string {
  const vh = refVirtualHost(vhs, req.authority);
  if (!vh) return "noVirtualHost";
  const r = vh.routes.find((route) => refRoute(route.match, req));
  return r ? r.name : `noRoute:${vh.name}`;
}

describe("RouteTable vs naive reference", () => {
  it("agrees on random route sets and requests", () => {
    fc.assert(
      fc.property(virtualHosts, fc.array(request, { minLength: 1, maxLength: 12 }), (vhs, reqs) => {
        const table = new RouteTable(routeConfig(vhs));
        for (const req of reqs) {
          const got = table.match(requestView(req));
          const name = got.kind === "route" ? got.route.name : got.kind === "noRoute" ? `noRoute:${got.virtualHost.name}` : got.kind;
          assert.equal(name, reference(vhs, req), JSON.stringify(req));
        }
      }),
      { numRuns: 400, seed: 20240601 },
    );
  });
});
