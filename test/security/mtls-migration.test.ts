// Istio's "Mutual TLS Migration" task (istio.io tasks/security/authentication/mtls-migration; the
// expected outcomes in test/fixtures/istio/istio.io-tasks/security/mtls-migration.expected.md) on
// `amime up`: httpbin and sleep with sidecars in foo and bar, sleep without one (Istio's
// `sidecar.istio.io/inject: "false"`) in legacy, plus an httpbin without a sidecar in legacy,
// which sidecar'd clients reach in plaintext by per-endpoint auto mTLS. A sidecar'd sleep calls
// `httpbin.<ns>:8000` through its sidecar (amime exec); legacy's sleep has no proxy and dials the
// httpbin instance's endpoint itself, as kube-proxy sends a ClusterIP call to a pod.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, postYaml, randomPortBase, ROOT, UpRun } from "../e2e/up-harness.ts";

const NAMESPACES = ["foo", "bar", "legacy"] as const;
type Ns = (typeof NAMESPACES)[number];

/** httpbin and sleep of one namespace, after Istio's samples/httpbin and samples/sleep (Workloads run the repo's httpbin.ts and curl.ts). */
function namespaceYaml(ns: Ns): string {
  const inject = ns === "legacy" ? `  annotations: {"sidecar.istio.io/inject": "false"}\n` : "";
  return `apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: ${ns}, labels: {app: httpbin, service: httpbin}}
spec:
  ports: [{name: http, port: 8000, targetPort: 8080}]
  selector: {app: httpbin}
---
apiVersion: amime.dev/v1alpha1
kind: Workload
metadata:
  name: httpbin
  namespace: ${ns}
  labels: {app: httpbin, version: v1}
${inject}spec:
  serviceAccount: httpbin
  command: [node, httpbin.ts]
  workingDir: ${join(ROOT, "samples", "httpbin")}
  ports: [{name: http, containerPort: 8080}]
  readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
---
apiVersion: amime.dev/v1alpha1
kind: Workload
metadata:
  name: sleep
  namespace: ${ns}
  labels: {app: sleep}
${inject}spec:
  serviceAccount: sleep
  command: [node, curl.ts]
  workingDir: ${join(ROOT, "samples", "curl")}
`;
}

/** The task's PeerAuthentications (Istio's YAML, applied there with `kubectl apply -n <ns>`): the first for foo, the second mesh-wide. */
const TASK = readFileSync(join(ROOT, "test", "fixtures", "istio", "istio.io-tasks", "security", "mtls-migration.yaml"), "utf8").split(/^---$/m);
const strict = (ns: "foo" | "istio-system"): string => {
  const doc = TASK[ns === "foo" ? 0 : 1] ?? "";
  assert.ok(doc.includes("mode: STRICT"), ns);
  return doc.replace(/^( +)name: default$/m, `$1name: default\n$1namespace: ${ns}`);
};

describe("Istio's Mutual TLS Migration task", { timeout: 240_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const httpbinPort = (ns: Ns): number => {
    const i = state.instances.find((x) => x.namespace === ns && x.workload === "httpbin");
    assert.ok(i?.inboundPort, `httpbin in ${ns}`);
    return i.inboundPort;
  };
  /** `curl http://httpbin.<to>:8000/ip -s -o /dev/null -w "%{http_code}"` from sleep.<from>. */
  const probe = (from: Ns, to: Ns): string => {
    const url = from === "legacy" ? `http://127.0.0.1:${httpbinPort(to)}/ip` : `http://httpbin.${to}:8000/ip`;
    const r = run.amime(["exec", "-n", from, "sleep", "--", "curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", url]);
    return r.stdout.trim();
  };
  /** Every pair, as the task prints them: `sleep.<from> to httpbin.<to>: <code>`. */
  const table = (): string[] => NAMESPACES.flatMap((from) => NAMESPACES.map((to) => `sleep.${from} to httpbin.${to}: ${probe(from, to)}`));
  const expected = (failing: string[]): string[] => NAMESPACES.flatMap((from) => NAMESPACES.map((to) => `sleep.${from} to httpbin.${to}: ${failing.includes(`${from}->${to}`) ? "000" : "200"}`));
  const apply = async (yaml: string): Promise<void> => {
    const r = await postYaml(`${state.controlPlane}/api/v1/apply`, yaml, run.auth());
    assert.equal(r.status, 200, r.body);
  };
  const settlesTo = async (want: string[]): Promise<void> => {
    let last: string[] = [];
    assert.ok(await eventually(async () => JSON.stringify((last = table())) === JSON.stringify(want), 30_000), last.join("\n"));
  };

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), "amime-mtls-migration-"));
    writeFileSync(join(dir, "mesh.yaml"), NAMESPACES.map(namespaceYaml).join("---\n"));
    run = new UpRun(["-f", join(dir, "mesh.yaml"), "--port-base", String(await randomPortBase())], dir);
    state = await run.waitStarted(90_000);
  });
  after(() => run?.cleanup());

  it("legacy runs without sidecars: no sidecar process, its endpoint is the app's own port", () => {
    for (const i of state.instances) {
      if (i.namespace === "legacy") {
        assert.equal(i.sidecarPid, null, i.name);
        assert.equal(i.sidecar, false, i.name);
      } else assert.notEqual(i.sidecarPid, null, i.name);
    }
    assert.equal(httpbinPort("legacy"), state.instances.find((x) => x.namespace === "legacy" && x.workload === "httpbin")?.appPort);
  });

  it("no policies (auto mTLS, PERMISSIVE): every pair 200, sidecar'd clients reach legacy's httpbin in plaintext", async () => {
    await settlesTo(expected([]));
  });

  it("PeerAuthentication STRICT in foo: legacy -> foo fails (connection reset, 000), every other pair 200", async () => {
    await apply(strict("foo"));
    await settlesTo(expected(["legacy->foo"]));
  });

  it("STRICT mesh-wide (istio-system): legacy -> foo and legacy -> bar fail, legacy -> legacy and every sidecar'd pair 200", async () => {
    await apply(strict("istio-system"));
    await settlesTo(expected(["legacy->foo", "legacy->bar"]));
  });
});
