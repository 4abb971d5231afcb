// Simulation tests in the style of Istio's pilot/pkg/simulation: the Bookinfo mesh of
// samples/bookinfo (Services, Workloads, DestinationRules) plus one of Istio's traffic-management
// configs at a time (samples/networking/, test/fixtures/istio/) → translate() → the route table,
// fault, split and balancer decisions of the caller's sidecar, with no socket and seeded
// randomness. Each row reads "a request … from productpage goes to cluster …, then host …".
// Workload instances get 10.1.0.N in file order: curl 1, details-v1 2, ratings-v1 3, reviews-v1 4,
// reviews-v2 5, reviews-v3 6, productpage-v1 7.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Mesh, type Call, type CallResult } from "../../src/testing/simulation.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BOOKINFO = join(ROOT, "samples", "bookinfo");
const NET = join(ROOT, "samples", "networking", "bookinfo");
const ISTIO_NET = join(ROOT, "test", "fixtures", "istio", "samples", "bookinfo", "networking");

const REVIEWS = "outbound|9080||reviews.default.svc.cluster.local";
const REVIEWS_V1 = "outbound|9080|v1|reviews.default.svc.cluster.local";
const REVIEWS_V2 = "outbound|9080|v2|reviews.default.svc.cluster.local";
const REVIEWS_V3 = "outbound|9080|v3|reviews.default.svc.cluster.local";
const RATINGS_V1 = "outbound|9080|v1|ratings.default.svc.cluster.local";
const DETAILS_V1 = "outbound|9080|v1|details.default.svc.cluster.local";

/** Istio's default retry policy, as Istio writes it into Envoy's routes. */
const ISTIO_DEFAULT_RETRY = {
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOn: ["connect-failure", "refused-stream", "unavailable", "cancelled", "retriable-status-codes"],
  retriableStatusCodes: [503],
};

const jason = { "end-user": "jason" };
const reviews = (headers: Record<string, string> = {}): Call => ({ url: "http://reviews:9080/reviews/0", headers });
const ratings = (headers: Record<string, string> = {}): Call => ({ url: "http://ratings:9080/ratings/0", headers });

/** Only the fields `want` names are compared (Istio's simulation.Expect does the same). */
function expectCall(got: CallResult, want: Partial<CallResult>, what: string): void {
  const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof CallResult]]));
  assert.deepEqual(picked, want, what);
}

// The request-timeouts task of istio.io (tasks/traffic-management/request-timeouts): reviews to
// v2 with a half-second timeout.
const REVIEWS_TIMEOUT = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
    timeout: 0.5s
`;

// The retries example of Istio's VirtualService reference (HTTPRetry): 3 attempts, 2 s each, on
// gateway errors, connect failures and refused streams.
const RATINGS_RETRIES = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v1
    retries:
      attempts: 3
      perTryTimeout: 2s
      retryOn: gateway-error,connect-failure,refused-stream
`;

// sourceLabels: only calls from reviews v2 get a 2 s delay on ratings (a per-caller rule).
const RATINGS_FROM_V2 = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - sourceLabels:
        app: reviews
        version: v2
    fault:
      delay:
        percentage:
          value: 100
        fixedDelay: 2s
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`;

// Local answers: a VirtualService whose only rule matches /reviews (others get 404 NR), and
// a redirect of the old path.
const REVIEWS_ONLY_PREFIX = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - uri:
        exact: /old
    redirect:
      uri: /reviews/0
  - match:
    - uri:
        prefix: /reviews
    route:
    - destination:
        host: reviews
        subset: v1
`;

interface Row {
  name: string;
  /** Extra config files on top of samples/bookinfo. */
  files: string[];
  /** Inline YAML after the files. */
  yaml?: string[];
  call: Call;
  want: Partial<CallResult>;
}

const rows: Row[] = [
  // Request routing (istio.io tasks/traffic-management/request-routing).
  { name: "no VirtualService: the service's cluster, any version", files: [], call: reviews(), want: { cluster: REVIEWS, virtualHost: "reviews.default.svc.cluster.local:9080", status: undefined } },
  { name: "all-v1: reviews v1", files: [join(NET, "virtual-service-all-v1.yaml")], call: reviews(), want: { cluster: REVIEWS_V1, host: "10.1.0.4:9080" } },
  { name: "all-v1: jason gets v1 too", files: [join(NET, "virtual-service-all-v1.yaml")], call: reviews(jason), want: { cluster: REVIEWS_V1, host: "10.1.0.4:9080" } },
  { name: "all-v1: details v1", files: [join(NET, "virtual-service-all-v1.yaml")], call: { url: "details:9080/details/0" }, want: { cluster: DETAILS_V1, host: "10.1.0.2:9080" } },
  {
    name: "test-v2: end-user jason → v2 (first rule, its match)",
    files: [join(NET, "virtual-service-reviews-test-v2.yaml")],
    call: reviews(jason),
    want: { cluster: REVIEWS_V2, host: "10.1.0.5:9080", hostLabels: { app: "reviews", version: "v2" }, route: "VirtualService default/reviews http[0].match[0]" },
  },
  { name: "test-v2: another user → v1 (second rule)", files: [join(NET, "virtual-service-reviews-test-v2.yaml")], call: reviews({ "end-user": "mary" }), want: { cluster: REVIEWS_V1, host: "10.1.0.4:9080", route: "VirtualService default/reviews http[1]" } },
  { name: "test-v2: no end-user → v1", files: [join(NET, "virtual-service-reviews-test-v2.yaml")], call: reviews(), want: { cluster: REVIEWS_V1 } },
  { name: "test-v2: exact match is case-sensitive (Jason → v1)", files: [join(NET, "virtual-service-reviews-test-v2.yaml")], call: reviews({ "end-user": "Jason" }), want: { cluster: REVIEWS_V1 } },
  { name: "test-v2: the short name with its port, the FQDN and namespace forms match the same host", files: [join(NET, "virtual-service-reviews-test-v2.yaml")], call: { url: "reviews.default.svc.cluster.local:9080/", headers: jason }, want: { cluster: REVIEWS_V2 } },
  { name: "jason-v2-v3: jason → v2", files: [join(NET, "virtual-service-reviews-jason-v2-v3.yaml")], call: reviews(jason), want: { cluster: REVIEWS_V2, host: "10.1.0.5:9080" } },
  { name: "jason-v2-v3: others → v3", files: [join(NET, "virtual-service-reviews-jason-v2-v3.yaml")], call: reviews(), want: { cluster: REVIEWS_V3, host: "10.1.0.6:9080" } },
  { name: "reviews-v3: everyone → v3", files: [join(NET, "virtual-service-reviews-v3.yaml")], call: reviews(jason), want: { cluster: REVIEWS_V3, host: "10.1.0.6:9080" } },
  // Fault injection (istio.io tasks/traffic-management/fault-injection).
  { name: "ratings-test-abort: jason gets 500 FI, nothing forwarded", files: [join(NET, "virtual-service-ratings-test-abort.yaml")], call: ratings(jason), want: { status: 500, flags: "FI", cluster: undefined, host: undefined } },
  { name: "ratings-test-abort: others reach ratings v1", files: [join(NET, "virtual-service-ratings-test-abort.yaml")], call: ratings(), want: { status: undefined, cluster: RATINGS_V1, host: "10.1.0.3:9080" } },
  { name: "ratings-test-delay: jason waits 7 s (DI), then ratings v1", files: [join(NET, "virtual-service-ratings-test-delay.yaml")], call: ratings(jason), want: { delayMs: 7_000, flags: "DI", status: undefined, cluster: RATINGS_V1 } },
  { name: "ratings-test-delay: others are not delayed", files: [join(NET, "virtual-service-ratings-test-delay.yaml")], call: ratings(), want: { delayMs: undefined, flags: undefined, cluster: RATINGS_V1 } },
  { name: "fault-injection-details-v1: the matchless first rule aborts every call with 555", files: [join(NET, "fault-injection-details-v1.yaml")], call: { url: "details:9080/details/0" }, want: { status: 555, flags: "FI" } },
  // Retries and timeouts as resolved on the route.
  { name: "Istio's default: no route timeout", files: [join(NET, "virtual-service-reviews-test-v2.yaml")], call: reviews(), want: { timeoutMs: 0 } },
  { name: "request-timeouts task: reviews v2 with a 0.5 s route timeout", files: [], yaml: [REVIEWS_TIMEOUT], call: reviews(), want: { cluster: REVIEWS_V2, timeoutMs: 500 } },
  {
    name: "retries: 3 attempts of 2 s on gateway-error, connect-failure, refused-stream",
    files: [],
    yaml: [RATINGS_RETRIES],
    call: ratings(),
    want: {
      cluster: RATINGS_V1,
      retry: { attempts: 3, perTryTimeoutMs: 2_000, retryOn: ["gateway-error", "connect-failure", "refused-stream"], retriableStatusCodes: [], backoffBaseMs: 25, backoffMaxMs: 250, retryIgnorePreviousHosts: true },
    },
  },
  { name: "sourceLabels: productpage is not reviews v2, no delay", files: [], yaml: [RATINGS_FROM_V2], call: ratings(), want: { delayMs: undefined, cluster: RATINGS_V1, route: "VirtualService default/ratings http[1]" } },
  { name: "no rule matches the path: 404 NR", files: [], yaml: [REVIEWS_ONLY_PREFIX], call: { url: "reviews:9080/health" }, want: { status: 404, flags: "NR", cluster: undefined } },
  { name: "redirect: 301 to the new path on the same authority", files: [], yaml: [REVIEWS_ONLY_PREFIX], call: { url: "reviews:9080/old" }, want: { status: 301, location: "http://reviews:9080/reviews/0" } },
  // Outside the mesh (Istio's default outboundTrafficPolicy ALLOW_ANY) and subsets without endpoints.
  { name: "an unknown host passes through to its own address (ALLOW_ANY)", files: [], call: { url: "example.com:8080/" }, want: { cluster: "PassthroughCluster", host: "example.com:8080" } },
  { name: "details-v2 subset has no instance: 503 UH", files: [join(ISTIO_NET, "virtual-service-details-v2.yaml")], call: { url: "details:9080/details/0" }, want: { status: 503, flags: "UH", cluster: "outbound|9080|v2|details.default.svc.cluster.local" } },
];

describe("bookinfo simulation: calls from productpage", () => {
  for (const row of rows) {
    it(row.name, () => {
      const sim = new Mesh([BOOKINFO, ...row.files], { yaml: row.yaml ?? [] }).simulate("productpage-v1");
      expectCall(sim.call(row.call), row.want, row.name);
    });
  }

  it("Istio's default retry policy is on every mesh route", () => {
    const sim = new Mesh([BOOKINFO, join(NET, "virtual-service-reviews-test-v2.yaml")]).simulate("productpage-v1");
    for (const c of [reviews(jason), reviews(), ratings(), { url: "details:9080/" }]) {
      const r = sim.call(c).retry;
      assert.ok(r !== undefined, c.url);
      assert.deepEqual({ attempts: r.attempts, perTryTimeoutMs: r.perTryTimeoutMs, retryOn: r.retryOn, retriableStatusCodes: r.retriableStatusCodes }, ISTIO_DEFAULT_RETRY, c.url);
    }
  });

  it("no VirtualService: the balancer spreads reviews calls over v1, v2 and v3", () => {
    const sim = new Mesh([BOOKINFO]).simulate("productpage-v1", { seed: 11 });
    const byVersion = sim.distribution(reviews(), 300, (r) => r.hostLabels?.version ?? "none");
    assert.deepEqual(Object.keys(byVersion).sort(), ["v1", "v2", "v3"]);
    for (const v of ["v1", "v2", "v3"]) assert.ok(byVersion[v]! > 60, `${v}: ${byVersion[v]} of 300`);
  });
});

describe("bookinfo simulation: weighted splits on seeded randomness", () => {
  // [file, expected share per cluster in %]; 2,000 calls: the bounds are ±5 points (over 7 σ).
  const splits: [string, Record<string, number>][] = [
    [join(NET, "virtual-service-reviews-90-10.yaml"), { [REVIEWS_V1]: 90, [REVIEWS_V2]: 10 }],
    [join(NET, "virtual-service-reviews-50-v3.yaml"), { [REVIEWS_V1]: 50, [REVIEWS_V3]: 50 }],
    [join(ISTIO_NET, "virtual-service-reviews-80-20.yaml"), { [REVIEWS_V1]: 80, [REVIEWS_V2]: 20 }],
    [join(ISTIO_NET, "virtual-service-reviews-v2-v3.yaml"), { [REVIEWS_V2]: 50, [REVIEWS_V3]: 50 }],
  ];
  for (const [file, shares] of splits) {
    it(`${file.slice(ROOT.length + 1)}: ${Object.values(shares).join("/")}`, () => {
      const n = 2_000;
      const got = new Mesh([BOOKINFO, file]).simulate("productpage-v1", { seed: 42 }).distribution(reviews(), n);
      assert.deepEqual(Object.keys(got).sort(), Object.keys(shares).sort());
      for (const [cluster, pct] of Object.entries(shares)) {
        const share = (100 * got[cluster]!) / n;
        assert.ok(Math.abs(share - pct) <= 5, `${cluster}: ${share.toFixed(1)} %, want ${pct} %`);
      }
    });
  }

  it("the same seed gives the same decisions (a failure replays)", () => {
    const file = join(NET, "virtual-service-reviews-90-10.yaml");
    const a = new Mesh([BOOKINFO, file]).simulate("productpage-v1", { seed: 7 });
    const b = new Mesh([BOOKINFO, file]).simulate("productpage-v1", { seed: 7 });
    for (let i = 0; i < 50; i++) assert.deepEqual(a.call(reviews()), b.call(reviews()));
  });

  it("the host follows the split: each cluster's endpoints only", () => {
    const sim = new Mesh([BOOKINFO, join(NET, "virtual-service-reviews-90-10.yaml")]).simulate("productpage-v1", { seed: 3 });
    for (let i = 0; i < 200; i++) {
      const r = sim.call(reviews());
      assert.equal(r.host, r.cluster === REVIEWS_V1 ? "10.1.0.4:9080" : "10.1.0.5:9080");
    }
  });
});

describe("bookinfo simulation: the caller's sidecar decides (sourceLabels)", () => {
  it("reviews v2's sidecar gets the delayed rule for ratings, reviews v1's does not", () => {
    const mesh = new Mesh([BOOKINFO], { yaml: [RATINGS_FROM_V2] });
    expectCall(mesh.simulate("reviews-v2").call(ratings()), { delayMs: 2_000, flags: "DI", cluster: RATINGS_V1, host: "10.1.0.3:9080", route: "VirtualService default/ratings http[0].match[0]" }, "from reviews-v2");
    expectCall(mesh.simulate("reviews-v1").call(ratings()), { delayMs: undefined, cluster: RATINGS_V1 }, "from reviews-v1");
  });
});

describe("httpbin simulation: mirroring (istio.io tasks/traffic-management/mirroring)", () => {
  it("every call goes to v1 and is mirrored to v2", () => {
    const mesh = new Mesh([join(ROOT, "samples", "httpbin"), join(ROOT, "samples", "curl"), join(ROOT, "samples", "networking", "httpbin", "mirroring-httpbin-v1-v2.yaml")]);
    const sim = mesh.simulate("curl");
    const got = sim.call({ url: "http://httpbin:8000/headers" });
    expectCall(got, { cluster: "outbound|8000|v1|httpbin.default.svc.cluster.local", mirrors: ["outbound|8000|v2|httpbin.default.svc.cluster.local"] }, "mirror");
    assert.equal(got.hostLabels?.version, "v1");
  });
});

// Session affinity (Istio DestinationRule loadBalancer.consistentHash.httpHeaderName), replacing
// destination-rule-all.yaml's reviews rule: a ring hash over v1, v2 and v3 keyed by end-user.
const REVIEWS_BY_USER = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpHeaderName: end-user
`;

describe("bookinfo simulation: consistent hash by header", () => {
  it("each user sticks to one reviews host; users spread over several", () => {
    const sim = new Mesh([BOOKINFO], { yaml: [REVIEWS_BY_USER] }).simulate("productpage-v1", { seed: 5 });
    const hostOf = new Map<string, string>();
    for (const user of ["jason", "mary", "alice", "bob", "carol", "dave", "erin", "frank"]) {
      const hosts = new Set<string>();
      for (let i = 0; i < 20; i++) hosts.add(sim.call(reviews({ "end-user": user })).host ?? "none");
      assert.equal(hosts.size, 1, `${user} went to ${[...hosts].join(", ")}`);
      hostOf.set(user, [...hosts][0]!);
    }
    assert.ok(new Set(hostOf.values()).size >= 2, `8 users on ${[...new Set(hostOf.values())].join(", ")}`);
    for (const h of hostOf.values()) assert.match(h, /^10\.1\.0\.[456]:9080$/, "a reviews endpoint");
  });
});
