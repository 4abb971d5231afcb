// The 30 configurations Istio's validator rejects (Istio's pkg/config/validation), each by number,
// plus valid ones that must pass without errors.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDocuments } from "../parse.ts";
import { validateResource } from "../validate.ts";
import type { Diagnostic } from "../../model/diagnostic.ts";

function validate(spec: unknown, name = "vs"): Diagnostic[] {
  const doc = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name, namespace: "default" }, spec };
  const { resources, diagnostics } = parseDocuments(JSON.stringify(doc), "vs.json");
  assert.deepEqual(diagnostics, []);
  return validateResource(resources[0]!).diagnostics;
}

const errors = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.level === "error");
const route = (host = "foo.bar"): unknown[] => [{ destination: { host } }];
const vs = (http: unknown, extra: Record<string, unknown> = {}): unknown => ({ hosts: ["foo.bar"], http, ...extra });

type Case = [number, string, unknown, string];

const CASES: Case[] = [
  [1, "overlapping wildcard hosts", { hosts: ["*.foo.bar", "*.bar"], http: [{ route: route() }] }, "duplicate hosts in virtual service: *.foo.bar & *.bar"],
  [2, "bad label in host", { hosts: ["foo.ba!r"], http: [{ route: route() }] }, 'domain name "ba!r" invalid (label "ba!r" invalid)'],
  [3, "* bound to mesh", { hosts: ["*"], http: [{ route: route() }] }, "wildcard host * is not allowed for virtual services bound to the mesh gateway"],
  [4, "no routes", { hosts: ["foo.bar"] }, "http, tcp or tls must be provided in virtual service"],
  [5, "gateway ns1/*", { hosts: ["foo.bar"], gateways: ["ns1/*"], http: [{ route: route() }] }, 'invalid value for gateway name: "*"'],
  [5, "gateway */gw", { hosts: ["foo.bar"], gateways: ["*/gw"], http: [{ route: route() }] }, 'invalid value for namespace: "*"'],
  [5, "gateway b@dgateway", { hosts: ["foo.bar"], gateways: ["b@dgateway"], http: [{ route: route() }] }, 'domain name "b@dgateway" invalid'],
  [6, "delegate with gateways", { gateways: ["gw"], http: [{ route: route() }] }, "delegate virtual service must have no gateways specified"],
  [6, "delegate with tcp", { tcp: [{ route: route() }] }, "delegate virtual service must have no tcp route specified"],
  [6, "delegate with tls", { tls: [{ match: [{ sniHosts: ["a.b"] }], route: route() }] }, "delegate virtual service must have no tls route specified"],
  [7, "empty http route", vs([{}]), "HTTP route, redirect or direct_response is required"],
  [8, "route and redirect", vs([{ route: route(), redirect: { uri: "/x" } }]), "HTTP route cannot contain both route and redirect"],
  [9, "fault and redirect", vs([{ redirect: { uri: "/x" }, fault: { abort: { httpStatus: 500 } } }]), "cannot contain both fault and redirect"],
  [9, "rewrite and redirect", vs([{ redirect: { uri: "/x" }, rewrite: { uri: "/y" } }]), "cannot contain both rewrite and redirect"],
  [9, "directResponse and redirect", vs([{ redirect: { uri: "/x" }, directResponse: { status: 200 } }]), "cannot contain both redirect and direct_response"],
  [10, "mirror and mirrors", vs([{ route: route(), mirror: { host: "a" }, mirrors: [{ destination: { host: "b" } }] }]), "HTTP route cannot contain both mirror and mirrors"],
  [11, "mirrorPercentage 101", vs([{ route: route(), mirror: { host: "a" }, mirrorPercentage: { value: 101 } }]), "mirror_percentage must have a max value of 100"],
  [11, "mirrorPercentage -1", vs([{ route: route(), mirror: { host: "a" }, mirrorPercentage: { value: -1 } }]), "mirror_percentage must have a min value of 0"],
  [12, "mirrors percentage 101", vs([{ route: route(), mirrors: [{ percentage: { value: 101 }, destination: { host: "x" } }] }]), "mirror percentage must have a max value of 100"],
  [12, "mirror without destination", vs([{ route: route(), mirrors: [{ percentage: { value: 10 } }] }]), "destination is required for mirrors"],
  [13, "negative weight", vs([{ route: [{ destination: { host: "a" }, weight: 5 }, { destination: { host: "b" }, weight: -1 }] }]), "weight -1 < 0"],
  [14, "all weights 0", vs([{ route: [{ destination: { host: "a" }, weight: 0 }, { destination: { host: "b" }, weight: 0 }] }]), "total destination weight = 0"],
  [15, "destination host *", vs([{ route: route("*") }]), "invalid destination host *"],
  [15, "destination host foo.*", vs([{ route: route("foo.*") }]), 'domain name "*" invalid (label "*" invalid)'],
  [15, "destination host default/baz", vs([{ route: route("default/baz") }]), 'domain name "default/baz" invalid'],
  [15, "no destination", vs([{ route: [{ weight: 100 }] }]), "destination is required"],
  [16, "port {}", vs([{ route: [{ destination: { host: "a", port: {} } }] }]), "port number 0 must be in the range 1..65535"],
  [17, "empty header prefix", vs([{ match: [{ headers: { x: { prefix: "" } } }], route: route() }]), '"headers": prefix string match should not be empty'],
  [17, "empty method prefix", vs([{ match: [{ method: { prefix: "" } }], route: route() }]), '"method": prefix string match should not be empty'],
  [17, "empty scheme regex", vs([{ match: [{ scheme: { regex: "" } }], route: route() }]), '"scheme": regex string match should not be empty'],
  [17, "empty uri regex", vs([{ match: [{ uri: { regex: "" } }], route: route() }]), '"uri": regex string match should not be empty'],
  [18, "bad uri regex", vs([{ match: [{ uri: { regex: "[" } }], route: route() }]), '"uri": error parsing regexp'],
  [18, "bad uri regex hint", vs([{ match: [{ uri: { regex: "[" } }], route: route() }]), "Istio uses RE2 style regex-based match"],
  [18, "regex too long", vs([{ match: [{ uri: { regex: "a".repeat(1025) } }], route: route() }]), "regex is too large, max length allowed is 1024"],
  [18, "lookahead is not RE2", vs([{ match: [{ uri: { regex: "/a(?=b)" } }], route: route() }]), "invalid or unsupported Perl syntax"],
  [19, "null header match", vs([{ match: [{ headers: { foo: null } }], route: route() }]), "header match foo cannot be null"],
  [19, "empty header name", vs([{ match: [{ headers: { "": { exact: "a" } } }], route: route() }]), "header name cannot be empty"],
  [19, "withoutHeaders regex ?", vs([{ match: [{ withoutHeaders: { foo: { regex: "?" } } }], route: route() }]), "error parsing regexp"],
  [20, "bad sourceNamespace", vs([{ match: [{ sourceNamespace: "Bad_NS" }], route: route() }]), "sourceNamespace match Bad_NS is invalid"],
  [20, "match port 70000", vs([{ match: [{ port: 70000 }], route: route() }]), "port number 70000 must be in the range 1..65535"],
  [21, "JWT claim on mesh", vs([{ match: [{ headers: { "@request.auth.claims.grp": { exact: "a" } } }], route: route() }]), "JWT claim based routing (key: @request.auth.claims.grp) is only supported for gateway"],
  [22, "set :path", vs([{ route: route(), headers: { request: { set: { ":path": "x" } } } }]), 'invalid header ":path": header cannot have ":" prefix'],
  [22, "remove host from response", vs([{ route: route(), headers: { response: { remove: ["host"] } } }]), "cannot set Host header"],
  [22, "empty header key", vs([{ route: route(), headers: { request: { add: { "": "x" } } } }]), "header name cannot be empty"],
  [23, "unescaped %", vs([{ route: route(), headers: { response: { set: { name: "abcd%oijasodifj" } } } }]), "header value configuration: invalid header configuration. Un-escaped %"],
  [23, "unescaped % (terminated mid-variable)", vs([{ route: route(), headers: { response: { set: { name: "abcd%oij" } } } }]), "invalid header configuration"],
  [24, "authority twice", vs([{ route: route(), rewrite: { authority: "a" }, headers: { request: { set: { ":authority": "b" } } } }]), "authority header cannot be set multiple times"],
  [25, "empty rewrite", vs([{ route: route(), rewrite: {} }]), "rewrite must specify at least one of URI, UriRegexRewrite, or authority"],
  [25, "uri and uriRegexRewrite", vs([{ route: route(), rewrite: { uri: "/a", uriRegexRewrite: { match: "a", rewrite: "b" } } }]), "may only contain one of URI or UriRegexRewrite"],
  [25, "uriRegexRewrite without rewrite", vs([{ route: route(), rewrite: { uriRegexRewrite: { match: "a" } } }]), "requires both Rewrite and Match"],
  [26, "empty redirect", vs([{ redirect: {} }]), "redirect must specify URI, authority, scheme, or port"],
  [26, "redirect 299", vs([{ redirect: { uri: "/a", redirectCode: 299 } }]), "299 is not a valid redirect code, must be 3xx"],
  [26, "redirect 400", vs([{ redirect: { uri: "/a", redirectCode: 400 } }]), "400 is not a valid redirect code, must be 3xx"],
  [26, "redirect ftp", vs([{ redirect: { uri: "/a", scheme: "ftp" } }]), "invalid redirect scheme"],
  [26, "uri and prefixRewrite", vs([{ redirect: { uri: "/a", prefixRewrite: "/b" } }]), "only one of uri or prefix_rewrite"],
  [26, "prefixRewrite with exact uri", vs([{ match: [{ uri: { exact: "/a" } }], redirect: { prefixRewrite: "/b" } }]), "requires all URI matches to use prefix match type"],
  [27, "direct 199", vs([{ directResponse: { status: 199 } }]), "HTTP status 199 is not in range 200-599"],
  [27, "direct 601", vs([{ directResponse: { status: 601 } }]), "HTTP status 601 is not in range 200-599"],
  [27, "direct body over 1MB", vs([{ directResponse: { status: 200, body: { string: "x".repeat(1024 * 1024 + 1) } } }]), "must be less than 1MB"],
  [28, "empty fault", vs([{ route: route(), fault: {} }]), "HTTP fault injection must have an abort and/or a delay"],
  [28, "abort 100", vs([{ route: route(), fault: { abort: { httpStatus: 100 } } }]), "HTTP status 100 is not in range 200-599"],
  [28, "abort 9000", vs([{ route: route(), fault: { abort: { httpStatus: 9000 } } }]), "HTTP status 9000 is not in range"],
  [28, "bad grpc status", vs([{ route: route(), fault: { abort: { grpcStatus: "BAD_STATUS" } } }]), 'gRPC status "BAD_STATUS" is not supported'],
  [28, "http2Error", vs([{ route: route(), fault: { abort: { http2Error: "x" } } }]), "HTTP/2 abort fault injection not supported yet"],
  [28, "percentage 101", vs([{ route: route(), fault: { abort: { httpStatus: 500, percentage: { value: 101 } } } }]), "percentage 101 is neither 0.0, nor in range [0.0001, 100.0]"],
  [28, "percentage -10", vs([{ route: route(), fault: { delay: { fixedDelay: "1s", percentage: { value: -10 } } } }]), "percentage -10 is neither 0.0, nor in range [0.0001, 100.0]"],
  [28, "delay below ms precision", vs([{ route: route(), fault: { delay: { fixedDelay: "3.000000042s" } } }]), "only durations to ms precision are supported"],
  [28, "exponentialDelay", vs([{ route: route(), fault: { delay: { exponentialDelay: "1s" } } }]), "exponentialDelay not supported yet"],
  [29, "negative attempts", vs([{ route: route(), retries: { attempts: -1 } }]), "attempts cannot be negative"],
  [29, "attempts 0 with perTryTimeout", vs([{ route: route(), retries: { attempts: 0, perTryTimeout: "1s" } }]), "http retry policy configured when attempts are set to 0 (disabled)"],
  [29, "attempts 0 with retryOn", vs([{ route: route(), retries: { attempts: 0, retryOn: "5xx" } }]), "http retry policy configured when attempts are set to 0 (disabled)"],
  [29, "attempts 0 with retryRemoteLocalities", vs([{ route: route(), retries: { retryRemoteLocalities: true } }]), "http retry policy configured when attempts are set to 0 (disabled)"],
  [29, "invalid retryOn", vs([{ route: route(), retries: { attempts: 3, retryOn: "5xx,invalid policy" } }]), '"invalid policy" is not a valid retryOn policy'],
  [29, "retryOn 600", vs([{ route: route(), retries: { attempts: 3, retryOn: "600" } }]), '"600" is not a valid retryOn policy'],
  [29, "perTryTimeout 999ns", vs([{ route: route(), retries: { attempts: 3, perTryTimeout: "999ns" } }]), "duration must be greater than 1ms"],
  [30, "cors PUTT", vs([{ route: route(), corsPolicy: { allowMethods: ["PUTT"] } }]), '"PUTT" is not a supported HTTP method'],
  [30, "cors empty expose header", vs([{ route: route(), corsPolicy: { exposeHeaders: [""] } }]), "header name cannot be empty"],
  [30, "cors maxAge sub-second", vs([{ route: route(), corsPolicy: { maxAge: "2.000000042s" } }]), "max_age duration is accurate only to seconds precision"],
  [30, "cors empty origin", vs([{ route: route(), corsPolicy: { allowOrigins: [{ exact: "" }] } }]), "'' is not a valid match type for CORS allow origins"],
];

for (const [n, title, spec, want] of CASES) {
  test(`Istio rejection #${n}: ${title}`, () => {
    const errs = errors(validate(spec));
    assert.ok(errs.some((d) => d.message.includes(want)), `want an error containing ${JSON.stringify(want)}, got ${JSON.stringify(errs.map((d) => `${d.path}: ${d.message}`))}`);
  });
}

test("all 30 rejection numbers are covered", () => {
  const covered = new Set(CASES.map((c) => c[0]));
  for (let i = 1; i <= 30; i++) assert.ok(covered.has(i), `case ${i} missing`);
});

const VALID: [string, unknown][] = [
  ["plain route", vs([{ route: route() }])],
  ["relative weights need not sum to 100", vs([{ route: [{ destination: { host: "a" }, weight: 1 }, { destination: { host: "b", subset: "v2" }, weight: 2 }] }])],
  ["empty uri prefix", vs([{ match: [{ uri: { prefix: "" } }], route: route() }])],
  ["header presence {}", vs([{ match: [{ headers: { "x-user": {} } }], route: route() }])],
  ["escaped % and %VAR%", vs([{ route: route(), headers: { response: { set: { a: "100%%", b: "%HOSTNAME%", c: "x %DOWNSTREAM_REMOTE_ADDRESS% y" } } } }])],
  ["JWT claim at a gateway", { hosts: ["foo.bar"], gateways: ["istio-system/gw"], http: [{ match: [{ headers: { "@request.auth.claims.grp": { exact: "a" } } }], route: route() }] }],
  ["* at a gateway", { hosts: ["*"], gateways: ["gw"], http: [{ route: route() }] }],
  ["direct status 600", vs([{ directResponse: { status: 600, body: { string: "bye" } } }])],
  ["redirect with prefix matches", vs([{ match: [{ uri: { prefix: "/a" } }], redirect: { prefixRewrite: "/b", redirectCode: 308 } }])],
  ["full retries", vs([{ route: route(), timeout: "10s", retries: { attempts: 3, perTryTimeout: "2s", retryOn: "5xx,gateway-error,503,retriable-4xx", backoff: "25ms" } }])],
  ["fault with delay and abort", vs([{ route: route(), fault: { delay: { fixedDelay: "7s", percentage: { value: 100 } }, abort: { grpcStatus: "UNAVAILABLE", percentage: { value: 0.5 } } } }])],
  ["cors", vs([{ route: route(), corsPolicy: { allowOrigins: [{ exact: "https://a.com" }, { regex: "https://.*\\.b\\.com" }], allowMethods: ["GET", "POST"], allowHeaders: ["x-a"], maxAge: "24h", allowCredentials: true } }])],
  ["mirrors with percentages", vs([{ route: route(), mirrors: [{ destination: { host: "a" }, percentage: { value: 50 } }] }])],
  ["rewrite with regex", vs([{ route: route(), rewrite: { uriRegexRewrite: { match: "^/v1/(.*)$", rewrite: "/v2/\\1" } } }])],
  ["tcp and tls routes", { hosts: ["*.foo.bar"], tcp: [{ match: [{ port: 3306, destinationSubnets: ["10.0.0.0/8"] }], route: route() }], tls: [{ match: [{ sniHosts: ["a.foo.bar"], port: 443 }], route: route() }] }],
  ["delegate root and delegate child", vs([{ match: [{ uri: { prefix: "/a" } }], delegate: { name: "child", namespace: "ns" } }])],
  ["IP host", { hosts: ["10.1.2.3"], http: [{ route: route() }] }],
];

for (const [title, spec] of VALID) {
  test(`valid: ${title}`, () => {
    const errs = errors(validate(spec));
    assert.deepEqual(errs.map((d) => `${d.path}: ${d.message}`), []);
  });
}

test("errors carry the precise field path and line", () => {
  const yaml = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}\n    retries:\n      attempts: 3\n      perTryTimeout: 1.5ns\n";
  const { resources } = parseDocuments(yaml, "r.yaml");
  const d = errors(validateResource(resources[0]!).diagnostics)[0];
  assert.equal(d?.path, "spec.http[0].retries.perTryTimeout");
  assert.equal(d?.source.line, 11);
});

test("wrong types are clear errors, never crashes", () => {
  const specs: unknown[] = [
    { hosts: "foo", http: {} },
    { hosts: ["a"], http: ["x", 3, null, { route: "r" }, { route: [{ destination: "h" }] }] },
    { hosts: ["a"], http: [{ match: "x", route: route(), retries: 3, fault: [], corsPolicy: "c", headers: 1, timeout: 5 }] },
    { hosts: ["a"], http: [{ match: [{ uri: "/a", headers: [], port: "80" }], route: [{ destination: { host: 1, port: { number: "x" } }, weight: "5" }] }] },
    { hosts: [1, null], tcp: [{ match: [null], route: [] }], tls: [{}] },
  ];
  for (const spec of specs) {
    const ds = validate(spec);
    assert.ok(errors(ds).length > 0);
    assert.ok(!ds.some((d) => d.message.startsWith("internal error")), JSON.stringify(ds.map((d) => d.message)));
  }
  const msgs = errors(validate({ hosts: "foo", http: [{ route: route() }] })).map((d) => `${d.path}: ${d.message}`);
  assert.ok(msgs.includes('spec.hosts: expected a list, got a string ("foo")'), JSON.stringify(msgs));
});

test("unknown fields warn with a suggestion; deprecated fields warn", () => {
  const ds = validate(vs([{ route: route(), tiemout: "1s", mirror: { host: "m" }, mirrorPercent: 50 }]));
  assert.deepEqual(errors(ds), []);
  const unknown = ds.find((d) => d.code === "AMM0013");
  assert.equal(unknown?.message, "unknown field 'tiemout', did you mean 'timeout'?");
  assert.equal(unknown?.path, "spec.http[0].tiemout");
  assert.ok(ds.some((d) => d.code === "AMM0011" && d.message.includes("mirrorPercent")));
});

test("unreachable rules are warnings", () => {
  const ds = validate(vs([{ route: route() }, { route: route() }, { match: [{ uri: { prefix: "/a" } }], route: route() }, { match: [{ uri: { prefix: "/a" } }], route: route() }]));
  assert.deepEqual(errors(ds), []);
  const warns = ds.filter((d) => d.level === "warning").map((d) => d.message);
  assert.ok(warns.some((m) => m.includes("only the last rule can have no matches")));
  assert.ok(warns.some((m) => m.includes("all matches used by prior rules")));
});
