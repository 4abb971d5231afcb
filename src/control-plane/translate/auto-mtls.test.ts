// Auto mTLS (Istio's enableAutoMtls, default on): the cluster carries ISTIO_MUTUAL marked autoMtls,
// and the endpoints of instances with a sidecar carry Istio's label security.istio.io/tlsMode:
// istio, which the proxy matches per endpoint (plaintext to the others). A DestinationRule's tls
// always wins.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { translate } from "./index.ts";
import { inst, k8sService, sidecarProxy, snapshotFrom } from "./testing.ts";

const CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";
const TLS_MODE = "security.istio.io/tlsMode";
const translated = (yaml: string, sidecar: boolean[], options = {}) => translate(snapshotFrom(k8sService("reviews") + yaml, sidecar.map((s, i) => inst("reviews", `v${i + 1}`, `10.0.0.${i + 1}`, s ? { sidecar: true } : {})), options), sidecarProxy({ app: "productpage" }));
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

  it("the cluster is auto mTLS whatever its endpoints; only endpoints of instances with a sidecar carry tlsMode: istio", () => {
    const cfg = translated("", [true, false]);
    const c = cfg.clusters.find((x) => x.name === CLUSTER);
    assert.equal(c?.tls?.mode, "ISTIO_MUTUAL");
    assert.equal(c?.autoMtls, true);
    assert.deepEqual(cfg.endpoints[CLUSTER]?.map((e) => [e.address, e.labels[TLS_MODE]]), [["10.0.0.1", "istio"], ["10.0.0.2", undefined]]);
    assert.equal(translated("", []).clusters.find((x) => x.name === CLUSTER)?.autoMtls, true);
  });

  it("enableAutoMtls: false leaves the cluster plaintext", () => {
    assert.equal(tlsOf("", [true], { mesh: { trustDomain: "cluster.local", config: { enableAutoMtls: false } } }), undefined);
  });

  it("Istio's tlsMode label on an instance is kept as it is (istio without a registered sidecar, disabled on a sidecar's instance)", () => {
    const cfg = translate(snapshotFrom(k8sService("reviews"), [
      inst("reviews", "v1", "10.0.0.1", { labels: { app: "reviews", version: "v1", [TLS_MODE]: "istio" } }),
      inst("reviews", "v2", "10.0.0.2", { sidecar: true, labels: { app: "reviews", version: "v2", [TLS_MODE]: "disabled" } }),
    ]), sidecarProxy({ app: "productpage" }));
    assert.deepEqual(cfg.endpoints[CLUSTER]?.map((e) => e.labels[TLS_MODE]), ["istio", "disabled"]);
  });

  it("a DestinationRule's tls wins: DISABLE is plaintext even toward sidecars", () => {
    const dr = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: default}\nspec:\n  host: reviews\n  trafficPolicy:\n    tls: {mode: DISABLE}\n";
    assert.equal(tlsOf(dr, [true]), undefined);
    assert.equal(translated(dr, [true]).clusters.find((c) => c.name === CLUSTER)?.autoMtls, undefined);
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
