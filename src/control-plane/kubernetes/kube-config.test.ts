import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { findKubeConfig, KubeConfigError } from "./kube-config.ts";
import { configCollections, pluralOf } from "./kubernetes-source.ts";

const dir = mkdtempSync(join(tmpdir(), "amime-kubeconfig-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function kubeconfig(name: string, user: string): string {
  const path = join(dir, name);
  writeFileSync(path, `apiVersion: v1
kind: Config
current-context: ci
contexts: [{name: ci, context: {cluster: c, user: u}}, {name: other, context: {cluster: nowhere, user: u}}]
clusters: [{name: c, cluster: {server: "https://10.0.0.1:6443/", certificate-authority-data: ${Buffer.from("CA PEM").toString("base64")}}}]
users: [{name: u, user: ${user}}]
`);
  return path;
}

describe("findKubeConfig", () => {
  it("reads the current context's server, CA and token from --kubeconfig", () => {
    const c = findKubeConfig(kubeconfig("a", "{token: abc}"), {});
    assert.equal(c.server, "https://10.0.0.1:6443");
    assert.equal(c.ca, "CA PEM");
    assert.equal(c.token?.(), "abc");
    assert.equal(c.insecure, false);
  });

  it("looks where kubectl looks: $KUBECONFIG (its first file) before ~/.kube/config", () => {
    const path = kubeconfig("b", "{tokenFile: token}");
    writeFileSync(join(dir, "token"), "from-file\n");
    const c = findKubeConfig(undefined, { KUBECONFIG: `${path}:/nonexistent`, HOME: "/nonexistent" });
    assert.equal(c.token?.(), "from-file");
    assert.throws(() => findKubeConfig(undefined, { HOME: "/nonexistent" }), KubeConfigError);
  });

  it("takes another context of the file when asked (kubectl's --context), and names one that is not there", () => {
    const path = kubeconfig("d", "{token: abc}");
    assert.throws(() => findKubeConfig(path, {}, "other"), /no cluster named "nowhere"/);
    assert.throws(() => findKubeConfig(path, {}, "gone"), /no context named "gone"/);
    assert.equal(findKubeConfig(path, {}, "ci").origin, `${path} (context ci)`);
    assert.throws(() => findKubeConfig(undefined, { HOME: "/nonexistent", KUBERNETES_SERVICE_HOST: "10.96.0.1" }, "ci"), /--context ci: no kubeconfig to find it in/);
  });

  it("refuses credential plugins it cannot run, naming the user", () => {
    assert.throws(() => findKubeConfig(kubeconfig("c", "{exec: {command: gke-gcloud-auth-plugin}}"), {}), /users\[u\]: exec and auth-provider/);
  });
});

describe("the collections the platform watches", () => {
  it("uses Istio's CRD plurals", () => {
    assert.deepEqual(["VirtualService", "ServiceEntry", "AuthorizationPolicy", "Telemetry", "Gateway", "ProxyConfig"].map(pluralOf), ["virtualservices", "serviceentries", "authorizationpolicies", "telemetries", "gateways", "proxyconfigs"]);
  });

  it("watches Services and every Istio kind at its newest version", () => {
    const paths = configCollections().map((c) => c.path);
    assert.ok(paths.includes("/api/v1/services"));
    assert.ok(paths.includes("/apis/networking.istio.io/v1/virtualservices"));
    assert.ok(paths.includes("/apis/security.istio.io/v1/authorizationpolicies"));
    assert.ok(paths.includes("/apis/telemetry.istio.io/v1/telemetries"));
    assert.ok(paths.includes("/apis/extensions.istio.io/v1alpha1/wasmplugins"));
  });
});
