// Every manifest under samples/ validates with the CLI, the bookinfo directory declares what the
// demo needs, and the Istio configs are byte-for-byte the fixtures they were copied from.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { promisify } from "node:util";
import { NODE, REPO } from "./sample-process.ts";

const run = promisify(execFile);

async function validate(path: string): Promise<string> {
  const { stdout, stderr } = await run(NODE, ["bin/amime.js", "validate", "-f", path], { cwd: REPO });
  return stdout + stderr;
}

test("every manifest under samples/ validates (exit 0, no errors)", async () => {
  const out = await validate("samples");
  assert.doesNotMatch(out, /ERROR/);
  assert.match(out, /validation succeed: \d+ resources/);
});

test("samples/bookinfo declares the services, workloads, gateway, subsets, tracing and client", async () => {
  const out = await validate("samples/bookinfo");
  assert.doesNotMatch(out, /ERROR|WARNING/);
  const resources = [...out.matchAll(/^(\w+) ([\w-]+\/[\w-]+) \(/gm)].map((m) => `${m[1]} ${m[2]}`).sort();
  assert.deepEqual(resources, [
    "DestinationRule default/details",
    "DestinationRule default/productpage",
    "DestinationRule default/ratings",
    "DestinationRule default/reviews",
    "Gateway default/bookinfo-gateway",
    "Service default/details",
    "Service default/productpage",
    "Service default/ratings",
    "Service default/reviews",
    "Telemetry istio-system/mesh-default",
    "VirtualService default/bookinfo",
    "Workload default/curl",
    "Workload default/details-v1",
    "Workload default/productpage-v1",
    "Workload default/ratings-v1",
    "Workload default/reviews-v1",
    "Workload default/reviews-v2",
    "Workload default/reviews-v3",
  ]);
});

test("samples/httpbin and samples/curl validate together", async () => {
  const { stdout } = await run(NODE, ["bin/amime.js", "validate", "-f", "samples/httpbin", "-f", "samples/curl"], { cwd: REPO });
  assert.match(stdout, /Workload default\/httpbin-v1/);
  assert.match(stdout, /Workload default\/httpbin-v2/);
  assert.match(stdout, /Workload default\/curl/);
});

test("Istio's networking files are copied unchanged", () => {
  const pairs: [string, string][] = [
    ...readdirSync(`${REPO}samples/networking/bookinfo`).map((f): [string, string] => [`samples/networking/bookinfo/${f}`, `test/fixtures/istio/samples/bookinfo/networking/${f}`]),
    ...readdirSync(`${REPO}samples/networking/httpbin`).map((f): [string, string] => [`samples/networking/httpbin/${f}`, `test/fixtures/istio/istio.io-tasks/traffic-management/${f}`]),
  ];
  assert.equal(pairs.length, 11);
  for (const [copy, original] of pairs) assert.equal(readFileSync(`${REPO}${copy}`, "utf8"), readFileSync(`${REPO}${original}`, "utf8"), copy);
});

test("the Workload commands name files that exist", () => {
  const files = ["samples/bookinfo/workloads.yaml", "samples/bookinfo/curl.yaml", "samples/curl/curl.yaml", "samples/httpbin/httpbin.yaml"];
  for (const file of files) {
    const text = readFileSync(`${REPO}${file}`, "utf8");
    const dir = file.replace(/[^/]+$/, "");
    for (const doc of text.split(/^---$/m)) {
      const cmd = /command: \[node, ([^\]]+)\]/.exec(doc)?.[1];
      if (!cmd) continue;
      const workingDir = /workingDir: (\S+)/.exec(doc)?.[1];
      const path = new URL(cmd, new URL(`${workingDir ? `${workingDir}/` : ""}`, `file://${REPO}${dir}`));
      assert.doesNotThrow(() => readFileSync(path), `${file}: ${cmd}`);
    }
  }
});
