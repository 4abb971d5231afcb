// `amime up --secret-dir`: an HTTPS Gateway server with `credentialName` on the local mesh's
// ingress gateway. The secret lives in a directory of Kubernetes Secret YAML (namespace
// istio-system, the ingress gateway's); the HTTPS port is mapped to a free local port like the
// HTTP one; curl over HTTPS reaches the app behind a sidecar; a rotated secret is served to the
// next handshake without a restart.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run as runCmd } from "../protocols/harness.ts";
import { makePki, type Pki } from "../protocols/pki.ts";
import { eventually, randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const MINI = join(ROOT, "test", "e2e", "fixtures", "mini");
const HOST = "front.example.test";

function secret(leaf: { cert: string; key: string }): string {
  const b64 = (f: string): string => readFileSync(f).toString("base64");
  return `apiVersion: v1\nkind: Secret\nmetadata: {name: front-cred, namespace: istio-system}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(leaf.cert)}\n  tls.key: ${b64(leaf.key)}\n`;
}

describe("amime up --secret-dir: an HTTPS gateway with credentialName", { timeout: 120_000 }, () => {
  let run: UpRun;
  let pki: Pki;
  let secrets: string;
  let port = 0;

  before(async () => {
    pki = await makePki({ front: [HOST], front2: [HOST] });
    const dir = mkdtempSync(join(tmpdir(), "amime-gw-https-"));
    secrets = join(dir, "secrets");
    mkdirSync(secrets);
    writeFileSync(join(secrets, "front.yaml"), secret(pki.leaf("front")));
    writeFileSync(join(dir, "https.yaml"), `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw-https}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [${HOST}]
    tls: {mode: SIMPLE, credentialName: front-cred}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front-https}
spec:
  hosts: [${HOST}]
  gateways: [gw-https]
  http: [{route: [{destination: {host: front, port: {number: 9080}}}]}]
`);
    run = new UpRun(["-f", MINI, "-f", join(dir, "https.yaml"), "--secret-dir", secrets, "--port-base", String(await randomPortBase())]);
    await run.waitStarted();
    const r = run.amime(["proxy-config", "listeners", "istio-ingressgateway-0", "-n", "istio-system", "-o", "json"]);
    assert.equal(r.status, 0, r.stderr);
    const listeners = JSON.parse(r.stdout) as { name: string; port: number }[];
    port = listeners.find((l) => l.name === "0.0.0.0_8443")?.port ?? 0;
    assert.ok(port > 0, r.stdout);
  });
  after(() => {
    run?.cleanup();
    pki?.cleanup();
  });

  const curl = () => runCmd("curl", ["--silent", "--show-error", "--cacert", pki.ca, "--resolve", `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`], "", 10_000);
  const subject = async () => (await runCmd("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", HOST, "-CAfile", pki.ca], "", 10_000)).stdout;

  it("curl over HTTPS: the gateway serves the secret's certificate and routes to the app", async () => {
    const r = await curl();
    assert.equal(r.code, 0, `${r.stderr}\n${run.output}`);
    assert.match(r.stdout, /^front-0\b/);
  });

  it("a rotated secret is served to the next handshake, no restart", async () => {
    assert.match(await subject(), /subject=CN ?= ?front\n/);
    writeFileSync(join(secrets, ".front.tmp"), secret(pki.leaf("front2")));
    renameSync(join(secrets, ".front.tmp"), join(secrets, "front.yaml"));
    assert.ok(await eventually(async () => /subject=CN ?= ?front2\n/.test(await subject()), 15_000), run.output);
    assert.equal((await curl()).code, 0);
  });
});
