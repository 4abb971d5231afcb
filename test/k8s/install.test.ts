// `amime install` / `amime uninstall` against the rig's real kube-apiserver, through the rig's
// kubectl: the printed manifests pass the API server's own checks (`kubectl apply --server-side
// --dry-run=server -f -`), `--apply` creates everything with the mesh root as the webhooks'
// caBundle, and the validating webhook's failurePolicy Fail holds while no control plane runs;
// uninstall removes it all but Istio's CRDs, and --purge those too. No kubelet: the Deployment is
// only stored.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { KubeCluster, KubectlError, rigBinary } from "../support/kube-cluster.ts";
import { BIN, NODE, runTool } from "./control-plane-process.ts";
import { tearDown } from "./teardown.ts";

let dir: string;
let cluster: KubeCluster;
let target: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "amime-install-"));
  cluster = await KubeCluster.start();
  target = ["--state-dir", join(dir, "state"), "--image", "registry.example/amime:test", "--kubectl", rigBinary("kubectl"), "--kubeconfig", cluster.kubeconfig];
});

after(() => tearDown({ cluster, dir }));

const amime = (...args: string[]) => runTool(NODE, [BIN, ...args]);

it("prints manifests the API server accepts (server-side dry run), and the same CA on every run", async () => {
  const printed = await amime("install", ...target.slice(0, 4));
  assert.equal(printed.code, 0, printed.stderr);
  // A dry run stores nothing, so namespaced objects need their namespace to exist already.
  await cluster.kubectl(["create", "namespace", "istio-system"]);
  const dry = await runTool(rigBinary("kubectl"), ["--kubeconfig", cluster.kubeconfig, "apply", "--server-side", "--dry-run=server", "-f", "-"], { stdin: printed.stdout });
  assert.equal(dry.code, 0, dry.stderr);
  for (const o of ["customresourcedefinition.apiextensions.k8s.io/virtualservices.networking.istio.io", "secret/cacerts", "serviceaccount/amime", "clusterrole.rbac.authorization.k8s.io/amime", "service/amime", "deployment.apps/amime", "serviceaccount/amime-node-agent", "clusterrole.rbac.authorization.k8s.io/amime-node-agent", "daemonset.apps/amime-node-agent", "validatingwebhookconfiguration.admissionregistration.k8s.io/amime-validator-istio-system", "mutatingwebhookconfiguration.admissionregistration.k8s.io/amime-sidecar-injector-istio-system"]) {
    assert.match(dry.stdout, new RegExp(`${o.replaceAll(".", "\\.")} serverside-applied \\(server dry run\\)`));
  }
  await assert.rejects(cluster.kubectl(["get", "deployment", "amime", "-n", "istio-system"]), /NotFound/);
  const again = await amime("install", ...target.slice(0, 4));
  assert.equal(again.stdout, printed.stdout, "the CA made on the first run is reused");
});

it("--apply installs it all: the webhooks carry the mesh root, and with no control plane running Istio config is refused (failurePolicy Fail)", async () => {
  const r = await amime("install", "--apply", ...target);
  assert.equal(r.code, 0, r.stderr);
  const deploy = JSON.parse(await cluster.kubectl(["get", "deployment", "amime", "-n", "istio-system", "-o", "json"]));
  assert.equal(deploy.spec.template.spec.containers[0].image, "registry.example/amime:test");
  assert.deepEqual(deploy.spec.template.spec.containers[0].args.slice(0, 3), ["control-plane", "--platform", "kubernetes"]);
  const root = readFileSync(join(dir, "state", "cluster-ca", "root-cert.pem"), "utf8");
  const vwc = JSON.parse(await cluster.kubectl(["get", "validatingwebhookconfiguration", "amime-validator-istio-system", "-o", "json"]));
  assert.equal(Buffer.from(vwc.webhooks[0].clientConfig.caBundle, "base64").toString("utf8"), root);
  assert.deepEqual(vwc.webhooks[0].clientConfig.service, { name: "amime", namespace: "istio-system", path: "/validate", port: 443 });
  const secret = JSON.parse(await cluster.kubectl(["get", "secret", "cacerts", "-n", "istio-system", "-o", "json"]));
  assert.equal(Buffer.from(secret.data["root-cert.pem"], "base64").toString("utf8"), root);
  // The node agent: on every node's network and processes, its node's name from the downward API.
  const ds = JSON.parse(await cluster.kubectl(["get", "daemonset", "amime-node-agent", "-n", "istio-system", "-o", "json"]));
  const pod = ds.spec.template.spec;
  assert.deepEqual([pod.hostNetwork, pod.hostPID, pod.serviceAccountName], [true, true, "amime-node-agent"]);
  assert.deepEqual(pod.containers[0].args, ["node-agent"]);
  assert.deepEqual(pod.containers[0].env, [{ name: "NODE_NAME", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "spec.nodeName" } } }]);
  // Its RBAC, as the API server decides it: pods and Services read, nothing else.
  const can = async (verb: string, what: string): Promise<string> => {
    const r = await runTool(rigBinary("kubectl"), ["--kubeconfig", cluster.kubeconfig, "auth", "can-i", verb, what, "-A", "--as", "system:serviceaccount:istio-system:amime-node-agent"]);
    return r.stdout.trim();
  };
  assert.deepEqual([await can("watch", "pods"), await can("list", "services"), await can("get", "secrets"), await can("update", "pods"), await can("create", "tokenreviews")], ["yes", "yes", "no", "no", "no"]);
  const e = await cluster.apply("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec: {hosts: [reviews]}\n").then(() => null, (x: unknown) => x);
  assert.ok(e instanceof KubectlError, "Istio config must be refused while the webhook cannot be called");
  assert.match(e.stderr, /failed calling webhook "validation\.istio\.io"/);
});

it("uninstall --apply removes everything but Istio's CRDs; --purge removes those too", async () => {
  const r = await amime("uninstall", "--apply", ...target);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await cluster.kubectl(["get", "validatingwebhookconfiguration,mutatingwebhookconfiguration,clusterrole,clusterrolebinding", "-l", "app in (amime,amime-node-agent)", "-o", "name"])).trim(), "");
  assert.match(await cluster.kubectl(["get", "crd", "virtualservices.networking.istio.io", "-o", "name"]), /virtualservices/);
  // The webhook is gone: Istio config is stored again (only the CRD's schema checks it).
  await cluster.apply("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews}\nspec: {hosts: [reviews]}\n");
  const purge = await amime("uninstall", "--apply", "--purge", ...target);
  assert.equal(purge.code, 0, purge.stderr);
  // Deletion is asked for, not waited on (--wait=false): the API server removes each CRD once its
  // resources are gone.
  await cluster.kubectl(["wait", "--for=delete", "crd", "--all", "--timeout=60s"]);
  assert.equal((await cluster.kubectl(["get", "crd", "-o", "name"])).trim(), "");
});
