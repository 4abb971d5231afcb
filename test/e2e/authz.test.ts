// Istio's "Authorization for HTTP traffic" task on `amime up -f samples/bookinfo`, with the task's
// own YAML (test/fixtures/istio/istio.io-tasks/security/authz-http-bookinfo.yaml): allow-nothing
// → 403 `RBAC: access denied` at productpage; productpage-viewer → the page is served again but
// details and reviews, which allow-nothing still covers, fail (as in Istio's step before their
// viewers). The details, reviews and ratings viewers name the caller's principal, which the
// bookinfo sidecars prove to each other with auto mTLS: productpage reaches details and reviews,
// reviews reaches ratings, and `curl` (another identity) is still denied.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UpState } from "../../src/runtime/local/state-file.ts";
import { eventually, postYaml, randomPortBase, ROOT, UpRun } from "./up-harness.ts";

const TASK = readFileSync(join(ROOT, "test", "fixtures", "istio", "istio.io-tasks", "security", "authz-http-bookinfo.yaml"), "utf8");
/** One document of the task's file, by metadata.name. */
const policy = (name: string): string => {
  const doc = TASK.split(/^---$/m).find((d) => new RegExp(`name: "?${name}"?\\s*$`, "m").test(d));
  assert.ok(doc, name);
  return doc;
};

describe("Istio's Authorization for HTTP traffic on bookinfo", { timeout: 240_000 }, () => {
  let run: UpRun;
  let state: UpState;
  const apply = async (yaml: string): Promise<void> => {
    const r = await postYaml(`${state.controlPlane}/api/v1/apply`, yaml, run.auth());
    assert.equal(r.status, 200, r.body);
  };
  /** `curl` (a sidecar'd workload) → url: "<status> <body>". */
  const curl = (url: string): string => {
    const r = run.amime(["exec", "curl", "--", "curl", "-s", "-m", "10", "-w", "\n%{http_code}", url]);
    assert.equal(r.status, 0, r.stderr);
    const nl = r.stdout.lastIndexOf("\n");
    return `${r.stdout.slice(nl + 1)} ${r.stdout.slice(0, nl)}`;
  };

  before(async () => {
    run = new UpRun(["-f", join(ROOT, "samples", "bookinfo"), "--port-base", String(await randomPortBase())]);
    state = await run.waitStarted(60_000);
  });
  after(() => run.cleanup());

  it("before any policy: productpage 200", async () => {
    assert.ok(await eventually(async () => curl("http://productpage:9080/productpage").startsWith("200 "), 20_000), run.output);
  });

  it("allow-nothing: 403 RBAC: access denied", async () => {
    await apply(policy("allow-nothing"));
    let last = "";
    assert.ok(await eventually(async () => (last = curl("http://productpage:9080/productpage")) === "403 RBAC: access denied", 20_000), last.slice(0, 300));
    assert.equal(curl("http://details:9080/details/0"), "403 RBAC: access denied");
  });

  it("productpage-viewer: the page again (GET), details and reviews still denied behind it", async () => {
    await apply(policy("productpage-viewer"));
    let last = "";
    assert.ok(await eventually(async () => (last = curl("http://productpage:9080/productpage")).startsWith("200 "), 20_000), last.slice(0, 300));
    assert.match(last, /Error fetching product details/);
    assert.match(last, /Error fetching product reviews/);
    assert.equal(curl("http://details:9080/details/0"), "403 RBAC: access denied");
  });

  it("details-viewer, reviews-viewer (productpage's principal): details and reviews on the page, ratings still denied; curl's identity denied", async () => {
    await apply(`${policy("details-viewer")}\n---\n${policy("reviews-viewer")}`);
    let last = "";
    // reviews v2/v3 call ratings, which allow-nothing still covers (v1 shows no ratings at all).
    assert.ok(await eventually(async () => {
      last = curl("http://productpage:9080/productpage");
      return last.startsWith("200 ") && last.includes("Book Details") && !last.includes("Error fetching") && last.includes("Ratings service is currently unavailable");
    }, 30_000), last.slice(0, 600));
    assert.equal(curl("http://details:9080/details/0"), "403 RBAC: access denied");
  });

  it("ratings-viewer (reviews' principal): the stars appear", async () => {
    await apply(policy("ratings-viewer"));
    let last = "";
    assert.ok(await eventually(async () => (last = curl("http://productpage:9080/productpage")).includes('class="stars"'), 30_000), last.slice(0, 600));
    assert.equal(curl("http://ratings:9080/ratings/0"), "403 RBAC: access denied");
  });
});
