// An injected sidecar's credential on a real kube-apiserver: `amime control-plane --platform
// kubernetes` accepts a pod's projected service-account token (audience istio-ca, made here with
// `kubectl create token`, as the kubelet makes the istio-token volume's) after a TokenReview, and a
// real `amime proxy --token-file` gets a workload certificate for spiffe://cluster.local/ns/<ns>/sa/<sa>
// (read back with openssl from its inbound listener) and the config of its pod. A token of another
// audience, of a deleted pod, a token that is no JWT, another service account's pod and another pod
// than the one a token is bound to are refused with the reason.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { findKubeConfig } from "../../src/control-plane/kubernetes/kube-config.ts";
import { DENIAL_CACHE_MS, REVIEW_CACHE_MS, TokenReviewer } from "../../src/control-plane/kubernetes/token-review.ts";
import { KubeCluster } from "../support/kube-cluster.ts";
import { waitFor } from "../support/wait.ts";
import { BIN, NODE, runTool, startControlPlane, type ControlPlaneProcess } from "./control-plane-process.ts";
import { tearDown } from "./teardown.ts";

const NS = "shop";
/** A loopback address the pod's sidecar can bind its inbound listener on (no kubelet, no netns here). */
const POD_IP = "127.0.0.51";

function pod(name: string, serviceAccount: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${NS}, labels: {app: cart}}
spec:
  serviceAccountName: ${serviceAccount}
  containers:
  - {name: cart, image: registry.example/cart:1, ports: [{name: http, containerPort: 9080}]}
  - {name: istio-proxy, image: registry.example/amime:test}
`;
}

describe("a pod's projected service-account token as its sidecar's credential", () => {
  let kube: KubeCluster;
  let cp: ControlPlaneProcess;
  let dir: string;
  let proxy: ChildProcess | null = null;
  let proxyErr = "";

  async function token(serviceAccount: string, ...more: string[]): Promise<string> {
    return (await kube.kubectl(["create", "token", serviceAccount, "-n", NS, ...more])).trim();
  }

  /** Open the push stream as `node` with `token`: 200, or the status and the refusal's text. */
  function stream(tokenText: string, node: string): Promise<string> {
    const url = new URL(`/xds/v1/stream?node=${encodeURIComponent(node)}&delta=1`, cp.ready.url);
    return new Promise((resolve, reject) => {
      const req = request(url, { ca: readFileSync(cp.ready.rootCertFile), headers: { authorization: `Bearer ${tokenText}` } }, (res) => {
        if (res.statusCode === 200) {
          req.destroy();
          return resolve("200");
        }
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve(`${res.statusCode} ${(JSON.parse(body) as { error: string }).error}`));
      });
      req.on("error", reject);
      req.end();
    });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-k8s-token-"));
    kube = await KubeCluster.start();
    await kube.kubectl(["create", "namespace", NS]);
    await kube.kubectl(["-n", NS, "create", "serviceaccount", "cart"]);
    await kube.kubectl(["-n", NS, "create", "serviceaccount", "other"]);
    await kube.apply(`apiVersion: v1\nkind: Service\nmetadata: {name: cart, namespace: ${NS}}\nspec: {selector: {app: cart}, ports: [{name: http, port: 9080}]}\n`);
    await kube.apply(pod("cart-1", "cart"));
    const status = { status: { phase: "Running", podIP: POD_IP, podIPs: [{ ip: POD_IP }], conditions: [{ type: "Ready", status: "True" }] } };
    await kube.kubectl(["-n", NS, "patch", "pod", "cart-1", "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    cp = await startControlPlane(["--port", "0", "--state-dir", join(dir, "state"), "--platform", "kubernetes", "--kubeconfig", kube.kubeconfig]);
  });

  after(() => tearDown({ processes: [proxy], controlPlane: cp, cluster: kube, dir }));

  it("a real amime proxy with a pod-bound istio-ca token gets its pod's config and a certificate for its service account", async () => {
    const file = join(dir, "istio-token");
    writeFileSync(file, await token("cart", "--audience", "istio-ca", "--bound-object-kind", "Pod", "--bound-object-name", "cart-1"));
    const child = spawn(NODE, [BIN, "proxy", "--xds", cp.ready.url, "--node", `sidecar~cart-1.${NS}`, "--root-cert", cp.ready.rootCertFile, "--token-file", file, "--admin-port", "0"], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, AMIME_PROXY_TOKEN: "" } });
    proxy = child;
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (proxyErr += d));
    const ready = await new Promise<{ listeners: Record<string, number> }>((resolve, reject) => {
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("\n")) resolve(JSON.parse(out.slice(0, out.indexOf("\n"))));
      });
      child.once("exit", (c) => reject(new Error(`amime proxy exited ${c}: ${proxyErr}\ncontrol plane: ${cp.stderr()}`)));
    });
    // Its pod's inbound listener (the injector's numbering: app port 9080 → 15006) on the pod's IP.
    assert.equal(ready.listeners["inbound|15006"], 15006, JSON.stringify(ready));
    const secret = await fetchSecret(`sidecar~cart-1.${NS}`);
    assert.equal(secret.identity, `spiffe://cluster.local/ns/${NS}/sa/cart`);
    // The certificate it presents, read with openssl (PERMISSIVE: TLS is answered on the app port's listener).
    const shown = await runTool("openssl", ["s_client", "-connect", `${POD_IP}:15006`, "-servername", "cart", "-showcerts"], { stdin: "" });
    const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(shown.stdout)?.[0];
    assert.ok(leaf, `openssl s_client showed no certificate: ${shown.stderr}`);
    const text = await runTool("openssl", ["x509", "-noout", "-text"], { stdin: leaf });
    assert.match(text.stdout, new RegExp(`URI:spiffe://cluster.local/ns/${NS}/sa/cart\\b`));
  });

  it("refuses another audience, a deleted pod's token and no JWT, saying why", async () => {
    const wrong = await stream(await token("cart", "--audience", "api"), `sidecar~cart-1.${NS}`);
    assert.match(wrong, /^401 Kubernetes service-account token refused: the Kubernetes API server refused the token: .*audience/, wrong);
    await kube.apply(pod("cart-2", "cart"));
    const bound = await token("cart", "--audience", "istio-ca", "--bound-object-kind", "Pod", "--bound-object-name", "cart-2");
    await kube.kubectl(["-n", NS, "delete", "pod", "cart-2", "--grace-period=0", "--force"]);
    await waitFor(async () => (await kube.get(`/api/v1/namespaces/${NS}/pods/cart-2`)).status === 404, { what: "pod cart-2 to be gone", timeoutMs: 30_000, everyMs: 100 });
    const gone = await stream(bound, `sidecar~cart-2.${NS}`);
    assert.match(gone, /^401 Kubernetes service-account token refused: the Kubernetes API server refused the token: /, gone);
    const junk = await stream("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", `sidecar~cart-1.${NS}`);
    assert.match(junk, /^401 Kubernetes service-account token refused: /, junk);
  });

  it("a token acts only as a pod of its own service account, and a pod-bound one only as its pod", async () => {
    const other = await token("other", "--audience", "istio-ca");
    assert.equal(await stream(other, `sidecar~cart-1.${NS}`), `403 this credential may not act as node "sidecar~cart-1.${NS}" (pod ${NS}/cart-1 runs as service account cart, the token is of other)`);
    const cart = await token("cart", "--audience", "istio-ca");
    assert.equal(await stream(cart, `sidecar~cart-1.${NS}`), "200");
    assert.equal(await stream(cart, "sidecar~cart-1.default"), `403 this credential may not act as node "sidecar~cart-1.default" (the token is of namespace ${NS}, the node of default)`);
    const bound = await token("cart", "--audience", "istio-ca", "--bound-object-kind", "Pod", "--bound-object-name", "cart-1");
    assert.equal(await stream(bound, `sidecar~cart-9.${NS}`), `403 this credential may not act as node "sidecar~cart-9.${NS}" (the token is bound to pod ${NS}/cart-1)`);
  });

  /** TokenReviews the API server has answered so far (its own request counter, /metrics). */
  async function reviewsAnswered(): Promise<number> {
    const { body } = await kube.get("/metrics");
    let n = 0;
    for (const line of body.split("\n")) {
      if (line.startsWith("apiserver_request_total{") && line.includes('resource="tokenreviews"')) n += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return n;
  }

  /**
   * The API server counts a request after answering it: wait until it has counted `n` reviews, then
   * check it counted no more (a cache that failed to answer would have sent more).
   */
  async function answered(n: number, why: string): Promise<void> {
    const seen = await waitFor(async () => {
      const c = await reviewsAnswered();
      return c >= n ? c : false;
    }, { what: `the API server to count ${n} TokenReviews`, everyMs: 50 });
    assert.equal(seen, n, why);
  }

  it("caches reviews: an accepted token and a refused one each cost one TokenReview until their time is up, bounded in number", async () => {
    let now = Date.now();
    const reviewer = new TokenReviewer(findKubeConfig(kube.kubeconfig), () => now, { maxRefused: 2 });
    const good = await token("cart", "--audience", "istio-ca");
    const bad = await token("cart", "--audience", "api");
    const start = await reviewsAnswered();
    assert.equal((await reviewer.review(good)).serviceAccount, "cart");
    await assert.rejects(reviewer.review(bad), /refused the token: .*audience/);
    await answered(start + 2, "one review per token");
    for (let i = 0; i < 3; i++) {
      assert.equal((await reviewer.review(good)).serviceAccount, "cart");
      await assert.rejects(reviewer.review(bad), /refused the token: .*audience/);
    }
    now += DENIAL_CACHE_MS;
    await assert.rejects(reviewer.review(bad), /refused the token/);
    assert.equal((await reviewer.review(good)).serviceAccount, "cart");
    await answered(start + 3, "repeated tokens are answered from the cache; a refusal is reviewed again after DENIAL_CACHE_MS, an acceptance is not");
    now += REVIEW_CACHE_MS;
    await reviewer.review(good);
    await answered(start + 4, "an acceptance is reviewed again after REVIEW_CACHE_MS");
    for (const junk of ["a", "b", "c"]) await assert.rejects(reviewer.review(junk), /refused the token/);
    assert.deepEqual(reviewer.cached, { accepted: 1, refused: 2 }, "refusals are bounded apart from acceptances");
    await answered(start + 7, "each new token is reviewed");
  });

  it("does not cache a review the API server could not answer", async () => {
    const conn = { ...findKubeConfig(kube.kubeconfig), server: "https://127.0.0.1:1" };
    const reviewer = new TokenReviewer(conn, () => 0);
    await assert.rejects(reviewer.review("x"), /cannot review the token with the Kubernetes API server/);
    assert.deepEqual(reviewer.cached, { accepted: 0, refused: 0 });
  });

  async function fetchSecret(node: string): Promise<{ identity: string }> {
    const out = await runTool("curl", ["-sS", "--cacert", cp.ready.rootCertFile, "-H", `Authorization: Bearer ${readFileSync(cp.ready.tokenFile, "utf8").trim()}`, `${cp.ready.url}/api/v1/proxies/${encodeURIComponent(node)}/secret`]);
    return JSON.parse(out.stdout) as { identity: string };
  }
});
