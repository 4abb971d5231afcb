// istiod's namespace controller, on a real kube-apiserver: `--platform kubernetes` writes the mesh
// trust bundle as ConfigMap istio-ca-root-cert (`root-cert.pem`) into every namespace but Istio's
// ignored system ones, into a namespace created later, again when it is deleted or edited (other
// keys kept), and the new bundle into all after a root rotation.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ControlPlane } from "../../src/control-plane/server.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { tearDown } from "./teardown.ts";

describe("ConfigMap istio-ca-root-cert in every namespace", () => {
  let kube: KubeCluster;
  let cp: ControlPlane;
  let dir: string;

  /** The ConfigMap's data in `ns`, or null when there is none. */
  async function rootCert(ns: string): Promise<Record<string, string> | null> {
    const r = await kube.get(`/api/v1/namespaces/${ns}/configmaps/istio-ca-root-cert`);
    if (r.status === 404) return null;
    assert.equal(r.status, 200, r.body);
    return (JSON.parse(r.body) as { data: Record<string, string> }).data;
  }

  function holds(ns: string, bundle: string): Promise<Record<string, string>> {
    return waitFor(async () => {
      const data = await rootCert(ns);
      return data?.["root-cert.pem"] === bundle ? data : null;
    }, { what: `istio-ca-root-cert in ${ns} to hold the trust bundle`, timeoutMs: 30_000, everyMs: 50 });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-k8s-rootcert-"));
    kube = await KubeCluster.start();
    await kube.kubectl(["create", "namespace", "shop"]);
    cp = await ControlPlane.start({ port: 0, stateDir: dir, kubernetes: { kubeconfig: kube.kubeconfig } });
  });

  after(() => tearDown({ controlPlane: cp, cluster: kube, dir }));

  it("is in every namespace at start but Istio's ignored ones, and in a namespace created later", async () => {
    assert.match(cp.trustBundle, /^-----BEGIN CERTIFICATE-----/);
    // The start waits for the listing; the writes follow it.
    await holds("default", cp.trustBundle);
    await holds("shop", cp.trustBundle);
    const labels = JSON.parse((await kube.get("/api/v1/namespaces/shop/configmaps/istio-ca-root-cert")).body).metadata.labels;
    assert.deepEqual(labels, { "istio.io/config": "true" });
    await kube.kubectl(["create", "namespace", "later"]);
    await holds("later", cp.trustBundle);
    // Written into every namespace it saw, after the ignored ones were listed too: none there.
    for (const ns of ["kube-system", "kube-public", "kube-node-lease"]) assert.equal(await rootCert(ns), null, ns);
  });

  it("is written again when deleted or edited, keeping other keys", async () => {
    await holds("shop", cp.trustBundle);
    await kube.kubectl(["-n", "shop", "delete", "configmap", "istio-ca-root-cert"]);
    await holds("shop", cp.trustBundle);
    await kube.kubectl(["-n", "shop", "patch", "configmap", "istio-ca-root-cert", "--type=merge", "-p", JSON.stringify({ data: { "root-cert.pem": "edited", extra: "kept" } })]);
    const data = await holds("shop", cp.trustBundle);
    assert.equal(data.extra, "kept");
  });

  it("carries the new bundle everywhere after a root rotation", async () => {
    const before = cp.trustBundle;
    await cp.rotateRoot("test");
    assert.notEqual(cp.trustBundle, before);
    for (const ns of ["default", "shop", "later"]) await holds(ns, cp.trustBundle);
  });
});
