import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePrometheusText } from "../../../control-plane/telemetry/prometheus-parse.ts";
import { identityOf } from "../peer.ts";
import { formatBound, Histogram, ISTIO_BUCKETS } from "./histogram.ts";
import { IstioMetrics } from "./istio-metrics.ts";
import { HTTP_LABELS, istioLabels, TCP_LABELS, type HopFacts } from "./labels.ts";
import { labelText, PrometheusWriter } from "./prometheus-text.ts";

const self = identityOf({ id: "sidecar~productpage-v1-0.default", kind: "sidecar", workload: "productpage-v1", namespace: "default", labels: { app: "productpage", version: "v1" }, serviceAccount: "bookinfo-productpage", trustDomain: "cluster.local", ip: "127.0.0.1" });
const reviews = identityOf({ id: "x", kind: "sidecar", workload: "reviews-v2", namespace: "default", labels: { app: "reviews", version: "v2", "service.istio.io/canonical-name": "reviews-canon" }, serviceAccount: "bookinfo-reviews", trustDomain: "cluster.local", ip: "127.0.0.1" });
const svc = { host: "reviews.default.svc.cluster.local", name: "reviews", namespace: "default", port: 9080 };

function facts(o: Partial<HopFacts>): HopFacts {
  return { reporter: "source", self, peer: null, service: svc, endpoint: undefined, mtls: false, peerPrincipal: "", protocol: "http", responseCode: "200", grpcStatus: "", responseFlags: "-", ...o };
}

function asMap(values: string[], names = HTTP_LABELS): Record<string, string> {
  return Object.fromEntries(names.map((n, i) => [n, values[i] as string]));
}

describe("Istio labels", () => {
  it("source reporter: self as source, peer as destination", () => {
    const l = asMap(istioLabels(facts({ peer: reviews })));
    assert.equal(l.reporter, "source");
    assert.equal(l.source_workload, "productpage-v1");
    assert.equal(l.source_app, "productpage");
    assert.equal(l.destination_workload, "reviews-v2");
    assert.equal(l.destination_canonical_service, "reviews-canon");
    assert.equal(l.destination_canonical_revision, "v2");
    assert.equal(l.destination_service, "reviews.default.svc.cluster.local");
    assert.equal(l.connection_security_policy, "unknown");
    assert.equal(l.source_principal, "unknown");
  });

  it("destination reporter: peer as source, the verified certificate gives source_principal and mutual_tls", () => {
    const verified = "spiffe://example.org/ns/shop/sa/checkout";
    const l = asMap(istioLabels(facts({ reporter: "destination", self: reviews, peer: self, mtls: true, peerPrincipal: verified })));
    assert.equal(l.source_workload, "productpage-v1");
    assert.equal(l.destination_workload, "reviews-v2");
    // The certificate, not the peer header's service account.
    assert.equal(l.source_principal, verified);
    assert.equal(l.destination_principal, "spiffe://cluster.local/ns/default/sa/bookinfo-reviews");
    assert.equal(l.connection_security_policy, "mutual_tls");
  });

  it("destination reporter, plaintext: a peer header claiming an identity gives no principal", () => {
    const l = asMap(istioLabels(facts({ reporter: "destination", self: reviews, peer: self })));
    assert.equal(l.source_workload, "productpage-v1");
    assert.equal(l.source_principal, "unknown");
    assert.equal(l.destination_principal, "unknown");
    assert.equal(l.connection_security_policy, "none");
  });

  it("source reporter, mTLS: destination_principal is the upstream certificate's SPIFFE id, never the peer header nor the config", () => {
    const endpoint = { address: "10.0.0.1", port: 9080, weight: 1, labels: {}, healthy: true, workload: "reviews-v2", serviceAccount: "spiffe://cluster.local/ns/default/sa/reviews-expected" };
    const verified = "spiffe://cluster.local/ns/default/sa/reviews-real";
    const l = asMap(istioLabels(facts({ peer: reviews, endpoint, mtls: true, peerPrincipal: verified })));
    assert.equal(l.destination_workload, "reviews-v2");
    assert.equal(l.destination_principal, verified);
    assert.equal(l.source_principal, "spiffe://cluster.local/ns/default/sa/bookinfo-productpage");
    assert.equal(l.connection_security_policy, "unknown");
    // No verified upstream certificate (plaintext, or the handshake never completed): unknown,
    // whatever the endpoint's configured identity or the peer header say.
    assert.equal(asMap(istioLabels(facts({ peer: reviews, endpoint, mtls: true }))).destination_principal, "unknown");
  });

  it("without peer metadata: endpoint labels on the client side, unknown on the server side", () => {
    const c = asMap(istioLabels(facts({ endpoint: { address: "10.0.0.1", port: 9080, weight: 1, labels: { app: "reviews", version: "v3" }, healthy: true, workload: "reviews-v3" } })));
    assert.equal(c.destination_workload, "reviews-v3");
    assert.equal(c.destination_version, "v3");
    assert.equal(c.destination_canonical_service, "reviews");
    const s = asMap(istioLabels(facts({ reporter: "destination", self: reviews })));
    for (const k of ["source_workload", "source_workload_namespace", "source_app", "source_version", "source_canonical_service", "source_principal"]) assert.equal(s[k], "unknown", k);
    assert.equal(s.connection_security_policy, "none");
    const none = asMap(istioLabels(facts({ service: undefined })));
    assert.equal(none.destination_service, "unknown");
    assert.equal(none.destination_workload, "unknown");
  });

  it("endpoint fallback: app.kubernetes.io labels as for the own side, the namespace from the endpoint's SPIFFE identity", () => {
    const endpoint = { address: "10.0.0.1", port: 9080, weight: 1, labels: { "app.kubernetes.io/name": "ratings", "app.kubernetes.io/version": "2.1" }, healthy: true, workload: "ratings-v2", serviceAccount: "spiffe://example.org/ns/shop/sa/ratings" };
    const c = asMap(istioLabels(facts({ endpoint, mtls: true, peerPrincipal: "spiffe://example.org/ns/shop/sa/ratings" })));
    assert.equal(c.destination_app, "ratings");
    assert.equal(c.destination_version, "2.1");
    assert.equal(c.destination_canonical_service, "ratings");
    assert.equal(c.destination_canonical_revision, "2.1");
    assert.equal(c.destination_workload_namespace, "shop");
    assert.equal(c.destination_principal, "spiffe://example.org/ns/shop/sa/ratings");
  });

  it("TCP label set has no HTTP response labels", () => {
    const v = istioLabels(facts({ protocol: "tcp" }), true);
    assert.equal(v.length, TCP_LABELS.length);
    assert.ok(!TCP_LABELS.includes("response_code"));
    assert.equal(asMap(v, TCP_LABELS).request_protocol, "tcp");
  });
});

describe("histograms", () => {
  it("uses Envoy's default bounds and counts v <= le", () => {
    assert.deepEqual([...ISTIO_BUCKETS], [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000]);
    const h = new Histogram();
    for (const v of [0, 0.5, 0.6, 1, 7, 3_600_000, 3_600_001]) h.observe(v);
    const c = h.cumulative();
    assert.equal(c[0], 2); // <= 0.5
    assert.equal(c[1], 4); // <= 1
    assert.equal(c[2], 4); // <= 5
    assert.equal(c[3], 5); // <= 10
    assert.equal(c[ISTIO_BUCKETS.length - 1], 6);
    assert.equal(c[ISTIO_BUCKETS.length], 7); // +Inf
    assert.equal(h.count, 7);
    assert.equal(h.sum, 0 + 0.5 + 0.6 + 1 + 7 + 3_600_000 + 3_600_001);
  });

  it("formats bounds as Envoy/Go do", () => {
    assert.deepEqual([0.5, 1, 2500, 300000, 600000, 1800000, 3600000, Infinity].map(formatBound), ["0.5", "1", "2500", "300000", "600000", "1.8e+06", "3.6e+06", "+Inf"]);
  });
});

describe("IstioMetrics store and rendering", () => {
  it("renders valid exposition text that parses back to what was recorded", () => {
    const m = new IstioMetrics();
    const f = facts({ peer: reviews });
    for (let i = 0; i < 4; i++) m.recordHttp("k1", () => f, { durationMs: 3, requestBytes: 10, responseBytes: 1000 });
    m.recordHttp("k2", () => facts({ peer: reviews, responseCode: "503", responseFlags: "UF" }), { durationMs: 20000, requestBytes: 0, responseBytes: 91 });
    const w = new PrometheusWriter();
    m.render(w);
    const fams = parsePrometheusText(w.text());
    const req = fams.get("istio_requests_total");
    assert.equal(req?.type, "counter");
    assert.deepEqual(req?.samples.map((s) => [s.labels.response_code, s.value]), [["200", 4], ["503", 1]]);
    const dur = fams.get("istio_request_duration_milliseconds");
    assert.equal(dur?.type, "histogram");
    const b = (code: string, le: string): number | undefined => dur?.samples.find((s) => s.name.endsWith("_bucket") && s.labels.response_code === code && s.labels.le === le)?.value;
    assert.equal(b("200", "1"), 0);
    assert.equal(b("200", "5"), 4);
    assert.equal(b("503", "10000"), 0);
    assert.equal(b("503", "30000"), 1);
    assert.equal(dur?.samples.find((s) => s.name === "istio_request_duration_milliseconds_sum" && s.labels.response_code === "200")?.value, 12);
    assert.equal(fams.get("istio_response_bytes")?.samples.find((s) => s.name === "istio_response_bytes_bucket" && s.labels.response_code === "200" && s.labels.le === "1000")?.value, 4);
  });

  it("two keys with the same labels share one series (no duplicate series)", () => {
    const m = new IstioMetrics();
    m.recordHttp("host-a", () => facts({ peer: reviews }), { durationMs: 1, requestBytes: 0, responseBytes: 0 });
    m.recordHttp("host-b", () => facts({ peer: reviews }), { durationMs: 1, requestBytes: 0, responseBytes: 0 });
    assert.equal(m.seriesCount, 1);
    const w = new PrometheusWriter();
    m.render(w);
    assert.equal(parsePrometheusText(w.text()).get("istio_requests_total")?.samples[0]?.value, 2);
  });

  it("caps the number of series and counts what it drops", () => {
    const m = new IstioMetrics(3);
    for (let i = 0; i < 10; i++) m.recordHttp(`k${i}`, () => facts({ responseCode: String(200 + i) }), { durationMs: 1, requestBytes: 0, responseBytes: 0 });
    m.recordHttp("k0", () => facts({ responseCode: "200" }), { durationMs: 1, requestBytes: 0, responseBytes: 0 });
    assert.equal(m.seriesCount, 3);
    assert.equal(m.dropped, 7);
    const w = new PrometheusWriter();
    m.render(w);
    const fams = parsePrometheusText(w.text());
    assert.equal(fams.get("amime_metrics_dropped_total")?.samples[0]?.value, 7);
    assert.equal(fams.get("istio_requests_total")?.samples.find((s) => s.labels.response_code === "200")?.value, 2);
  });

  it("computes labels only for a new key", () => {
    const m = new IstioMetrics();
    let calls = 0;
    const f = (): HopFacts => (calls++, facts({}));
    for (let i = 0; i < 100; i++) m.recordHttp("same", f, { durationMs: 1, requestBytes: 0, responseBytes: 0 });
    assert.equal(calls, 1);
  });

  it("escapes label values", () => {
    assert.equal(labelText(["a", "b"], ['x"y', "back\\slash\nnl"]), 'a="x\\"y",b="back\\\\slash\\nnl"');
    const w = new PrometheusWriter();
    w.header("t_total", "counter", "help");
    w.sample("t_total", labelText(["a"], ['q"\\\n']), 1);
    assert.equal(parsePrometheusText(w.text()).get("t_total")?.samples[0]?.labels.a, 'q"\\\n');
  });
});
