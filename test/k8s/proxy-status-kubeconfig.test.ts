// `amime proxy-status` / `proxy-config --kubeconfig` on the real rig: the control plane
// (`--platform kubernetes`, listening on this machine's non-loopback address, which the API server
// can reach) publishes Secret istio-system/amime-admin-token; Service istio-system/amime points at
// it (a hand-made EndpointSlice naming a pod amime-0 whose status gives it this machine's address,
// as the Deployment's pod would be); the CLI, given only the kubeconfig, goes
// through the API server's service proxy and lists the sidecar of a pod (a real `amime proxy` with
// the pod's projected token) and its certificate.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { KubeCluster, machineAddress } from "../support/kube-cluster.ts";
import { unusedPort } from "../support/ports.ts";
import { BIN, NODE, runTool, startControlPlane, type ControlPlaneProcess } from "./control-plane-process.ts";
import { tearDown } from "./teardown.ts";

const POD_IP = "127.0.0.71";

describe("amime proxy-status --kubeconfig", () => {
  let kube: KubeCluster;
  let cp: ControlPlaneProcess;
  let dir: string;
  let proxy: ChildProcess | null = null;

  const amime = (args: string[]) => runTool(NODE, [BIN, ...args, "--kubeconfig", kube.kubeconfig], { env: { ...process.env, AMIME_CONTROL_PLANE: "", AMIME_TOKEN: "" } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "amime-k8s-pstatus-"));
    kube = await KubeCluster.start();
    await kube.kubectl(["create", "namespace", "istio-system"]);
    await kube.kubectl(["create", "serviceaccount", "cart"]);
    await kube.apply(`apiVersion: v1
kind: Pod
metadata: {name: cart-1, labels: {app: cart}}
spec:
  serviceAccountName: cart
  containers: [{name: cart, image: registry.example/cart:1, ports: [{containerPort: 9080}]}, {name: istio-proxy, image: registry.example/amime:test}]
`);
    const status = { status: { phase: "Running", podIP: POD_IP, podIPs: [{ ip: POD_IP }], conditions: [{ type: "Ready", status: "True" }] } };
    await kube.kubectl(["patch", "pod", "cart-1", "--subresource=status", "--type=merge", "-p", JSON.stringify(status)]);
    cp = await startControlPlane(["--host", "0.0.0.0", "--port", "0", "--state-dir", join(dir, "state"), "--platform", "kubernetes", "--kubeconfig", kube.kubeconfig]);
    const port = cp.ready.port;
    // The API server proxies only to an endpoint that is a pod of the Service's namespace with that
    // IP: the control plane's pod, its status written as a kubelet would (the process runs here).
    const ip = machineAddress();
    await kube.apply(`apiVersion: v1
kind: Pod
metadata: {name: amime-0, namespace: istio-system, labels: {app: amime}}
spec: {containers: [{name: amime, image: registry.example/amime:test}]}
`);
    const cpStatus = { status: { phase: "Running", podIP: ip, podIPs: [{ ip }], conditions: [{ type: "Ready", status: "True" }] } };
    await kube.kubectl(["-n", "istio-system", "patch", "pod", "amime-0", "--subresource=status", "--type=merge", "-p", JSON.stringify(cpStatus)]);
    await kube.apply(`apiVersion: v1
kind: Service
metadata: {name: amime, namespace: istio-system}
spec: {ports: [{name: https-xds, port: 15012, targetPort: ${port}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: amime-1, namespace: istio-system, labels: {kubernetes.io/service-name: amime}}
addressType: IPv4
ports: [{name: https-xds, port: ${port}, protocol: TCP}]
endpoints: [{addresses: [${ip}], conditions: {ready: true}, targetRef: {kind: Pod, name: amime-0, namespace: istio-system}}]
`);
    const token = join(dir, "istio-token");
    writeFileSync(token, (await kube.kubectl(["create", "token", "cart", "--audience", "istio-ca", "--bound-object-kind", "Pod", "--bound-object-name", "cart-1"])).trim());
    const child = spawn(NODE, [BIN, "proxy", "--xds", `https://127.0.0.1:${port}`, "--node", "sidecar~cart-1.default", "--root-cert", cp.ready.rootCertFile, "--token-file", token, "--admin-port", "-1"], { stdio: ["ignore", "pipe", "pipe"] });
    proxy = child;
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding("utf8").on("data", (d: string) => d.includes("\n") && resolve());
      child.once("exit", (c) => reject(new Error(`amime proxy exited ${c}: ${err}`)));
    });
  });

  after(() => tearDown({ processes: [proxy], controlPlane: cp, cluster: kube, dir }));

  it("finds the control plane through the API server and lists the pod's sidecar, SYNCED", async () => {
    const out = await amime(["proxy-status"]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^sidecar~cart-1\.default\s+cart-1\.default\s+yes\s+v\d+\s+SYNCED/m, out.stdout);
  });

  it("proxy-config secret shows the certificate the pod's sidecar got", async () => {
    const out = await amime(["proxy-config", "secret", "cart-1", "-o", "json"]);
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { identity: string }).identity, "spiffe://cluster.local/ns/default/sa/cart");
  });

  it("says what is missing when the namespace holds no control plane", async () => {
    const out = await amime(["proxy-status", "-i", "elsewhere"]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /no Secret elsewhere\/amime-admin-token: is the control plane running in namespace elsewhere\?/);
  });

  it("a wrong kubeconfig or an unreachable API server: analyze and proxy-status say which and why in one line, no stack trace", async () => {
    const good = readFileSync(kube.kubeconfig, "utf8");
    const variant = (name: string, text: string): string => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const closed = `https://127.0.0.1:${await unusedPort()}`;
    const cases: Array<[string, RegExp]> = [
      [join(dir, "missing.yaml"), /cannot read kubeconfig .*missing\.yaml: ENOENT/],
      [variant("bad-token.yaml", good.replace(/token: .*/, "token: not-the-token")), /the Kubernetes API server https:\/\/\S+ \(.*bad-token\.yaml \(context amime-test\)\) refused: GET \S+: 401 Unauthorized/],
      [variant("other-ca.yaml", good.replace(/certificate-authority-data: .*/, `certificate-authority-data: ${readFileSync(cp.ready.rootCertFile).toString("base64")}`)), /cannot reach the Kubernetes API server https:\/\/\S+ \(.*other-ca\.yaml \(context amime-test\)\): .*certificate/],
      [variant("nothing-there.yaml", good.replace(/server: .*/, `server: ${closed}`)), new RegExp(`cannot reach the Kubernetes API server ${closed.replace(/\./g, "\\.")} \\(.*\\): connect ECONNREFUSED`)],
    ];
    for (const [file, why] of cases) {
      for (const command of [["analyze"], ["proxy-status"]]) {
        const out = await runTool(NODE, [BIN, ...command, "--kubeconfig", file], { env: { ...process.env, AMIME_CONTROL_PLANE: "", AMIME_TOKEN: "" } });
        assert.equal(out.code, 1, `${command[0]} ${file}: ${out.stderr}`);
        assert.match(out.stderr, why, `${command[0]} ${file}`);
        assert.match(out.stderr, new RegExp(`^amime ${command[0]}: [^\\n]+\\n$`), `one line: ${out.stderr}`);
        assert.equal(out.stdout, "");
      }
    }
  });

  it("--context picks another context of the kubeconfig, as kubectl's does", async () => {
    // The file's current context names a server where nothing listens; --context names the rig.
    const good = readFileSync(kube.kubeconfig, "utf8");
    const file = join(dir, "two-contexts.yaml");
    writeFileSync(file, good
      .replace("contexts:\n", "contexts:\n- name: elsewhere\n  context: {cluster: nowhere, user: amime-test}\n")
      .replace("clusters:\n", `clusters:\n- name: nowhere\n  cluster: {server: "https://127.0.0.1:${await unusedPort()}"}\n`)
      .replace("current-context: amime-test", "current-context: elsewhere"));
    const env = { ...process.env, AMIME_CONTROL_PLANE: "", AMIME_TOKEN: "" };
    const refused = await runTool(NODE, [BIN, "proxy-status", "--kubeconfig", file], { env });
    assert.match(refused.stderr, /cannot reach the Kubernetes API server .*\(context elsewhere\)\): connect ECONNREFUSED/);
    const status = await runTool(NODE, [BIN, "proxy-status", "--kubeconfig", file, "--context", "amime-test"], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^sidecar~cart-1\.default\s/m);
    // Alone, --context takes kubectl's lookup ($KUBECONFIG here); analyze reads the rig with it (which
    // has no Istio CRDs: it says so, then analyzes its Services).
    const analyzed = await runTool(NODE, [BIN, "analyze", "--context", "amime-test"], { env: { ...env, KUBECONFIG: file } });
    assert.equal(analyzed.code, 0, analyzed.stderr);
    assert.match(analyzed.stderr, /the cluster does not serve \/apis\/networking\.istio\.io\/v1\/virtualservices \(CRD not installed\?\)/);
    assert.match(analyzed.stdout, /\b[Aa]nalyz(?:ed|ing) [1-9]\d* resources?\b/);
  });
});
