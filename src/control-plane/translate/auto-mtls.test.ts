// Auto mTLS (Istio's enableAutoMtls, default on): ISTIO_MUTUAL toward services whose instances all
// run a sidecar, plaintext otherwise, and a DestinationRule's tls always wins.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translate } from "./index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";
const tlsOf = (yaml: string, sidecar: boolean[], options = {}): unknown =>
  translate(snapshotFrom(k8sService("reviews") + yaml, sidecar.map((s, i) => inst("reviews", `v${i + 1}`, `10.0.0.${i + 1}`, s ? { sidecar: true } : {})), options), sidecarProxy({ app: "productpage" })).clusters.find((c) => c.name === CLUSTER)?.tls;

describe("auto mTLS", () => {
  it("instances that all run a sidecar get ISTIO_MUTUAL with Istio's SNI and the service accounts as SANs", () => {
    assert.deepEqual(tlsOf("", [true, true]), {
      mode: "ISTIO_MUTUAL",
      sni: "outbound_.9080_._.reviews.default.svc.cluster.local",
      subjectAltNames: ["spiffe://cluster.local/ns/default/sa/reviews"],
      insecureSkipVerify: false,
    });
  });

  it("an instance without a sidecar (or none at all) keeps the service plaintext", () => {
    assert.equal(tlsOf("", [true, false]), undefined);
    assert.equal(tlsOf("", []), undefined);
  });

  it("Istio's tlsMode label counts as a sidecar", () => {
    const cfg = translate(snapshotFrom(k8sService("reviews"), [inst("reviews", "v1", "10.0.0.1", { labels: { app: "reviews", version: "v1", "security.istio.io/tlsMode": "istio" } })]), sidecarProxy({ app: "productpage" }));
    assert.equal(cfg.clusters.find((c) => c.name === CLUSTER)?.tls?.mode, "ISTIO_MUTUAL");
  });

  it("tlsMode: disabled on a sidecar's instance turns auto mTLS off for its service", () => {
    const cfg = translate(snapshotFrom(k8sService("reviews"), [inst("reviews", "v1", "10.0.0.1", { sidecar: true, labels: { app: "reviews", version: "v1", "security.istio.io/tlsMode": "disabled" } })]), sidecarProxy({ app: "productpage" }));
    assert.equal(cfg.clusters.find((c) => c.name === CLUSTER)?.tls, undefined);
  });

  it("a DestinationRule's tls wins: DISABLE is plaintext even toward sidecars", () => {
    const dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\nspec:\n  host: reviews\n  trafficPolicy:\n    tls: {mode: DISABLE}\n";
    assert.equal(tlsOf(dr, [true]), undefined);
  });

  it("DestinationRule credentialName (Istio's cluster_tls.go): gateways and selected sidecars read it; a sidecar under a rule without workloadSelector gets no TLS", () => {
    const dr = (selector: string) => `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\nspec:\n  host: reviews\n${selector}  trafficPolicy:\n    tls: {mode: MUTUAL, credentialName: client-credential, caCrl: /crl.pem}\n`;
    const want = { mode: "MUTUAL", sni: "reviews.default.svc.cluster.local", credentialName: "client-credential", caCrl: "/crl.pem", subjectAltNames: [], insecureSkipVerify: false };
    const snap = (selector: string) => snapshotFrom(k8sService("reviews") + dr(selector), [inst("reviews", "v1", "10.0.0.1", { sidecar: true })]);
    assert.equal(tlsOf(dr(""), [true]), undefined);
    const selected = translate(snap("  workloadSelector: {matchLabels: {app: productpage}}\n"), sidecarProxy({ app: "productpage" }));
    assert.deepEqual(selected.clusters.find((c) => c.name === CLUSTER)?.tls, want);
    const gateway = translate(snap(""), sidecarProxy({ istio: "egressgateway" }, "default", { kind: "gateway" }));
    assert.deepEqual(gateway.clusters.find((c) => c.name === CLUSTER)?.tls, want);
  });
});
