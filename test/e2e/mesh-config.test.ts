// `amime up --mesh-config`: an Istio MeshConfig (here the `istio` ConfigMap) defines a zipkin
// extension provider and a file access log; a Telemetry resource names them, as Istio's docs do.
// A real HTTP collector on port 0 must receive the sidecars' spans, and the access log file must
// get lines. Before MeshConfig support, `providers: [{name: zipkin}]` silently turned tracing off.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually, get, randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const MINI = join(ROOT, "test", "e2e", "fixtures", "mini");

describe("amime up --mesh-config (zipkin provider, file access log)", { timeout: 120_000 }, () => {
  let run: UpRun;
  let collector: Server;
  const spans: { name?: string; kind?: string; localEndpoint?: { serviceName?: string } }[] = [];
  const paths: string[] = [];
  let logFile = "";

  before(async () => {
    collector = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        paths.push(`${req.method} ${req.url}`);
        try {
          spans.push(...(JSON.parse(body) as typeof spans));
        } catch {
          // not a span list: the assertion on `spans` fails
        }
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    const port = (collector.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), "amime-meshcfg-"));
    logFile = join(dir, "access.log");
    writeFileSync(join(dir, "istio-configmap.yaml"), `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    extensionProviders:
    - name: zipkin
      zipkin:
        service: istio-system/127.0.0.1
        port: ${port}
    - name: file
      envoyFileAccessLog:
        path: ${logFile}
`);
    writeFileSync(join(dir, "telemetry.yaml"), `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  tracing:
  - providers: [{name: zipkin}]
    randomSamplingPercentage: 100
  accessLogging:
  - providers: [{name: file}]
`);
    writeFileSync(join(dir, "strict.yaml"), "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n");
    run = new UpRun(["-f", MINI, "-f", join(dir, "telemetry.yaml"), "-f", join(dir, "strict.yaml"), "--mesh-config", join(dir, "istio-configmap.yaml"), "--port-base", String(await randomPortBase())]);
    await run.waitStarted();
  });
  after(async () => {
    run.cleanup();
    await new Promise((r) => collector.close(r));
  });

  it("sends spans to the provider's service:port and writes the provider's access log file", async () => {
    const state = run.state();
    assert.ok(state.ingress);
    const r = await get(`${state.ingress}/call?url=http://back:9080/`);
    assert.equal(r.status, 200, r.body);
    assert.ok(await eventually(async () => spans.some((s) => s.kind === "SERVER" && s.localEndpoint?.serviceName === "back.default"), 15_000), `spans: ${JSON.stringify(spans).slice(0, 500)} paths: ${paths.join(", ")}\n${run.output}`);
    assert.ok(paths.every((p) => p === "POST /api/v2/spans"), paths.join(", "));
    assert.ok(await eventually(async () => existsSync(logFile) && /"GET \/call\?url=/.test(readFileSync(logFile, "utf8")), 15_000), run.output);
  });

  it("the mesh-wide STRICT PeerAuthentication is enforced, so it gets no AMM1014 (the traffic above went sidecar to sidecar over mTLS)", () => {
    assert.doesNotMatch(run.output, /AMM1014\] \(PeerAuthentication/);
  });
});
